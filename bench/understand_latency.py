"""Search latency with and without question understanding, interleaved in one run.

Usage: python bench/understand_latency.py [--passages 100000] [--queries 200]

One library (the founding corpus plus synthetic passages, as bench/speed.py builds it); each
query is asked twice, in alternating order: through the index as knowledge/retrieval.py now
searches it (the question's reading as evidence and pseudo-relevance feedback;
knowledge/understand) and through the same path without them (the hybrid before issue 13).
Alternating keeps a busy machine's noise out of the difference. Prints median and p95 of
both, and of the reading alone (interpret + evidence).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from speed import _queries, synthesize  # noqa: E402

from knowledge.index.types import Filters  # noqa: E402
from knowledge.service import KnowledgeService  # noqa: E402
from knowledge.settings import Settings  # noqa: E402
from knowledge.text.tokens import tokenize  # noqa: E402
from knowledge.understand import QuestionReader  # noqa: E402


def _summary(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {"median_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[int(0.95 * len(times)) - 1], 2)}


def main() -> int:
    """Build the library, time both paths, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), _env_file=None)  # type: ignore[call-arg]
        if args.passages:
            synthesize(settings, args.passages)
        service = KnowledgeService.open(settings)
        index, rule = service.index, service.retriever.no_match_rule
        reader = QuestionReader(service.library.read)
        top, floor = settings.search_default_top, settings.hit_min_similarity

        def plain(query: str) -> None:  # the search before issue 13
            vector = service.embedder.embed([query])[0]
            index.search(tokenize(query), vector, top=top, filters=Filters(),
                         min_similarity=floor, no_match=rule)

        def understood(query: str) -> None:  # as knowledge/retrieval.py searches now
            reading = reader.interpret(query, version=index.version)
            evidence = reader.evidence(reading, version=index.version)
            vector = service.embedder.embed([query])[0]
            index.search(tokenize(query), vector, top=top, filters=Filters(),
                         min_similarity=floor, no_match=rule, evidence=evidence, feedback=True)

        queries = _queries(args.queries)
        for q in queries[:10]:
            plain(q)
            understood(q)
        times: dict[str, list[float]] = {"plain": [], "understood": [], "reading": []}
        for i, q in enumerate(queries):
            order = (("plain", plain), ("understood", understood))
            for name, fn in order if i % 2 == 0 else order[::-1]:
                t = time.perf_counter()
                fn(q)
                times[name].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            reader.evidence(reader.interpret(q, version=index.version), version=index.version)
            times["reading"].append((time.perf_counter() - t) * 1000)
        print(json.dumps({"passages": len(index), "queries": len(queries),
                          **{name: _summary(t) for name, t in times.items()}}))
        service.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

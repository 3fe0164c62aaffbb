"""Retrieval quality: hit@1, hit@3 and MRR for BM25 alone, dense alone and the hybrid.

Usage: python bench/retrieval_eval.py [--questions bench/questions.jsonl] [--json]

A fresh library (temporary SQLite, founding corpus from the shipped prebuilt index, the
configured embedding model) answers each question; a question counts as answered at rank r
when the r-th passage comes from the expected article and contains the expected phrase.
Also prints the no-match calibration: best-passage similarity for on-topic questions versus
bench/offtopic.txt, and the share of each side the configured threshold keeps.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from knowledge.index.hybrid import Filters  # noqa: E402
from knowledge.service import KnowledgeService  # noqa: E402
from knowledge.settings import Settings  # noqa: E402
from knowledge.text.tokens import tokenize  # noqa: E402

DEPTH = 10


def evaluate(service: KnowledgeService, questions: list[dict]) -> dict[str, dict[str, float]]:
    """Metrics per ranking mode."""
    slugs = {a.id: a for a in service.index.articles.values()}
    slug_of = {}
    with service.sessions() as session:
        from sqlalchemy import select

        from knowledge.store.tables import ArticleRow

        slug_of = dict(session.execute(select(ArticleRow.id, ArticleRow.slug)).all())
    assert slugs
    results: dict[str, dict[str, float]] = {}
    vectors = service.embedder.embed([q["question"] for q in questions])
    for mode in ("bm25", "dense", "hybrid"):
        ranks: list[int | None] = []
        for q, vec in zip(questions, vectors, strict=True):
            ranked = service.index.search(tokenize(q["question"]), vec, top=DEPTH,
                                          filters=Filters(), mode=mode)
            rank = next((i + 1 for i, r in enumerate(ranked)
                         if slug_of.get(r.article_id) == q["article"]
                         and q["must_contain"] in r.text), None)
            ranks.append(rank)
        n = len(ranks)
        results[mode] = {
            "hit@1": sum(1 for r in ranks if r == 1) / n,
            "hit@3": sum(1 for r in ranks if r and r <= 3) / n,
            "mrr": sum(1 / r for r in ranks if r) / n,
        }
    return results


def calibration(service: KnowledgeService, on_topic: list[str], off_topic: list[str]
                ) -> dict[str, float]:
    """Best-passage similarities on both sides of the no-match threshold."""
    def best(queries: list[str]) -> list[float]:
        vecs = service.embedder.embed(queries)
        return [service.index.best_similarity(v) for v in vecs]

    def answered(queries: list[str]) -> list[bool]:
        vecs = service.embedder.embed(queries)
        return [service.is_answerable(tokenize(q), v, Filters()) for q, v in zip(queries, vecs,
                                                                                 strict=True)]

    on, off = best(on_topic), best(off_topic)
    return {
        "threshold": service.settings.no_match_threshold,
        "lexical_floor": service.settings.no_match_lexical_floor,
        "on_topic_min": min(on), "on_topic_median": statistics.median(on),
        "off_topic_max": max(off), "off_topic_median": statistics.median(off),
        "on_topic_answered": sum(answered(on_topic)) / len(on_topic),
        "off_topic_rejected": 1 - sum(answered(off_topic)) / len(off_topic),
    }


def main() -> int:
    """Run the evaluation and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=HERE / "questions.jsonl")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    questions = [json.loads(line) for line in args.questions.read_text().splitlines() if line]
    off_topic = [q for q in (HERE / "offtopic.txt").read_text().splitlines() if q.strip()]
    short = [q for q in (HERE / "short_queries.txt").read_text().splitlines() if q.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), _env_file=None)  # type: ignore[call-arg]
        service = KnowledgeService.open_sync(settings)
        metrics = evaluate(service, questions)
        calib = calibration(service, [q["question"] for q in questions] + short, off_topic)
        service.close()
    if args.json:
        print(json.dumps({"questions": len(questions), "metrics": metrics,
                          "calibration": calib}, indent=2))
        return 0
    print(f"{len(questions)} questions, model {settings.embedding_model}, depth {DEPTH}\n")
    print("| ranking | hit@1 | hit@3 | MRR |")
    print("|---|---|---|---|")
    for mode, m in metrics.items():
        print(f"| {mode} | {m['hit@1']:.3f} | {m['hit@3']:.3f} | {m['mrr']:.3f} |")
    print("\nno-match calibration (best-passage cosine):")
    for key, value in calib.items():
        print(f"  {key}: {value:.3f}")
    _ = np
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

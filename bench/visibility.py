"""Search latency with and without the per-server visibility filter, interleaved in one run.

Usage: python bench/visibility.py [--passages 100000] [--servers 50] [--queries 200]

One library (the founding corpus plus synthetic passages, as bench/speed.py builds it) whose
synthetic articles reached servers the way a deployment's would: a fifth are the operator's
library, the rest each reached one of the servers, one in ten also a second one
(knowledge/visibility.py, the article_reach table). Each query is ranked twice, in
alternating order, the way knowledge/retrieval.py ranks it (evidence and feedback; the query
vector embedded once, outside the timing, so only the index's work is compared): without a
filter (the command line's view) and as one of the servers sees the library (a different
server each query, so every server's mask is in use). Prints the median and p95 of both, the
share of passages a server sees, and the time to build one server's mask the first time
(after that it is cached and extended as passages arrive).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
from speed import _queries, synthesize  # noqa: E402

from knowledge.index.types import Filters  # noqa: E402
from knowledge.service import KnowledgeService  # noqa: E402
from knowledge.settings import Settings  # noqa: E402
from knowledge.store.db import make_engine  # noqa: E402
from knowledge.store.tables import OPERATOR_GUILD, ArticleReachRow, ArticleRow  # noqa: E402
from knowledge.text.tokens import tokenize  # noqa: E402
from knowledge.understand import QuestionReader  # noqa: E402

FIRST_GUILD = 900_000_000_000_000_000  # Discord-sized ids


def _summary(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {"median_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[int(0.95 * len(times)) - 1], 2)}


def spread_reach(settings: Settings, servers: int, seed: int = 11) -> None:
    """Give the synthetic articles (no reach yet) a reach as a deployment's would have."""
    from sqlalchemy import insert, select
    from sqlalchemy.orm import Session

    rng = random.Random(seed)
    engine = make_engine(settings.resolved_database_url)
    with Session(engine) as session, session.begin():
        reached = set(session.scalars(select(ArticleReachRow.article_id)))
        rows = []
        for article_id in session.scalars(select(ArticleRow.id).order_by(ArticleRow.id)):
            if article_id in reached:
                continue
            if rng.random() < 0.2:
                rows.append({"article_id": article_id, "guild_id": OPERATOR_GUILD})
                continue
            first = rng.randrange(servers)
            rows.append({"article_id": article_id, "guild_id": FIRST_GUILD + first})
            if rng.random() < 0.1:
                second = (first + 1 + rng.randrange(servers - 1)) % servers
                rows.append({"article_id": article_id, "guild_id": FIRST_GUILD + second})
        session.execute(insert(ArticleReachRow), rows)
    engine.dispose()


def main() -> int:
    """Build the library, time both paths, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--servers", type=int, default=50)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.model_validate({"data_dir": Path(tmp), "_env_file": None})
        if args.passages:
            synthesize(settings, args.passages)
        service = KnowledgeService.open(settings)
        spread_reach(settings, args.servers)
        service.refresh()  # the index picks up the reach
        index, rule = service.index, service.retriever.no_match_rule
        reader = QuestionReader(service.library.read)
        top, floor = settings.search_default_top, settings.hit_min_similarity
        guilds = [FIRST_GUILD + i for i in range(args.servers)]

        def ranked(query: str, vector: np.ndarray, filters: Filters) -> None:
            reading = reader.interpret(query, version=index.version)
            evidence = reader.evidence(reading, version=index.version)
            index.search(tokenize(query), vector, top=top, filters=filters,
                         min_similarity=floor, no_match=rule, evidence=evidence, feedback=True)

        first_mask = []
        for guild in guilds:  # each server's mask, built the first time it searches
            t = time.perf_counter()
            index._visible_mask(guild)  # the cost being measured (private on purpose)
            first_mask.append((time.perf_counter() - t) * 1000)
        seen = sorted(len(index.visible_article_ids(g)) for g in guilds)
        queries = _queries(args.queries)
        vectors = [service.embedder.embed_query(q) for q in queries]
        for q, v in zip(queries[:10], vectors[:10], strict=True):
            ranked(q, v, Filters())
            ranked(q, v, Filters(visible_to=guilds[0]))
        times: dict[str, list[float]] = {"no_filter": [], "server_filter": []}
        for i, (q, v) in enumerate(zip(queries, vectors, strict=True)):
            arms = (("no_filter", Filters()),
                    ("server_filter", Filters(visible_to=guilds[i % len(guilds)])))
            for name, filters in arms if i % 2 == 0 else arms[::-1]:
                t = time.perf_counter()
                ranked(q, v, filters)
                times[name].append((time.perf_counter() - t) * 1000)
        print(json.dumps({
            "passages": len(index), "articles": len(index.articles), "servers": args.servers,
            "queries": len(queries),
            "articles_a_server_sees": {"min": seen[0], "median": seen[len(seen) // 2],
                                       "max": seen[-1]},
            "first_mask_ms": _summary(first_mask),
            **{name: _summary(t) for name, t in times.items()}}))
        service.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

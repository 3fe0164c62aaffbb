"""The near-duplicate check's cost as the library grows (issue 11: bounded ingest work).

Usage:
  python bench/near_duplicates.py [--articles 1000 10000 50000] [--checks 200]
  python bench/near_duplicates.py --old-tree /tmp/old      # the code before too, same run
  (--postgres URL, or BENCH_POSTGRES_URL: also on a fresh database on that server)

For each size, a fresh library (SQLite in a temporary DATA_DIR, schema by the tree's own
migrations) gets that many stored articles with random 64-bit fingerprints (rows written
directly: only the fingerprint matters to the check), then `find_duplicate_with_reason` runs
for `--checks` new articles (random fingerprints; none is a copy, the usual case) and for one
near-copy of a stored article (3 bits off, which must be found). Each tree runs in its own
process; the rows print the median and p95 per check in milliseconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def child(articles: int, checks: int, url: str) -> dict:
    """(in the tree's process) Store `articles` fingerprints, time `checks` checks."""
    from sqlalchemy import insert

    from knowledge.corpus import founding_document, founding_metadata
    from knowledge.ingest import find_duplicate_with_reason, prepare
    from knowledge.store.db import make_engine, make_sessionmaker, migrate
    from knowledge.store.tables import ArticleRow
    from knowledge.text.simhash import to_signed

    banded = hasattr(ArticleRow, "simhash_band0")
    rng = random.Random(articles)
    engine = make_engine(url)
    migrate(engine)
    prints = [rng.getrandbits(64) for _ in range(articles)]
    rows = []
    for i, value in enumerate(prints):
        row = {"title": f"a{i}", "language": "en", "content_hash": f"h{i}", "text": "",
               "original_text": "", "simhash": to_signed(value), "announce": False,
               "extra": {}}
        if banded:
            from knowledge.text.simhash import band_columns  # the new tree only

            row.update(band_columns(value))
        rows.append(row)
    with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(insert(ArticleRow), rows[start:start + 5000])
    prepared = prepare(founding_document(founding_metadata()[0]))
    document = dataclasses.replace(prepared.document, canonical_url=None)
    sessions = make_sessionmaker(engine)
    times = []
    with sessions() as session:
        for _ in range(checks):
            probe = dataclasses.replace(prepared, content_hash="new", document=document,
                                        simhash=rng.getrandbits(64))
            t = time.perf_counter()
            find_duplicate_with_reason(session, probe)
            times.append(time.perf_counter() - t)
        target = prints[articles // 2]
        near = target ^ (1 << 1) ^ (1 << 30) ^ (1 << 50)
        found = find_duplicate_with_reason(session, dataclasses.replace(
            prepared, content_hash="new", document=document, simhash=near))
    engine.dispose()
    ordered = sorted(times)
    return {"articles": articles, "banded": banded,
            "median_ms": round(1000 * statistics.median(times), 3),
            "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 3),
            "near_copy_found": found is not None and found[1] == "near_duplicate"}


def run_tree(tree: Path, articles: int, checks: int, postgres: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        if postgres:
            sys.path.insert(0, str(HERE.parent))
            from tests.bot.launch import fresh_postgres_database

            with fresh_postgres_database(postgres) as url:
                return _spawn(tree, articles, checks, url)
        return _spawn(tree, articles, checks, url)


def _spawn(tree: Path, articles: int, checks: int, url: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child",
                          str(articles), str(checks), url], env=env, cwd=tree,
                         capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--checks", type=int, default=200)
    parser.add_argument("--old-tree", default="")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL", ""))
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        articles, checks, url = args.child
        print(json.dumps(child(int(articles), int(checks), url)))
        return 0
    trees = ([("old", Path(args.old_tree).resolve())] if args.old_tree else []) + \
        [("new", HERE.parent)]
    backends = [("SQLite", "")] + ([("PostgreSQL", args.postgres)] if args.postgres else [])
    print("| database | code | stored articles | check median ms | p95 ms | near-copy found |")
    print("|---|---|---|---|---|---|")
    for name, postgres in backends:
        for articles in args.articles:
            for label, tree in trees:
                row = run_tree(tree, articles, args.checks, postgres)
                print(f"| {name} | {label} | {articles:,} | {row['median_ms']} | "
                      f"{row['p95_ms']} | {row['near_copy_found']} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

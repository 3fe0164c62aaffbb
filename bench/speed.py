"""Speed and memory: query latency, start-up, ingest throughput, peak RSS.

Usage:
  python bench/speed.py latency  --passages 100000   # synthetic corpus of that size (0 = founding only)
  python bench/speed.py startup                      # process start to ready, import and load apart
  python bench/speed.py ingest   --articles 60       # ingest vs raw model.encode on the same texts

Synthetic passages are sentences drawn from the founding corpus's vocabulary with random unit
vectors (passage and sentence) written straight to the database: what is measured is the index,
not how long the model takes to embed 100,000 passages. Queries are real questions, embedded by
the real model, so latency includes query encoding.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def peak_rss_mb() -> float:
    """Peak resident set size of this process, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _queries(n: int) -> list[str]:
    base = [json.loads(line)["question"] for line in (HERE / "questions.jsonl").read_text()
            .splitlines() if line]
    base += [q for q in (HERE / "short_queries.txt").read_text().splitlines() if q.strip()]
    base += [q for q in (HERE / "offtopic.txt").read_text().splitlines() if q.strip()]
    # Distinct strings: a repeated string would measure nothing but warm caches.
    framings = ["{}", "Tell me: {}", "In the commentary, {}", "Briefly, {}", "Experts on this: {}"]
    out = [frame.format(q) for frame in framings for q in base]
    return out[:n]


def synthesize(settings, passages: int, seed: int = 7) -> None:  # type: ignore[no-untyped-def]
    """Write `passages` synthetic passages (in 8-passage articles) straight into the database."""
    import numpy as np
    from sqlalchemy import insert

    from knowledge.corpus import FOUNDING_DIR
    from knowledge.store.db import make_engine, migrate
    from knowledge.store.tables import ArticleRow, PassageRow
    from knowledge.text.split import split_sentences

    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    corpus_sentences = [s.text for f in sorted(FOUNDING_DIR.glob("*.txt"))
                        for s in split_sentences(f.read_text().replace("\n", " "))
                        if len(s.text) > 40]
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    # Synthetic rows are written straight to the tables: mark them as already enriched (people,
    # meeting links), or the first open would run the extractors over all of them.
    from knowledge.enrich import ENRICHMENT_VERSION, STATE_KEY
    from knowledge.store.tables import IndexState

    with engine.begin() as conn:
        conn.execute(insert(IndexState), [{"key": STATE_KEY, "value": ENRICHMENT_VERSION}])
    per_article = 8
    now = dt.datetime.now(dt.UTC)
    dim = 384
    with engine.begin() as conn:
        for start in range(0, passages, per_article * 500):
            articles, rows = [], []
            base_id = start // per_article + 1000
            for a in range(base_id, base_id + 500):
                if (a - 1000) * per_article >= passages:
                    break
                articles.append({
                    "id": a, "title": f"Synthetic commentary {a}", "publisher": f"Outlet {a % 40}",
                    "published_iso": f"{2010 + a % 15}-{1 + a % 12:02d}",
                    "published_precision": "month",
                    "published_start": dt.date(2010 + a % 15, 1 + a % 12, 1),
                    "published_end": dt.date(2010 + a % 15, 1 + a % 12, 28),
                    "language": "en", "content_hash": f"synthetic-{a}", "text": "", "original_text": "",
                    "added_at": now, "announce": False, "extra": {},
                })
                for o in range(per_article):
                    sents = rng.sample(corpus_sentences, 4)
                    text = " ".join(sents)
                    spans, pos = [], 0
                    for s in sents:
                        spans.append([pos, pos + len(s)])
                        pos += len(s) + 1
                    vec = nprng.standard_normal(dim).astype(np.float32)
                    vec /= np.linalg.norm(vec)
                    sv = nprng.standard_normal((4, dim)).astype(np.float32)
                    sv /= np.linalg.norm(sv, axis=1, keepdims=True)
                    rows.append({"article_id": a, "ordinal": o, "text": text, "char_start": 0,
                                 "char_end": len(text), "embedding": vec.tobytes(),
                                 "sentence_spans": spans,
                                 "sentence_embeddings": sv.astype(np.float16).tobytes()})
            conn.execute(insert(ArticleRow), articles)
            conn.execute(insert(PassageRow), rows[: passages - start])
    engine.dispose()


def cmd_latency(args: argparse.Namespace) -> None:
    """Median and p95 of service.search over N queries, model warm."""
    from knowledge.service import KnowledgeService, SearchRequest
    from knowledge.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), _env_file=None)  # type: ignore[call-arg]
        if args.passages:
            t = time.perf_counter()
            synthesize(settings, args.passages)
            print(f"synthesised {args.passages} passages in {time.perf_counter() - t:.1f} s",
                  file=sys.stderr)
        t = time.perf_counter()
        service = KnowledgeService.open_sync(settings)
        load = time.perf_counter() - t
        service.embedder.embed(["warm up"])  # type: ignore[attr-defined]
        queries = _queries(args.queries)
        for q in queries[:10]:
            service.search_sync(SearchRequest(q))
        times = []
        for q in queries:
            t = time.perf_counter()
            service.search_sync(SearchRequest(q))
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        result = {
            "passages": len(service.index), "queries": len(times),
            "median_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[int(0.95 * len(times)) - 1], 2),
            "max_ms": round(times[-1], 2), "open_s": round(load, 2),
            "peak_rss_mb": round(peak_rss_mb()),
        }
        print(json.dumps(result))


def cmd_startup(args: argparse.Namespace) -> None:
    """Time from process start to the first answer, import and load apart (fresh processes)."""
    code = r"""
import time, json, sys
t0 = time.perf_counter()
import knowledge.service as ks
from knowledge.settings import Settings
t1 = time.perf_counter()
s = Settings(data_dir=sys.argv[1], _env_file=None)
svc = ks.KnowledgeService.open_sync(s)
t2 = time.perf_counter()
svc.embedder.load()
t3 = time.perf_counter()
hits = svc.search_sync(ks.SearchRequest("what did the experts expect from the Moscow summit"))
t4 = time.perf_counter()
import resource
print(json.dumps({"import_s": round(t1 - t0, 2), "open_index_s": round(t2 - t1, 2),
                  "model_load_s": round(t3 - t2, 2), "first_query_s": round(t4 - t3, 3),
                  "hits": len(hits),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""
    with tempfile.TemporaryDirectory() as tmp:
        for label in ("fresh install (seeds from the prebuilt index)", "warm restart"):
            t = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", code, tmp], capture_output=True,
                                 text=True, check=True, cwd=HERE.parent)
            total = time.perf_counter() - t
            data = json.loads(out.stdout.strip().splitlines()[-1])
            data["process_total_s"] = round(total, 2)
            print(json.dumps({"case": label, **data}))


def cmd_ingest(args: argparse.Namespace) -> None:
    """Ingest throughput (passages/s) next to raw model.encode on exactly the same texts."""
    from knowledge.ingest import Document, prepare
    from knowledge.service import KnowledgeService
    from knowledge.settings import Settings

    rng = random.Random(3)
    from knowledge.corpus import FOUNDING_DIR
    from knowledge.text.split import split_sentences

    sentences = [s.text for f in sorted(FOUNDING_DIR.glob("*.txt"))
                 for s in split_sentences(f.read_text().replace("\n", " ")) if len(s.text) > 40]
    docs = []
    for i in range(args.articles):
        paragraphs = ["\n".join(rng.sample(sentences, 4)).replace("\n", " ") for _ in range(6)]
        docs.append(Document(f"Article number {i}.\n\n" + "\n\n".join(paragraphs),
                             title=f"Benchmark article {i}", publisher="Bench"))
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), _env_file=None)  # type: ignore[call-arg]
        service = KnowledgeService.open_sync(settings)
        embedder = service.embedder
        embedder.embed(["warm up"])  # type: ignore[attr-defined]
        prepared = [prepare(d) for d in docs]
        passage_texts, sentence_texts = [], []
        for p in prepared:
            passage_texts += p.embedding_texts()
            sentence_texts += [p.text[a:b] for a, b in p.unique_sentences()]
        texts = passage_texts + sentence_texts
        passages = sum(len(p.passages) for p in prepared)
        # Raw: the model alone on exactly the texts ingestion embeds, in the same two calls;
        # timed before and after the ingest (best of the two) so neither side pays warm-up.
        def raw_encode() -> float:
            t = time.perf_counter()
            embedder.embed(passage_texts)
            embedder.embed(sentence_texts)
            return time.perf_counter() - t

        embedder.embed(passage_texts[:64] + sentence_texts[:64])  # warm-up
        raw_before = raw_encode()
        t = time.perf_counter()
        results = service.add_documents_sync(docs)
        ingest = time.perf_counter() - t
        raw = min(raw_before, raw_encode())
        assert all(r.status == "added" for r in results), results
    print(json.dumps({
        "articles": len(docs), "passages": passages, "texts_embedded": len(texts),
        "raw_encode_s": round(raw, 2), "ingest_s": round(ingest, 2),
        "raw_passages_per_s": round(passages / raw, 1),
        "ingest_passages_per_s": round(passages / ingest, 1),
        "ingest_vs_raw": round(raw / ingest, 3), "peak_rss_mb": round(peak_rss_mb()),
    }))


def main() -> None:
    """Parse and run one benchmark."""
    parser = argparse.ArgumentParser(description="Summit Desk speed benchmarks")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("latency")
    p.add_argument("--passages", type=int, default=100_000)
    p.add_argument("--queries", type=int, default=200)
    p.set_defaults(fn=cmd_latency)
    p = sub.add_parser("startup")
    p.set_defaults(fn=cmd_startup)
    p = sub.add_parser("ingest")
    p.add_argument("--articles", type=int, default=60)
    p.set_defaults(fn=cmd_ingest)
    args = parser.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()

"""Speed and memory: query latency, start-up, ingest throughput, peak RSS.

Usage:
  python bench/speed.py latency  --passages 100000   # synthetic corpus of that size (0 = founding only)
  python bench/speed.py latency  --passages 100000 --compare-cache   # open/RSS/search without and
                                                     # with the index cache, fresh processes
  python bench/speed.py startup                      # process start to ready, import and load apart
  python bench/speed.py ingest   --articles 60       # ingest vs raw model.encode on the same texts
  python bench/speed.py ingest   --old-tree DIR [--rounds 3] [--unique-sentences]
                                                     # old code and new, alternately, fresh processes
  python bench/speed.py compare  [--old-tree DIR]    # torch vs ONNX embedder; CLI, bot check, bot
                                                     # start (DIR: the code before, side by side)
  python bench/speed.py compare --old-tree DIR --skip-embedders --repeat 5
                                                     # the process rows only, 5 turns each, medians

Synthetic passages are sentences drawn from the founding corpus's vocabulary with random unit
vectors (passage and sentence) written straight to the database: what is measured is the index,
not how long the model takes to embed 100,000 passages. Queries are real questions, embedded by
the real model, so latency includes query encoding.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from knowledge.service import KnowledgeService
    from knowledge.settings import Settings

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
    from knowledge.store.tables import IndexStateRow

    with engine.begin() as conn:
        conn.execute(insert(IndexStateRow), [{"key": STATE_KEY, "value": ENRICHMENT_VERSION}])
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


def _rss_mb() -> float:
    """Current resident set size of this process, in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cmd_latency(args: argparse.Namespace) -> None:
    """Median and p95 of service.search over N queries, model warm; with --compare-cache, the
    same in three fresh processes on one synthesised library: INDEX_CACHE=off, the first open
    with the cache on (full load, writes the cache) and a second open (loads the cache)."""
    from knowledge.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), _env_file=None)  # type: ignore[call-arg]
        if args.passages:
            t = time.perf_counter()
            synthesize(settings, args.passages)
            print(f"synthesised {args.passages} passages in {time.perf_counter() - t:.1f} s",
                  file=sys.stderr)
        if not args.compare_cache:
            _latency(settings, args.queries, compare_dense=args.compare_dense)
            return
        # Seed the founding corpus once, so every measured open below finds the same library.
        base = {**os.environ, "DATA_DIR": tmp, "INDEX_CACHE": "off"}
        subprocess.run([sys.executable, str(Path(__file__)), "latency-run", "--queries", "0"],
                       env=base, check=True, stdout=subprocess.DEVNULL)
        runs = [("INDEX_CACHE=off", "off"), ("cache on, first open (writes it)", "on"),
                ("cache on, next open (loads it)", "on"), ("INDEX_CACHE=off again", "off"),
                ("cache on again", "on")]
        for label, flag in runs:
            out = subprocess.run(
                [sys.executable, str(Path(__file__)), "latency-run", "--queries",
                 str(args.queries)], env={**base, "INDEX_CACHE": flag}, check=True,
                capture_output=True, text=True).stdout
            print(json.dumps({"run": label, **json.loads(out.strip().splitlines()[-1])}))
        print(json.dumps({"load_average": os.getloadavg()}))


def cmd_latency_run(args: argparse.Namespace) -> None:
    """(used by latency --compare-cache) one process: open DATA_DIR's library, then search."""
    from knowledge.settings import load_settings

    _latency(load_settings(), args.queries)


def _latency(settings: Settings, n_queries: int, compare_dense: bool = False) -> None:
    """Open the library (timed), then time `n_queries` searches; prints one JSON line.

    `compare_dense`: every question is searched twice, alternately first and second, with the
    dense side as before (one float32 product over every passage vector) and with the int8
    estimate plus exact rescoring (knowledge/index/dense.py); both rows are printed."""
    from knowledge.retrieval import SearchRequest
    from knowledge.service import KnowledgeService

    t = time.perf_counter()
    service = KnowledgeService.open(settings)
    load = time.perf_counter() - t
    rss_open = _rss_mb()
    if not n_queries:
        service.close()
        return
    service.embedder.embed(["warm up"])  # type: ignore[attr-defined]
    queries = _queries(n_queries)
    for q in queries[:10]:
        service.retriever.search(SearchRequest(q, guild_id=None))
    if compare_dense:
        _compare_dense(service, queries)
    times = []
    for q in queries:
        t = time.perf_counter()
        service.retriever.search(SearchRequest(q, guild_id=None))
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    result = {
        "passages": len(service.index), "queries": len(times),
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(0.95 * len(times)) - 1], 2),
        "max_ms": round(times[-1], 2), "open_s": round(load, 2),
        "rss_after_open_mb": round(rss_open), "rss_after_search_mb": round(_rss_mb()),
        "peak_rss_mb": round(peak_rss_mb()),
    }
    t = time.perf_counter()
    service.close()
    result["close_s"] = round(time.perf_counter() - t, 2)
    print(json.dumps(result))


def _compare_dense(service: KnowledgeService, queries: list[str]) -> None:
    """Each question through `retriever.search` with the float32-only dense side and with the
    int8 one, alternating which goes first; prints median/p95 of both and how many answers
    were the same (passages, order, scores up to float32 rounding)."""
    from knowledge.index import dense
    from knowledge.retrieval import SearchRequest

    int8_from = dense.QUANTIZED_FROM
    times: dict[str, list[float]] = {"float32": [], "int8": []}
    same = 0
    for i, q in enumerate(queries):
        answers = {}
        for name in (("float32", "int8") if i % 2 == 0 else ("int8", "float32")):
            dense.QUANTIZED_FROM = int8_from if name == "int8" else 1 << 62
            service.retriever.forget_questions()  # both pay the question's embedding
            t = time.perf_counter()
            hits = service.retriever.search(SearchRequest(q, guild_id=None))
            times[name].append((time.perf_counter() - t) * 1000)
            answers[name] = [(h.passage_id, h.score) for h in hits]
        # the same passages in the same order, scores equal up to float32 rounding (a cosine
        # from a product over a few rows may differ from the full product in its last bit)
        a, b = answers["float32"], answers["int8"]
        same += [p for p, _ in a] == [p for p, _ in b] and all(
            abs(x - y) <= 1e-6 for (_, x), (_, y) in zip(a, b, strict=True))
    dense.QUANTIZED_FROM = int8_from
    for name, ts in times.items():
        ts.sort()
        print(json.dumps({"dense": name, "queries": len(ts),
                          "median_ms": round(statistics.median(ts), 2),
                          "p95_ms": round(ts[int(0.95 * len(ts)) - 1], 2)}))
    print(json.dumps({"identical_answers": same, "of": len(queries),
                      "load_average": os.getloadavg()}))


def cmd_autocomplete(args: argparse.Namespace) -> None:
    """Per keystroke of typing a title or a publisher in DATA_DIR's library (a server's view):
    the choices as the bot made them before (every article summary from the database, then
    filtered) and from the index's memory (`article_choices`, `publisher_choices`)."""
    from knowledge.service import KnowledgeService
    from knowledge.settings import load_settings

    service = KnowledgeService.open(load_settings())
    service.search("summit", guild_id=None)  # the index is loaded
    viewer = 1  # a server with no uploads of its own: the operator's library

    def old_titles(typed: str) -> object:
        return [a for a in service.list_articles(guild_id=viewer)
                if typed in (a.title or "").casefold()][:25]

    def old_publishers(typed: str) -> object:
        return sorted({a.publisher for a in service.list_articles(guild_id=viewer)
                       if a.publisher and typed in a.publisher.casefold()})

    rows = [("titles, before: every summary from the database", old_titles),
            ("titles: article_choices", lambda t: service.article_choices(t, guild_id=viewer)),
            ("publishers, before: every summary from the database", old_publishers),
            ("publishers: publisher_choices",
             lambda t: service.publisher_choices(t, guild_id=viewer))]
    word = args.word.casefold()
    typed = [word[:i] for i in range(len(word) + 1)]
    times: dict[str, list[float]] = {name: [] for name, _ in rows}
    for _ in range(args.rounds):  # the two ways take turns
        for name, fn in rows:
            for prefix in typed:
                t = time.perf_counter()
                fn(prefix)
                times[name].append((time.perf_counter() - t) * 1000)
    for name, ts in times.items():
        print(json.dumps({"choices": name, "articles": len(service.index.articles),
                          "keystrokes": len(ts), "median_ms": round(statistics.median(ts), 2),
                          "max_ms": round(max(ts), 2)}))
    service.close()


def cmd_startup(args: argparse.Namespace) -> None:
    """Time from process start to the first answer, import and load apart (fresh processes)."""
    code = r"""
import time, json, sys
t0 = time.perf_counter()
import knowledge.service as ks
from knowledge.settings import Settings
t1 = time.perf_counter()
s = Settings(data_dir=sys.argv[1], _env_file=None)
svc = ks.KnowledgeService.open(s)
t2 = time.perf_counter()
svc.embedder.load()
t3 = time.perf_counter()
hits = svc.search("what did the experts expect from the Moscow summit", guild_id=None)
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


INGEST_CHILD = """
import json, sys
tree, bench, articles, unique = sys.argv[1:5]
sys.path.insert(0, tree)
import knowledge  # this tree's package, whatever bench/speed.py puts on the path
sys.path.insert(1, bench)
import speed
print(json.dumps(speed.ingest_once(int(articles), unique == "unique")))
"""


def cmd_ingest(args: argparse.Namespace) -> None:
    """Ingest throughput (passages/s) next to raw model.encode on exactly the same texts; with
    --old-tree, the same articles ingested by the old code and by this tree in fresh
    processes, alternately, --rounds times each."""
    if not args.old_tree:
        print(json.dumps(ingest_once(args.articles, args.unique_sentences)))
        return
    trees = [("old", Path(args.old_tree).resolve()), ("new", HERE.parent)]
    rates: dict[str, list[float]] = {"old": [], "new": []}
    for n in range(args.rounds):
        for label, tree in trees if n % 2 == 0 else trees[::-1]:
            load_before = os.getloadavg()[0]
            out = subprocess.run(
                [sys.executable, "-c", INGEST_CHILD, str(tree), str(HERE), str(args.articles),
                 "unique" if args.unique_sentences else "repeats"],
                capture_output=True, text=True, check=True, cwd=tree)
            figures = json.loads(out.stdout.strip().splitlines()[-1])
            rates[label].append(figures["ingest_passages_per_s"])
            print(json.dumps({"code": label, "round": n, **figures, "load_avg": [
                round(load_before, 1), round(os.getloadavg()[0], 1)]}), flush=True)
    for label, runs in rates.items():
        print(json.dumps({"code": label, "ingest_passages_per_s": sorted(runs),
                          "median": statistics.median(runs)}))


def ingest_once(articles: int, unique_sentences: bool = False) -> dict[str, object]:
    """Ingest `articles` articles into a fresh library (real model, warmed up) and encode the
    same texts with the model alone; returns the figures.

    An article is 6 paragraphs of 4 founding-corpus sentences. Drawn from the founding corpus,
    sentences repeat across articles (about one in 4 is distinct in 60 articles);
    `unique_sentences` gives every sentence a distinct ending, as in real articles, so that
    embedding each distinct text once does not help."""
    from knowledge.corpus import FOUNDING_DIR
    from knowledge.ingest import Document, prepare
    from knowledge.service import KnowledgeService
    from knowledge.settings import Settings
    from knowledge.text.split import split_sentences

    rng = random.Random(3)
    sentences = [s.text for f in sorted(FOUNDING_DIR.glob("*.txt"))
                 for s in split_sentences(f.read_text().replace("\n", " ")) if len(s.text) > 40]
    docs = []
    for i in range(articles):
        paragraphs = []
        for j in range(6):
            picked = rng.sample(sentences, 4)
            if unique_sentences:
                picked = [f"{s.rstrip('.')}, as noted in piece {i}.{j}.{k}." for k, s in
                          enumerate(picked)]
            paragraphs.append(" ".join(picked))
        docs.append(Document(f"Article number {i}.\n\n" + "\n\n".join(paragraphs),
                             title=f"Benchmark article {i}", publisher="Bench"))
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), _env_file=None)  # type: ignore[call-arg]
        service = KnowledgeService.open(settings)
        embedder = service.embedder
        embedder.embed(["warm up"])  # type: ignore[attr-defined]
        prepared = [prepare(d) for d in docs]
        passage_texts, sentence_texts = [], []
        for p in prepared:
            passage_texts += p.embedding_texts()
            sentence_texts += [p.text[a:b] for a, b in p.unique_sentences()]
        texts = passage_texts + sentence_texts
        passages = sum(len(p.passages) for p in prepared)
        # Raw: the model alone on every text ingestion used to embed (repeats included), in
        # two calls; timed before and after the ingest (best of the two) so neither side pays
        # warm-up.
        def raw_encode() -> float:
            t = time.perf_counter()
            embedder.embed(passage_texts)
            embedder.embed(sentence_texts)
            return time.perf_counter() - t

        embedder.embed(passage_texts[:64] + sentence_texts[:64])  # warm-up
        raw_before = raw_encode()
        t, cpu = time.perf_counter(), time.process_time()
        results = service.add_documents(docs)
        ingest, ingest_cpu = time.perf_counter() - t, time.process_time() - cpu
        raw = min(raw_before, raw_encode())
        assert all(r.status == "added" for r in results), results
        service.close()
    return {
        "articles": len(docs), "passages": passages, "texts": len(texts),
        "distinct_texts": len(set(texts)), "raw_encode_s": round(raw, 2),
        "ingest_s": round(ingest, 2), "ingest_cpu_s": round(ingest_cpu, 2),
        "raw_passages_per_s": round(passages / raw, 1),
        "ingest_passages_per_s": round(passages / ingest, 1),
        "ingest_vs_raw": round(raw / ingest, 3), "peak_rss_mb": round(_vm_hwm_mb()),
    }


# ----- compare: torch and ONNX embedders, CLI and bot start, old tree and new ---------------------
COMPARE_QUESTION = "What did the experts expect from the Moscow summit in January 2019?"


def _vm_hwm_mb() -> float:
    """Peak RSS of this process from /proc (ru_maxrss can carry a parent's peak into a child)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return peak_rss_mb()


def _founding_texts() -> tuple[list[str], list[str]]:
    """The founding passages as ingestion embeds them, and their distinct sentences."""
    from knowledge.corpus import founding_document, founding_metadata
    from knowledge.ingest import prepare

    passages, sentences = [], []
    for meta in founding_metadata():
        prepared = prepare(founding_document(meta))
        passages += prepared.embedding_texts()
        sentences += [prepared.text[a:b] for a, b in prepared.unique_sentences()]
    return passages, sentences


def cmd_embedder(args: argparse.Namespace) -> None:
    """(child of `compare`) One backend's figures, in a fresh process so RSS is its own."""
    started = time.perf_counter()
    import threading

    from knowledge.embedding import make_embedder
    from knowledge.settings import BUNDLED_MODEL

    embedder = make_embedder(BUNDLED_MODEL, backend=args.backend)
    embedder.embed(["warm up"])
    ready = time.perf_counter() - started
    questions = _queries(args.questions)
    for q in questions[:10]:
        embedder.embed_query(q)
    times = []
    for q in questions:
        t = time.perf_counter()
        embedder.embed_query(q)
        times.append((time.perf_counter() - t) * 1000)
    # 20 users at once: each question from its own thread, released together; per round, the
    # time until the last of the 20 has its vector.
    crowd = _queries(200)

    def at_once(embed_one: Callable[[str], object], r: int) -> float:
        batch = [f"{q} ({r})" for q in crowd[r * 20:(r + 1) * 20]]
        gate = threading.Barrier(len(batch) + 1)

        def ask(text: str) -> None:
            gate.wait()
            embed_one(text)

        threads = [threading.Thread(target=ask, args=(text,)) for text in batch]
        for thread in threads:
            thread.start()
        gate.wait()
        t = time.perf_counter()
        for thread in threads:
            thread.join()
        return (time.perf_counter() - t) * 1000

    # embed_query (micro-batched where the backend batches) against one model call per thread
    rounds = [at_once(embedder.embed_query, r) for r in range(5)]
    unbatched = [at_once(lambda text: embedder.embed([text]), r) for r in range(5, 10)]
    passages, sentences = _founding_texts()
    passages = passages * 3  # ~100 passages of ~135 tokens
    embedder.embed(passages[:8])
    t = time.perf_counter()
    embedder.embed(passages)
    passage_s = time.perf_counter() - t
    t = time.perf_counter()
    embedder.embed(sentences)
    sentence_s = time.perf_counter() - t
    print(json.dumps({
        "backend": args.backend, "fingerprint": embedder.fingerprint,
        "ready_s": round(ready, 2), "question_median_ms": round(statistics.median(times), 2),
        "question_p95_ms": round(sorted(times)[int(0.95 * len(times)) - 1], 2),
        "20_at_once_ms_median": round(statistics.median(rounds), 1),
        "20_at_once_one_call_each_ms_median": round(statistics.median(unbatched), 1),
        "passages_per_s": round(len(passages) / passage_s, 1),
        "sentences_per_s": round(len(sentences) / sentence_s, 1),
        "peak_rss_mb": round(_vm_hwm_mb()),
    }))


def _run_with_rss(cmd: list[str], *, env: dict[str, str], cwd: Path) -> dict[str, object]:
    """Run a command; its wall time, exit code and own peak RSS (os.wait4 on its pid)."""
    import os

    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    row: dict[str, object] = {"s": round(wall, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024),
                              "cpu_s": round(usage.ru_utime + usage.ru_stime, 2)}
    if proc.returncode:
        row["failed"] = stderr.decode(errors="replace")[-300:]
    return row


def _tree_env(tree: Path, data: Path, **extra: str) -> dict[str, str]:
    """Environment running `tree`'s code with its data under `data`, no .env or embedding
    settings from the caller."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMBEDDING_", "DISCORD_"))}
    env.update(PYTHONPATH=str(tree), DATA_DIR=str(data), DATABASE_URL="", **extra)
    return env


def _bot_ready_s(tree: Path, home: Path, **extra: str) -> float:
    """`python -m bot` from process start to its 'ready as' line against the fake Discord."""
    import asyncio

    sys.path.insert(0, str(HERE.parent))
    from tests.bot.launch import bot_env, bot_process
    from tests.fakes.discord_server import FakeDiscord
    from tests.fakes.world import World

    async def run() -> float:
        world = World.default()
        async with FakeDiscord(world, heartbeat_interval=0.5) as fake:
            env = bot_env(fake, home, DISCORD_DEV_GUILD_ID=str(world.guild().id), **extra)
            env["PYTHONPATH"] = str(tree)
            env = {k: v for k, v in env.items()
                   if not k.startswith("EMBEDDING_") or k in extra}
            process = bot_process(env, home)
            t = time.perf_counter()
            await process.start()
            try:
                await process.wait_for_output("ready as", timeout=300)
                return time.perf_counter() - t
            finally:
                await process.stop(timeout=15)

    return asyncio.run(run())


def cmd_compare(args: argparse.Namespace) -> None:
    """Old and new side by side in one run: the torch and ONNX embedders on the same inputs, a
    cold CLI search, `python -m bot check` and the bot's start to ready. With --repeat N the
    process rows are measured N times, old and new taking turns (so a change in the machine's
    load falls on both alike), and a summary of medians ends the output."""
    import os

    here = str(Path(__file__).resolve())
    print(json.dumps({"load_average": os.getloadavg()}))
    if not args.skip_embedders:
        for backend in ("torch", "onnx"):
            out = subprocess.run([sys.executable, here, "embedder", "--backend", backend,
                                  "--questions", str(args.questions)], capture_output=True,
                                 text=True, check=True, cwd=HERE.parent)
            print(out.stdout.strip().splitlines()[-1])
    trees = [("new", HERE.parent)]
    if args.old_tree:
        trees.insert(0, ("old", Path(args.old_tree).resolve()))
    search = [sys.executable, "-m", "knowledge", "search", COMPARE_QUESTION]
    seen: dict[tuple[str, str], list[float]] = {}

    def record(label: str, figure: str, row: dict[str, object]) -> None:
        print(json.dumps({"tree": label, "figure": figure, **row}))
        if "failed" in row:
            return
        for key, name in (("s", figure), ("peak_rss_mb", f"{figure} peak RSS MB"),
                          ("cpu_s", f"{figure} CPU s")):
            value = row.get(key)
            if isinstance(value, int | float):
                seen.setdefault((label, name), []).append(float(value))

    for _ in range(args.repeat):
        for label, tree in trees:
            with tempfile.TemporaryDirectory() as tmp:
                home = Path(tmp)
                env = _tree_env(tree, home / "data")
                for case in ("fresh install", "warm restart"):
                    record(label, f"cli search, {case}", _run_with_rss(search, env=env, cwd=home))
            if args.cli_only:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                home = Path(tmp)
                env = _tree_env(tree, home / "data", DISCORD_TOKEN="bench-token-not-used")
                for case in ("fresh install", "warm restart"):
                    record(label, f"bot check, {case}",
                           _run_with_rss([sys.executable, "-m", "bot", "check"], env=env,
                                         cwd=home))
                ready = _bot_ready_s(tree, home)
                record(label, "bot start to ready, warm restart", {"s": round(ready, 2)})
    print(json.dumps({"load_average": os.getloadavg()}))
    if args.repeat > 1:
        for (label, figure), values in seen.items():
            if values:
                print(json.dumps({"summary": figure, "tree": label, "runs": len(values),
                                  "median": round(statistics.median(values), 2),
                                  "min": round(min(values), 2), "max": round(max(values), 2)}))


def main() -> None:
    """Parse and run one benchmark."""
    parser = argparse.ArgumentParser(description="Summit Desk speed benchmarks")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("latency")
    p.add_argument("--passages", type=int, default=100_000)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--compare-cache", action="store_true",
                   help="open and search without and with the index cache, fresh processes")
    p.add_argument("--compare-dense", action="store_true",
                   help="search each question with the float32 and the int8 dense side")
    p.set_defaults(fn=cmd_latency)
    p = sub.add_parser("latency-run", help="(used by latency --compare-cache)")
    p.add_argument("--queries", type=int, default=200)
    p.set_defaults(fn=cmd_latency_run)
    p = sub.add_parser("autocomplete", help="title and publisher choices per keystroke")
    p.add_argument("--word", default="summit", help="typed one letter at a time")
    p.add_argument("--rounds", type=int, default=3)
    p.set_defaults(fn=cmd_autocomplete)
    p = sub.add_parser("startup")
    p.set_defaults(fn=cmd_startup)
    p = sub.add_parser("ingest")
    p.add_argument("--articles", type=int, default=60)
    p.add_argument("--old-tree", help="a checkout of the code before: both ingest, alternately")
    p.add_argument("--rounds", type=int, default=3, help="runs of each tree with --old-tree")
    p.add_argument("--unique-sentences", action="store_true",
                   help="no sentence repeats across articles (as in real articles)")
    p.set_defaults(fn=cmd_ingest)
    p = sub.add_parser("compare", help="torch vs ONNX embedders, CLI and bot start, old vs new")
    p.add_argument("--questions", type=int, default=200)
    p.add_argument("--old-tree", help="a checkout of the code before (e.g. git archive | tar -x)")
    p.add_argument("--repeat", type=int, default=1,
                   help="measure the process rows N times, old and new taking turns; medians")
    p.add_argument("--skip-embedders", action="store_true",
                   help="leave out the torch and ONNX embedder rows")
    p.add_argument("--cli-only", action="store_true",
                   help="only the CLI search rows (no bot check, no bot start)")
    p.set_defaults(fn=cmd_compare)
    p = sub.add_parser("embedder", help="(used by compare) one backend's figures")
    p.add_argument("--backend", choices=("torch", "onnx"), required=True)
    p.add_argument("--questions", type=int, default=200)
    p.set_defaults(fn=cmd_embedder)
    args = parser.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()

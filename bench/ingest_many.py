"""Ingesting 1,000 articles: passages/s, articles/s and peak RSS, on SQLite and PostgreSQL.

Usage:
  python bench/ingest_many.py                          # SQLite only, 1,000 articles
  python bench/ingest_many.py --old-tree /tmp/old      # the code before too, one after the other
  python bench/ingest_many.py --unique-sentences       # no sentence repeated across articles
  python bench/ingest_many.py --postgres postgresql+psycopg://postgres@127.0.0.1:55432/summit_test
  (or set BENCH_POSTGRES_URL; a fresh database is created on that server and dropped after)

Each backend runs in its own process (so peak RSS is that backend's): a fresh library (founding
corpus from the prebuilt index, the real bundled model, warmed up), then
`KnowledgeService.add_documents` in batches of 100 generated articles: cleaning, splitting,
embedding passages and sentences, duplicate checks, enrichment (experts, meetings) and one
transaction per article, as `python -m knowledge add` and the sources service do. Articles are
generated deterministically: a byline with an expert and an institute, a date, and 5-9
paragraphs mixing sentences of the founding corpus with templated sentences about places,
meetings and years, so each is distinct prose of a realistic length (about 4,700 characters,
7-8 passages). Sentences drawn from the founding corpus repeat across articles (about 40% of
a batch's sentences are distinct); --unique-sentences ends each one differently, as real
articles are, so that embedding a repeated sentence once does not flatter the figure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from knowledge.ingest import Document

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

BATCH = 100
FIRST = ["Anna", "Boris", "Chiara", "Daisuke", "Elena", "Fumio", "Galina", "Hiroshi", "Irina",
         "Jun", "Kirill", "Mariko", "Nikolai", "Olga", "Pavel", "Sayaka", "Taro", "Yulia"]
LAST = ["Ivanova", "Kato", "Morozov", "Nakamura", "Orlova", "Sato", "Sokolov", "Suzuki",
        "Tanaka", "Volkov", "Watanabe", "Yamamoto", "Zaitseva", "Kuznetsov", "Hayashi"]
ROLES = ["senior fellow", "research fellow", "programme director", "visiting scholar",
         "associate professor", "lead analyst"]
INSTITUTES = ["Pacific Policy Institute", "Northern Seas Forum", "Eurasia Strategy Centre",
              "Hokkaido Regional Studies Group", "Baltic-Pacific Council", "Asia Security Lab"]
PLACES = ["Tokyo", "Moscow", "Vladivostok", "Sakhalin", "Hokkaido", "Kunashir", "Iturup",
          "Shikotan", "Nemuro", "Yuzhno-Sakhalinsk", "Osaka", "Sochi"]
TOPICS = ["the peace treaty", "joint economic activities", "fisheries quotas", "energy projects",
          "visa-free exchanges", "sanctions", "security consultations", "the 1956 declaration",
          "tourism on the islands", "LNG deliveries", "the northern sea route"]
TEMPLATES = [
    "In {year}, officials from {a} and {b} met to discuss {topic}, with little to show for it.",
    "The author argues that {topic} will matter more to {a} than any statement issued in {b}.",
    "Observers in {a} expected progress on {topic} before the end of {year}.",
    "A delegation travelled from {a} to {b} in {year} to review {topic} and left without a date "
    "for the next round.",
    "Critics in {b} said that {topic} had become a substitute for a political decision.",
    "Business groups in {a} lobbied for {topic}, citing projects planned since {year}.",
]


def peak_rss_mb() -> float:
    """Peak resident set size of this process, in MB (Linux VmHWM: unlike ru_maxrss, it does
    not carry over the parent's peak into a child started with fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def current_rss_mb() -> float:
    """Resident set size of this process now, in MB (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 1024 / 1024


def generate(count: int, seed: int = 11, *, unique_sentences: bool = False) -> list[Document]:
    """`count` distinct, realistic articles (knowledge.ingest.Document)."""
    from knowledge.corpus import FOUNDING_DIR
    from knowledge.ingest import Document
    from knowledge.models import Contributor, PartialDate
    from knowledge.text.split import split_sentences

    rng = random.Random(seed)
    corpus = [s.text for f in sorted(FOUNDING_DIR.glob("*.txt"))
              for s in split_sentences(f.read_text().replace("\n", " ")) if len(s.text) > 40]
    docs = []
    for i in range(count):
        author = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        institute = rng.choice(INSTITUTES)
        year = rng.randint(2010, 2024)
        month = rng.randint(1, 12)
        place, other = rng.sample(PLACES, 2)
        topic = rng.choice(TOPICS)
        title = f"{place} and {other} on {topic}: notes from {year} ({i})"
        paragraphs = [f"By {author}, {rng.choice(ROLES)} at the {institute}."]
        for j in range(rng.randint(5, 9)):
            sentences = rng.sample(corpus, rng.randint(2, 4))
            for _ in range(rng.randint(1, 2)):
                a, b = rng.sample(PLACES, 2)
                sentences.insert(rng.randrange(len(sentences) + 1), rng.choice(TEMPLATES).format(
                    a=a, b=b, topic=rng.choice(TOPICS), year=rng.randint(2000, 2024)))
            if unique_sentences:
                sentences = [f"{t.rstrip('.')}, as piece {i} notes in part {j}.{k}."
                             for k, t in enumerate(sentences)]
            paragraphs.append(" ".join(sentences))
        docs.append(Document(
            "\n\n".join(paragraphs), title=title, publisher=institute,
            published=PartialDate(f"{year}-{month:02d}", "month"),
            url=f"https://analysis.example.org/{year}/{month:02d}/article-{i}",
            contributors=(Contributor(author, "author"),)))
    return docs


def run_one(database_url: str, articles: int, unique_sentences: bool = False
            ) -> dict[str, object]:
    """Ingest `articles` generated articles into a fresh library; returns the figures."""
    from knowledge.service import KnowledgeService
    from knowledge.settings import Settings

    docs = generate(articles, unique_sentences=unique_sentences)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=database_url,
                            _env_file=None)  # type: ignore[call-arg]
        started = time.perf_counter()
        service = KnowledgeService.open(settings)
        service.embedder.embed(["warm up"])
        opened = time.perf_counter() - started
        rss_before = peak_rss_mb()
        rss_open = current_rss_mb()
        load_before = os.getloadavg()[0]
        cpu_started = time.process_time()
        added = passages = duplicates = 0
        batch_seconds: list[float] = []
        batch_passages: list[int] = []
        rss_after_batch: list[int] = []
        started = time.perf_counter()
        for start in range(0, len(docs), BATCH):
            batch_started = time.perf_counter()
            results = service.add_documents(docs[start:start + BATCH])
            batch_seconds.append(round(time.perf_counter() - batch_started, 1))
            added += sum(r.status == "added" for r in results)
            duplicates += sum(r.status == "duplicate" for r in results)
            batch_passages.append(sum(r.passages for r in results))
            rss_after_batch.append(round(current_rss_mb()))
            print(f"  {start + len(results)}/{len(docs)} articles, "
                  f"{time.perf_counter() - started:.0f} s, RSS {rss_after_batch[-1]} MB",
                  file=sys.stderr)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        passages = sum(batch_passages)
        # On a shared machine a batch can be slowed by someone else's work: the median batch
        # rate shows the undisturbed speed next to the overall one.
        rates = sorted(p / s for p, s in zip(batch_passages, batch_seconds, strict=True))
        median_rate = rates[len(rates) // 2]
        index_passages = len(service.index)
        service.close()
        serving_rss = reopened_rss_mb(database_url, Path(tmp))
    return {
        "load_avg": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "cpu_s": round(cpu, 1), "rss_after_open_mb": round(rss_open),
        "rss_end_mb": rss_after_batch[-1], "rss_growth_mb": rss_after_batch[-1] - round(rss_open),
        "rss_growth_after_first_batch_mb": rss_after_batch[-1] - rss_after_batch[0],
        "articles": articles, "added": added, "duplicates": duplicates, "passages": passages,
        "seconds": round(elapsed, 1), "articles_per_s": round(added / elapsed, 2),
        "passages_per_s": round(passages / elapsed, 1),
        "median_batch_passages_per_s": round(median_rate, 1),
        "index_passages": index_passages, "open_s": round(opened, 1),
        "rss_before_mb": round(rss_before), "peak_rss_mb": round(peak_rss_mb()),
        "reopened_rss_mb": serving_rss,
        "batch_seconds": batch_seconds, "rss_after_batch_mb": rss_after_batch,
    }


REOPEN = """
import sys
from pathlib import Path
sys.path.insert(0, "bench")
sys.path.insert(1, sys.argv[3])
from ingest_many import peak_rss_mb
from knowledge.service import KnowledgeService
from knowledge.settings import Settings
settings = Settings(data_dir=Path(sys.argv[2]), database_url=sys.argv[1], _env_file=None)
service = KnowledgeService.open(settings)
service.embedder.embed(["warm up"])
print(round(peak_rss_mb()))
"""


def reopened_rss_mb(database_url: str, data_dir: Path) -> int:
    """Peak RSS of a fresh process that opens the grown library and loads the model: what
    serving it costs, apart from what ingestion held on to."""
    out = subprocess.run([sys.executable, "-c", REOPEN, database_url, str(data_dir), str(HERE)],
                         check=True, stdout=subprocess.PIPE, text=True, cwd=Path.cwd())
    return int(out.stdout.strip().splitlines()[-1])


# One run in a child process on a given tree's code (this file's generator and measuring).
CHILD = """
import json, os, sys
tree, bench, database_url, articles, unique = sys.argv[1:6]
sys.path.insert(0, tree)
import knowledge  # the tree's package, whatever is on the path after this
sys.path.insert(1, bench)
from ingest_many import run_one
print(json.dumps(run_one(database_url, int(articles), unique == "unique")))
"""


def run_backend(label: str, database_url: str, articles: int, *, tree: Path = HERE.parent,
                code: str = "new", unique_sentences: bool = False) -> dict[str, object]:
    """Run one backend on one tree's code in a child process (its own peak RSS)."""
    args = [sys.executable, "-c", CHILD, str(tree), str(HERE), database_url, str(articles),
            "unique" if unique_sentences else "repeats"]
    out = subprocess.run(args, check=True, stdout=subprocess.PIPE, text=True, cwd=tree)
    return {"backend": label, "code": code, **json.loads(out.stdout.strip().splitlines()[-1])}


def print_table(rows: list[dict[str, object]]) -> None:
    """A Markdown table of the rows."""
    print("| code | database | articles | passages | seconds | CPU s | passages/s | passages/s, "
          "median batch | RSS MB after open -> end (growth) | peak RSS MB | RSS MB of a process "
          "reopening it | load average |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['code']} | {r['backend']} | {r['added']} | {r['passages']} | {r['seconds']} | "
              f"{r['cpu_s']} | {r['passages_per_s']} | {r['median_batch_passages_per_s']} | "
              f"{r['rss_after_open_mb']} -> {r['rss_end_mb']} (+{r['rss_growth_mb']}) | "
              f"{r['peak_rss_mb']} | {r['reopened_rss_mb']} | {r['load_avg']} |")


def main() -> None:
    """Parse arguments; run every backend on every tree, each in its own process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL", ""),
                        help="a PostgreSQL server URL (a fresh database is made on it)")
    parser.add_argument("--old-tree", help="a checkout of the code before (git archive | tar "
                        "-x): it runs too, before this tree's code")
    parser.add_argument("--unique-sentences", action="store_true",
                        help="no sentence repeated across articles (as in real articles)")
    parser.add_argument("--json", action="store_true", help="also print JSON lines")
    args = parser.parse_args()
    from tests.bot.launch import fresh_postgres_database

    trees = [("new", HERE.parent)]
    if args.old_tree:
        trees.insert(0, ("old", Path(args.old_tree).resolve()))
    rows = []
    for code, tree in trees:
        rows.append(run_backend("SQLite", "", args.articles, tree=tree, code=code,
                                unique_sentences=args.unique_sentences))
        print(json.dumps(rows[-1]), file=sys.stderr)
        if args.postgres:
            with fresh_postgres_database(args.postgres) as url:
                rows.append(run_backend("PostgreSQL", url, args.articles, tree=tree, code=code,
                                        unique_sentences=args.unique_sentences))
    print_table(rows)
    if args.json:
        for row in rows:
            print(json.dumps(row))


if __name__ == "__main__":
    main()

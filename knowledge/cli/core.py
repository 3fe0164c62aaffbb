"""Core commands: search, list, show, delete, rebuild (adding sources: knowledge/cli/sources.py)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from knowledge import corpus
from knowledge.cli.common import (
    cli_settings,
    describe_article,
    open_service,
    partial_date,
    print_hits,
    print_json,
    record_id,
    require,
    whole_number_up_to,
)
from knowledge.errors import BadInput, KnowledgeError
from knowledge.models import Hit
from knowledge.retrieval import MAX_TOP
from knowledge.understand import Interpretation
from knowledge.visibility import EVERYTHING


def register(sub: argparse._SubParsersAction) -> None:
    """Add the core commands to the CLI."""
    p = sub.add_parser("search", help="ask the library a question")
    p.add_argument("query", nargs="?", help="the question")
    p.add_argument("--queries-file", type=Path,
                   help="one query per line; prints one JSON line per query (JSON Lines): "
                        "its hits as an array ({interpreted, hits} with --explain), or "
                        "{error, query} when the line cannot be asked (empty, too long)")
    p.add_argument("--top", type=whole_number_up_to(MAX_TOP), default=None,
                   help=f"how many passages (default 5, at most {MAX_TOP})")
    p.add_argument("--person", help="only articles by or with this expert")
    p.add_argument("--publisher", help="only articles from this publisher")
    p.add_argument("--since", type=partial_date, help="published on or after (YYYY[-MM[-DD]])")
    p.add_argument("--until", type=partial_date, help="published on or before (YYYY[-MM[-DD]])")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--explain", action="store_true",
                   help="show how the question was read (people, window, meetings) and why each "
                        "passage ranked; with --json: print {interpreted, hits}")
    p.set_defaults(handler=cmd_search)

    p = sub.add_parser("list", help="list the articles in the library")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("show", help="show one article")
    p.add_argument("article_id", type=record_id)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--original", action="store_true", help="print the original text too")
    p.set_defaults(handler=cmd_show)

    p = sub.add_parser("delete", help="delete one article, its passages and its search hits "
                                      "(shows it and deletes nothing without --yes)")
    p.add_argument("article_id", type=record_id)
    p.add_argument("--yes", action="store_true", help="delete it (without: only show it)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_delete)

    p = sub.add_parser("rebuild", help="re-embed every passage with the configured model")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_rebuild)

    p = sub.add_parser("build-prebuilt", help="(maintainers) regenerate the shipped index")
    p.set_defaults(handler=cmd_build_prebuilt)
    p = sub.add_parser("build-seed", help="(maintainers) regenerate the shipped seed database "
                                          "(the founding corpus, stored)")
    p.add_argument("--output", type=Path, default=None,
                   help="write the seed here instead of into the package")
    p.set_defaults(handler=cmd_build_seed)
    # `add` (links, feeds and files) lives in knowledge/cli/sources.py.


def cmd_search(args: argparse.Namespace) -> int:
    """Run one query, or a file of queries as JSON Lines."""
    require((args.query is None) != (args.queries_file is None),
            "give either a QUERY or --queries-file, not both or neither")
    queries: BinaryIO | None = None
    if args.queries_file is not None:
        require(args.json, "--queries-file needs --json (one JSON array per line)")
        try:
            queries = args.queries_file.open("rb")
        except OSError as exc:
            raise BadInput(f"cannot read {args.queries_file}: {exc.strerror}") from exc
    service = open_service()

    # The facade's search and reading, as the bot's /ask: one entry point for a question.
    def search(query: str) -> list[Hit]:
        return service.search(query, top=args.top, person=args.person, publisher=args.publisher,
                              since=args.since, until=args.until, guild_id=EVERYTHING)

    def reading(query: str) -> Interpretation:
        return service.reading(query, person=args.person, since=args.since, until=args.until,
                               guild_id=EVERYTHING)

    if queries is None:
        hits = search(args.query)
        interpreted = reading(args.query)
        if args.json:
            found = [h.to_json() for h in hits]
            print_json({"interpreted": interpreted.to_json(), "hits": found} if args.explain
                       else found)
        else:
            if interpreted:
                print(interpreted.describe())
            elif args.explain:
                print("read as: no particular expert, period or meeting")
            print_hits(hits, explain=args.explain)
        return 0
    with queries:
        for line in query_lines(queries, args.queries_file,
                                service.settings.search_max_query_chars):
            try:
                if isinstance(line, OverlongLine):
                    raise BadInput(line.problem)
                hits = search(line)
                found = [h.to_json() for h in hits]
                print_json({"interpreted": reading(line).to_json(),
                            "hits": found} if args.explain else found)
            except KnowledgeError as exc:
                shown = line.head if isinstance(line, OverlongLine) else line
                print_json({"error": str(exc), "query": _echoed(shown)})
            sys.stdout.flush()
    return 0


# A refused query is echoed back at most this long: a 5 MB line must not become a 5 MB answer.
ECHO_CHARS = 200
# Lines one --queries-file may hold: /dev/urandom or a log file is no list of questions.
MAX_QUERY_LINES = 10_000


@dataclasses.dataclass(frozen=True, slots=True)
class OverlongLine:
    """A line far over the query limit: only its start was read (and is echoed back)."""

    head: str
    problem: str


def query_lines(file: BinaryIO, path: Path, max_chars: int) -> Iterator[str | OverlongLine]:
    """The file's lines, read one at a time in bounded memory: a line over 4 bytes per allowed
    character (UTF-8's most) is skipped to its end unread, as an OverlongLine. BadInput for
    bytes that are not UTF-8, or past MAX_QUERY_LINES lines."""
    limit = 4 * max_chars + 2  # and CR LF
    number = 0
    try:
        while raw := file.readline(limit + 1):
            number += 1
            if number > MAX_QUERY_LINES:
                raise BadInput(f"{path} holds more than {MAX_QUERY_LINES:,} lines: split it "
                               "(the earlier ones are answered above)")
            if len(raw) > limit and not raw.endswith(b"\n"):
                head = raw[:4 * ECHO_CHARS].decode("utf-8", "replace")
                while raw and not raw.endswith(b"\n"):  # the rest of the line, unkept
                    raw = file.readline(64 * 1024)
                yield OverlongLine(head, f"the question is too long (over {limit:,} bytes; "
                                         f"the limit is {max_chars} characters)")
                continue
            try:
                yield raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                where = f" (line {number:,})" if number > 1 else ""
                raise BadInput(f"cannot read {path}: not UTF-8 text{where}") from None
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from exc


def _echoed(query: str) -> str:
    """A refused query as its error line repeats it: at most ECHO_CHARS characters."""
    return query if len(query) <= ECHO_CHARS else query[:ECHO_CHARS - 1] + "…"


def cmd_list(args: argparse.Namespace) -> int:
    """Print every article."""
    articles = open_service().list_articles(guild_id=EVERYTHING)
    if args.json:
        print_json([a.to_json() for a in articles])
    else:
        for a in articles:
            print(describe_article(a))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Print one article."""
    article = open_service().get_article(args.article_id, guild_id=EVERYTHING)
    if args.json:
        print_json(article.to_json())
        return 0
    s = article.summary
    print(describe_article(s))
    for c in s.contributors:
        print(f"  {c.relation}: {c.name}" + (f" — {c.role}" if c.role else ""))
    print(f"  url: {s.url or 'unknown'}  language: {s.language}  passages: {len(article.passages)}")
    print()
    print(article.text)
    if args.original:
        print("\n----- original text -----\n")
        print(article.original_text)
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    """Show an article and, with --yes, delete it for every server and process: the deletion
    is logged for other processes' indexes, and a founding article is not stored again at the
    next start. Without --yes nothing changes and the exit status is 2."""
    service = open_service()
    summary = service.get_article(args.article_id, guild_id=EVERYTHING).summary
    slug = corpus.founding_slug(service.library, summary.id)
    if args.yes:
        if slug is not None:
            corpus.keep_deleted(service.library, slug)
        service.delete_article(summary.id)
    if args.json:
        print_json({"deleted": args.yes, "founding": slug is not None,
                    "article": summary.to_json()})
    else:
        done = "deleted" if args.yes else "would delete"
        print(f"{done} {describe_article(summary)}: {summary.passages} "
              f"passage{'s' * (summary.passages != 1)}")
        if slug is not None:
            print("  a founding article: later starts do not store it again" if args.yes
                  else "  a founding article: once deleted, later starts do not store it "
                  "again")
        if args.yes:
            print("  a bot running beside this drops it at its next refresh (within "
                  "SCHEDULER_REFRESH_SECONDS)")
    if not args.yes:
        print(f"error: nothing deleted: run `python -m knowledge delete {summary.id} --yes` "
              "to delete it", file=sys.stderr)
        return 2
    return 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    """Re-embed everything with a progress bar."""
    from tqdm import tqdm

    service = open_service(rebuilding=True)
    bars: list[tqdm] = []  # made at the first batch, when the total is known

    def progress(done: int, total: int) -> None:
        if not bars:
            bars.append(tqdm(total=total, unit=" passages", desc="re-embedding",
                             file=sys.stderr))
        if done < total:
            bars[0].update(done - bars[0].n)  # drawn at most every 0.1 s
        else:
            bars[0].n = done  # the last line is drawn once, by close()

    try:
        count = service.rebuild(progress)
    finally:
        for bar in bars:
            bar.close()
    if args.json:
        print_json({"passages": count, "embedder": service.embedder.fingerprint})
    else:
        print(f"rebuilt the index: {count} passages embedded with "
              f"{service.embedder.fingerprint}")
    return 0


def cmd_build_prebuilt(args: argparse.Namespace) -> int:
    """Write knowledge/corpus/founding_index.npz with the configured model."""
    from knowledge.corpus import write_prebuilt
    from knowledge.embedding import embedder_from_settings
    from knowledge.topic_check import use_topic

    use_topic(None)  # the founding corpus is the bundled topic's, whatever TOPIC_DIR says
    settings = cli_settings()
    path = write_prebuilt(embedder_from_settings(settings))
    print(f"wrote {path}")
    print("now run: python -m knowledge build-seed (the seed database holds these vectors)")
    return 0


def cmd_build_seed(args: argparse.Namespace) -> int:
    """Write knowledge/corpus/founding_seed.zip: a new library, started the normal way."""
    import tempfile

    from knowledge.corpus.seed import SEED_FILE, default_database_file, write_seed
    from knowledge.service import KnowledgeService
    from knowledge.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:  # a first start exactly as a new install's
        # The bundled topic and its founding corpus, whatever TOPIC_DIR the environment names.
        settings = Settings(data_dir=Path(tmp), index_cache=False,  # type: ignore[call-arg]
                            topic_dir=None, founding_corpus=True, _env_file=None)
        KnowledgeService.open(settings, seed=False).close()
        database = default_database_file(settings)
        assert database is not None
        output = args.output or SEED_FILE
        manifest = write_seed(database, output)
    print(f"wrote {output} ({output.stat().st_size / 1e3:.0f} kB, schema "
          f"{manifest['schema_revision']}, content {manifest['content_key'][:16]})")
    return 0


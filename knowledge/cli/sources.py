"""Source commands: add links, feeds and files; show source status; poll due feeds now."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import TYPE_CHECKING

from knowledge.cli.common import open_service, print_json, record_id, valid_text
from knowledge.models import AddResult, SourceStatus
from knowledge.visibility import EVERYTHING

if TYPE_CHECKING:  # imported by service.sources when a command uses it (httpx, feedparser)
    from knowledge.sources.outcomes import PollOutcome
    from knowledge.sources.service import SourcesService


def register(sub: argparse._SubParsersAction) -> None:
    """Add the source commands to the CLI."""
    p = sub.add_parser("add", help="add article links, feeds, or local files (txt, md, html, pdf)")
    p.add_argument("inputs", nargs="+", metavar="URL_OR_PATH", type=link_or_path)
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--feed", dest="kind", action="store_const", const="feed",
                      help="follow as a feed (a page is searched for the feed it advertises)")
    kind.add_argument("--article", dest="kind", action="store_const", const="article",
                      help="store as one article, refusing feeds")
    p.add_argument("--json", action="store_true", help="one JSON object per input (JSON Lines)")
    p.set_defaults(handler=cmd_add, kind="auto")

    p = sub.add_parser("sources", help="list sources with their polling status")
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p.add_argument("--remove", type=record_id, metavar="ID",
                   help="stop following a feed, or remove a link or upload from the list "
                        "(its articles stay)")
    p.set_defaults(handler=cmd_sources)

    p = sub.add_parser("poll", help="poll the feeds that are due now")
    p.add_argument("--source", type=record_id, metavar="ID", help="poll this feed, due or not")
    p.add_argument("--json", action="store_true", help="one JSON object per feed (JSON Lines)")
    p.set_defaults(handler=cmd_poll)


def link_or_path(text: str) -> str:
    """argparse type for an input of `add`: a link must be valid text; a path need not be (a
    Linux file name may hold bytes that are not UTF-8), so one that exists is kept as given."""
    return text if os.path.lexists(text) else valid_text(text)


def cmd_add(args: argparse.Namespace) -> int:
    """Add every input in order; exit 2 when any of them failed."""
    service = open_service()
    sources: SourcesService = service.sources

    async def run() -> bool:
        failed = False
        for item in args.inputs:
            # One input at a time, each printed at once: a slow feed does not hide the others.
            for result in await sources.add(item, kind=args.kind, allow_local=True,
                                              guild_id=EVERYTHING):
                failed |= result.status == "error"
                _print_result(result, args.json)
        return failed

    try:
        return 2 if asyncio.run(run()) else 0
    finally:
        service.close()


def cmd_sources(args: argparse.Namespace) -> int:
    """Print every source's status (or remove one first)."""
    service = open_service()
    sources: SourcesService = service.sources
    try:
        if args.remove is not None:
            removed = sources.remove(args.remove, guild_id=EVERYTHING)
            if not args.json:
                print(describe_removal(removed))
                return 0
        statuses = sources.status(EVERYTHING)
    finally:
        service.close()
    if args.json:
        print_json([s.to_json() for s in statuses])
    elif not statuses:
        print("No sources yet: add one with `python -m knowledge add URL_OR_PATH`.")
    else:
        for status in statuses:
            print(describe_status(status))
    return 0


def cmd_poll(args: argparse.Namespace) -> int:
    """Poll due feeds (or one feed) and print what each poll did; exit 2 when any failed."""
    service = open_service()
    sources: SourcesService = service.sources

    async def run() -> list[PollOutcome]:
        if args.source is not None:
            return [await sources.poll(args.source, guild_id=EVERYTHING)]
        return await sources.poll_due()

    try:
        outcomes = asyncio.run(run())
    finally:
        service.close()
    for outcome in outcomes:
        if args.json:
            print_json(outcome.to_json())
        else:
            print(f"#{outcome.source_id} {outcome.status}: {outcome.message}",
                  file=sys.stderr if outcome.status == "failed" else sys.stdout)
    if not outcomes and not args.json:
        print("No feed is due.")
    return 2 if any(o.status == "failed" for o in outcomes) else 0


def articles(count: int) -> str:
    """"1 article", "3 articles"."""
    return f"{count} article{'s' * (count != 1)}"


def describe_removal(s: SourceStatus) -> str:
    """The one line `sources --remove` prints: a feed is no longer followed; a link or an
    upload was never followed, only listed."""
    stay = f"{articles(s.articles)} {'stays' if s.articles == 1 else 'stay'} in the library"
    if s.kind == "feed":
        return f"stopped following source #{s.id}; its {stay}"
    what = {"file": "upload", "article": "link"}.get(s.kind, "source")
    return f"removed {what} #{s.id} from the sources; its {stay}"


def describe_status(s: SourceStatus) -> str:
    """One or two lines per source for the terminal."""
    state = "removed" if not s.active else ("FAILING" if s.failing else "ok")
    name = s.title or s.url or "untitled"
    line = f"#{s.id} [{s.kind}, {state}] {name} — {articles(s.articles)}"
    bits = []
    if s.last_fetch_at:
        bits.append(f"last fetch {s.last_fetch_at:%Y-%m-%d %H:%M} UTC")
        if s.last_fetch_failed:
            worked = f"{s.last_success_at:%Y-%m-%d %H:%M} UTC" if s.last_success_at else "never"
            bits.append(f"it failed; last worked {worked}")
    if s.last_new_article_at:
        bits.append(f"last new article {s.last_new_article_at:%Y-%m-%d %H:%M} UTC")
    if s.next_poll_at:
        bits.append(f"next poll {s.next_poll_at:%Y-%m-%d %H:%M} UTC")
    if s.last_error:
        bits.append(f"last error: {s.last_error}")
    if s.url and s.url != name:
        bits.insert(0, s.url)
    return line + ("\n    " + "; ".join(bits) if bits else "")


def _print_result(result: AddResult, as_json: bool) -> None:
    """One result line, flushed so a pipe sees it at once; in plain mode an error goes to
    stderr, like every other user mistake (JSON lines all stay on stdout)."""
    if as_json:
        print_json(result.to_json())
        sys.stdout.flush()
        return
    if result.status == "error":
        print(f"{result.input}: error: {result.message}", file=sys.stderr, flush=True)
    else:  # the message says what happened ("added #6 …", "following feed #2 …", "already …")
        print(f"{result.input}: {result.message}", flush=True)

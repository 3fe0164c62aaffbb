"""Digest commands: `digest preview` (the next digest, not posted) and `digest list`."""

from __future__ import annotations

import argparse
import datetime as dt
import textwrap

from knowledge.cli.common import discord_id, open_service, print_json
from knowledge.models import Digest, PartialDate


def register(sub: argparse._SubParsersAction) -> None:
    """Add the digest commands to the CLI."""
    digest = sub.add_parser("digest", help="scheduled digests of new articles")
    commands = digest.add_subparsers(dest="digest_command", metavar="SUBCOMMAND")
    commands.required = True

    p = commands.add_parser("preview", help="show the next digest without posting it")
    p.add_argument("--since", type=since_time,
                   help="start here (YYYY[-MM[-DD]] or an ISO time; default: where the last "
                        "digest ended)")
    p.add_argument("--guild", type=discord_id, help="the digest of this Discord server (id)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_preview)

    p = commands.add_parser("list", help="list digest subscriptions")
    p.add_argument("--guild", type=discord_id, help="only this Discord server (id)")
    p.add_argument("--all", action="store_true", help="include stopped subscriptions")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_list)


def since_time(text: str) -> dt.datetime:
    """argparse type: a date (start of that day/month/year, UTC) or an ISO date-time."""
    try:
        return dt.datetime.combine(PartialDate.parse(text).start, dt.time(), dt.UTC)
    except ValueError:
        pass
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"not a date: {text!r} (use YYYY, YYYY-MM, YYYY-MM-DD or an ISO date-time)") from exc
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def cmd_preview(args: argparse.Namespace) -> int:
    """Print the digest that would be posted now."""
    service = open_service()
    digest = service.digests.preview(args.guild, args.since)
    if args.json:
        print_json(digest.to_json())
    else:
        print_digest(digest)
    return 0


def print_digest(digest: Digest) -> None:
    """A digest as plain text."""
    span = f"{digest.period_start:%Y-%m-%d %H:%M} – {digest.period_end:%Y-%m-%d %H:%M} UTC"
    if digest.empty:
        print(f"Nothing new ({span}).")
        return
    count = sum(len(s.items) for s in digest.sections)
    print(f"{count} new article{'s' if count != 1 else ''} ({span})")
    for section in digest.sections:
        print(f"\n== {section.heading} ==")
        for item in section.items:
            bits = [item.publisher or "unknown publisher",
                    item.published.display() if item.published else "undated"]
            if item.experts:
                bits.insert(0, ", ".join(item.experts))
            print(f"- #{item.article_id} {item.title} ({'; '.join(bits)})")
            print(textwrap.indent(textwrap.fill(item.extract, 94), "    "))
            if item.url:
                print(f"    {item.url}")


def cmd_list(args: argparse.Namespace) -> int:
    """Print the digest subscriptions."""
    service = open_service()
    subs = service.digests.subscriptions(args.guild, include_inactive=args.all)
    if args.json:
        print_json([s.to_json() for s in subs])
        return 0
    if not subs:
        print("No digest subscriptions.")
        return 0
    for s in subs:
        state = "" if s.active else " (stopped)"
        upcoming = f"{s.next_digest_at:%Y-%m-%d %H:%M} UTC" if s.next_digest_at else "never"
        print(f"#{s.id} guild {s.guild_id} channel {s.channel_id}: {s.schedule!r} "
              f"{s.timezone}{state}; covered until {s.covered_until:%Y-%m-%d %H:%M} UTC; "
              f"next {upcoming}")
        if s.last_error:
            retry = f"{s.retry_at:%Y-%m-%d %H:%M} UTC" if s.retry_at else "later"
            print(f"    FAILING: the last digest could not be posted ({s.last_error}); "
                  f"retried at {retry}")
    return 0

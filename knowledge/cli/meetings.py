"""Meeting commands: summits, summit, timeline, proposals, confirm-proposal, reject-proposal.

(Code says "meeting" for any entry of the registry: summits, visits, 2+2 talks; the command names
keep the word users know.)
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

from knowledge.cli.common import (
    open_service,
    positive_int,
    print_hits,
    print_json,
    record_id,
)
from knowledge.errors import BadInput
from knowledge.meetings.timeline import format_meeting_date
from knowledge.models import Meeting
from knowledge.visibility import EVERYTHING


def register(sub: argparse._SubParsersAction) -> None:
    """Add the meeting commands to the CLI."""
    p = sub.add_parser("summits", help="list the meetings in the registry")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_summits)

    p = sub.add_parser("summit", help="one meeting: expectations before, assessments after")
    p.add_argument("name_or_date", metavar="NAME_OR_DATE",
                   help="a place and year, a month (YYYY-MM), an ordinal (17th) or a meeting id (see the summits command)")
    p.add_argument("--topic", help="only passages about this")
    p.add_argument("--top", type=positive_int, default=5,
                   help="passages on each side (default 5)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_summit)

    p = sub.add_parser("timeline", help="draw the meetings and their commentary to a PNG")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.png", help="where to write")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_timeline)

    p = sub.add_parser("proposals", help="meetings articles discuss that the registry lacks")
    p.add_argument("--all", action="store_true", help="include confirmed and rejected ones")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_proposals)

    p = sub.add_parser("confirm-proposal", help="add a proposed meeting to the registry")
    p.add_argument("proposal_id", type=record_id, metavar="ID")
    p.add_argument("--name", help="a better name for the meeting")
    p.add_argument("--date", help="the date, if the guess is wrong or missing (YYYY-MM[-DD])")
    p.add_argument("--place", help="the place, if the guess is wrong or missing")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_confirm_proposal)

    p = sub.add_parser("reject-proposal", help="keep a proposed meeting out of the registry")
    p.add_argument("proposal_id", type=record_id, metavar="ID")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_reject_proposal)


def _meeting_line(m: Meeting) -> str:
    count = len(m.article_ids)
    line = (f"{format_meeting_date(m.date, m.date_end):>16}  {m.name} [{m.id}]: {count} "
            f"article{'s' * (count != 1)}, {m.passages} passage{'s' * (m.passages != 1)}")
    return line + (f"; {', '.join(m.experts)}" if m.experts else "")


def cmd_summits(args: argparse.Namespace) -> int:
    """Print every meeting."""
    meetings = open_service().meetings.list(guild_id=EVERYTHING)
    if args.json:
        print_json([m.to_json() for m in meetings])
        return 0
    if not meetings:
        print("No meetings in the registry.")
    for m in meetings:
        print(_meeting_line(m))
    return 0


UNPLACED_LABEL = "Not placed before or after (undated, or the text does not say)"


def cmd_summit(args: argparse.Namespace) -> int:
    """Print what was said before and after one meeting."""
    commentary = open_service().meetings.commentary(args.name_or_date, args.topic,
                                                          args.top, guild_id=EVERYTHING)
    if args.json:
        print_json({**commentary.to_json(), "topic": args.topic})
        return 0
    m = commentary.meeting
    print(_meeting_line(m))
    if m.description:
        print(textwrap.fill(m.description, 96, initial_indent="  ", subsequent_indent="  "))
    for label, hits in (("Before: expectations", commentary.before),
                        ("After: assessments", commentary.after)):
        print(f"\n{label}")
        if hits:
            print_hits(list(hits))
        else:
            print("   Nothing in the library.")
    if commentary.unplaced:
        print(f"\n{UNPLACED_LABEL}")
        print_hits(list(commentary.unplaced))
    return 0


def cmd_timeline(args: argparse.Namespace) -> int:
    """Write the timeline PNG."""
    if args.out.suffix.lower() != ".png":
        raise BadInput(f"the timeline is a PNG: give a file name ending in .png, not {args.out}")
    png = open_service().meetings.timeline_png(guild_id=EVERYTHING)
    try:
        args.out.write_bytes(png)
    except OSError as exc:
        raise BadInput(f"cannot write {args.out}: {exc.strerror}") from exc
    if args.json:
        print_json({"out": str(args.out), "bytes": len(png)})
    else:
        print(f"wrote {args.out} ({len(png):,} bytes)")
    return 0


def cmd_proposals(args: argparse.Namespace) -> int:
    """Print the meeting proposals."""
    proposals = open_service().meetings.proposals(None if args.all else "open")
    if args.json:
        print_json([p.to_json() for p in proposals])
        return 0
    if not proposals:
        print("No open meeting proposals." if not args.all else "No meeting proposals.")
    for p in proposals:
        where = ", ".join(x for x in (p.date_guess, p.place) if x) or "date and place unknown"
        print(f"#{p.id} [{p.status}] {p.name} ({where}) from #{p.article_id} "
              f"{p.article_title or ''}")
        print(textwrap.indent(textwrap.fill(f"» {p.evidence}", 96), "   "))
    return 0


def cmd_confirm_proposal(args: argparse.Namespace) -> int:
    """Add a proposed meeting to the registry."""
    meeting = open_service().meetings.confirm_proposal(
        args.proposal_id, name=args.name, date=args.date, place=args.place)
    if args.json:
        print_json(meeting.to_json())
    else:
        print(f"confirmed: {_meeting_line(meeting)}")
    return 0


def cmd_reject_proposal(args: argparse.Namespace) -> int:
    """Mark a proposal rejected."""
    proposal = open_service().meetings.reject_proposal(args.proposal_id)
    if args.json:
        print_json(proposal.to_json())
    else:
        print(f"rejected #{proposal.id} {proposal.name}")
    return 0

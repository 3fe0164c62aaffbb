"""Expert commands: experts, expert, compare."""

from __future__ import annotations

import argparse
import textwrap

from knowledge.cli.common import (
    describe_article,
    open_service,
    positive_int,
    print_hits,
    print_json,
    whole_number_up_to,
)
from knowledge.models import Expert
from knowledge.people.service import MAX_TOP_PER_EXPERT
from knowledge.visibility import EVERYTHING


def register(sub: argparse._SubParsersAction) -> None:
    """Add the expert commands to the CLI."""
    p = sub.add_parser("experts", help="list the experts whose views the library carries")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_experts)

    p = sub.add_parser("expert", help="one expert, and their passages (on a topic)")
    p.add_argument("name", help="the expert's name, loosely (a surname is enough; see the experts command)")
    p.add_argument("--topic", help="only their passages about this")
    p.add_argument("--top", type=positive_int, default=5, help="how many passages (default 5)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_expert)

    p = sub.add_parser("compare", help="each expert's best passage on a topic, with dates "
                                       "(a passage several experts share is shown once)")
    p.add_argument("topic", help="the topic, in a few words")
    p.add_argument("--top-per-expert", type=whole_number_up_to(MAX_TOP_PER_EXPERT), default=1,
                   help=f"passages per expert (default 1, at most {MAX_TOP_PER_EXPERT})")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_compare)


def _expert_lines(expert: Expert) -> list[str]:
    lines = [expert.name]
    lines += [f"  role: {role}" for role in expert.roles]
    for a in expert.articles:
        when = a.published.iso if a.published else "undated"
        lines.append(f"  {a.relation}: #{a.article_id} {a.title} ({a.publisher or 'unknown'}, "
                     f"{when})")
    return lines


def cmd_experts(args: argparse.Namespace) -> int:
    """Print every expert."""
    experts = open_service().experts.list(guild_id=EVERYTHING)
    if args.json:
        print_json([e.to_json() for e in experts])
        return 0
    if not experts:
        print("No experts in the library yet.")
    for expert in experts:
        print("\n".join(_expert_lines(expert)))
    return 0


def cmd_expert(args: argparse.Namespace) -> int:
    """Print one expert and their passages."""
    expert, hits = open_service().experts.views(args.name, args.topic, args.top,
                                                guild_id=EVERYTHING)
    if args.json:
        print_json({**expert.to_json(), "topic": args.topic,
                    "passages": [h.to_json() for h in hits]})
        return 0
    print("\n".join(_expert_lines(expert)))
    print()
    if hits:
        print_hits(hits)
    else:
        print("No passage of theirs matches that topic." if args.topic
              else "No passage of theirs in the library.")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Print each expert's best passage on a topic, once per passage, headed by the experts
    whose best it is (JSON: a list of {experts, hit, published})."""
    views = open_service().experts.compare(args.topic, args.top_per_expert,
                                           guild_id=EVERYTHING)
    if args.json:
        print_json([{**v.to_json(), "published": v.hit.article.published.iso
                     if v.hit.article.published else None} for v in views])
        return 0
    if not views:
        print("No expert in the library addressed that topic.")
    for view in views:
        print(f"{', '.join(view.experts)}: {describe_article(view.hit.article)}")
        print(textwrap.indent(textwrap.fill(f"» {view.hit.highlight}", 96), "   "))
        print()
    return 0

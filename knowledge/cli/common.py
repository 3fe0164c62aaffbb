"""Helpers shared by the CLI command modules: opening the service, printing, dates."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from typing import Any

from knowledge.errors import BadInput
from knowledge.models import ArticleSummary, Hit, PartialDate
from knowledge.service import KnowledgeService
from knowledge.settings import load_settings


def open_service(progress: bool = False) -> KnowledgeService:
    """Open the service from the environment's settings."""
    settings = load_settings()
    return KnowledgeService.open(settings)


def partial_date(text: str) -> PartialDate:
    """argparse type for YYYY, YYYY-MM or YYYY-MM-DD."""
    try:
        return PartialDate.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def print_json(value: Any) -> None:
    """Print one JSON document (UTF-8, not ASCII-escaped)."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")


def describe_article(a: ArticleSummary) -> str:
    """One line: title, publisher, date, experts."""
    bits = [a.publisher or "unknown publisher", a.published.iso if a.published else "undated"]
    if a.experts:
        bits.append(", ".join(a.experts))
    return f"#{a.id} {a.title} ({'; '.join(bits)})"


def print_hits(hits: list[Hit]) -> None:
    """Human-readable hits, or the no-match line."""
    if not hits:
        print("No good match in the library for that question.")
        return
    for n, hit in enumerate(hits, 1):
        print(f"{n}. {describe_article(hit.article)}  score {hit.score:.3f}")
        print(textwrap.indent(textwrap.fill(f"» {hit.highlight}", 96), "   "))
        if hit.article.url:
            print(f"   {hit.article.url}")
        print()


def positive_int(text: str) -> int:
    """argparse type for a positive integer."""
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def require(condition: bool, message: str) -> None:
    """Raise a user error unless condition holds."""
    if not condition:
        raise BadInput(message)

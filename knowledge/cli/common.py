"""Helpers shared by the CLI command modules: opening the service, printing, dates, ids."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from knowledge.errors import BadInput, ConfigurationError
from knowledge.logs import hide_in_logs
from knowledge.models import ArticleSummary, Hit, PartialDate
from knowledge.service import KnowledgeService
from knowledge.settings import (
    Settings,
    database_failure,
    load_settings,
    settings_problems,
    unknown_keys_line,
)
from knowledge.store.tables import MAX_ROW_ID

MAX_ID = MAX_ROW_ID  # stored ids (knowledge.store.tables)
# Discord ids (snowflakes) are stored as BIGINT.
MAX_DISCORD_ID = 2**63 - 1


def cli_settings() -> Settings:
    """The environment's settings; a wrong one is a ConfigurationError naming each setting in
    one line (never echoing a value: it may be a password inside DATABASE_URL). A `.env` key
    that is no setting (a misspelt DATABASE_URL would silently mean SQLite) is warned about
    first, in the words `python -m bot check` uses."""
    warning = unknown_keys_line(Settings.model_fields)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    try:
        settings = load_settings()
    except ValidationError as exc:
        raise ConfigurationError("; ".join(settings_problems(exc))) from None
    hide_in_logs(settings.secret_values())
    return settings


def open_service(*, rebuilding: bool = False) -> KnowledgeService:
    """Open the service from the environment's settings. A DATA_DIR that cannot be a folder,
    or a database that cannot be reached or refuses us, is a ConfigurationError in one line
    (the driver's words, never the password). So is a library whose vectors another model
    made: a one-off command's settings (EMBEDDING_ONNX_FILE=/wrong.onnx falls back to torch)
    must never re-embed the whole library; `rebuilding` (the `rebuild` command) does it."""
    settings = cli_settings()
    settings.ensure_data_dir()
    try:
        return KnowledgeService.open(settings,
                                     model_change="rebuild" if rebuilding else "refuse")
    except DBAPIError as exc:
        raise ConfigurationError(database_failure(exc, settings.resolved_database_url)) \
            from exc


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


def print_hits(hits: list[Hit], *, explain: bool = False) -> None:
    """Human-readable hits, or the no-match line; ``explain`` adds each hit's ranking signals
    (its `why`) and scores."""
    if not hits:
        print("No good match in the library for that question.")
        return
    for n, hit in enumerate(hits, 1):
        print(f"{n}. {describe_article(hit.article)}  score {hit.score:.3f}")
        print(textwrap.indent(textwrap.fill(f"» {hit.highlight}", 96), "   "))
        if hit.article.url:
            print(f"   {hit.article.url}")
        if explain:
            why = "; ".join(hit.why) or "no particular signal"
            print(textwrap.indent(textwrap.fill(
                f"why: {why} (meaning {hit.dense_score:.3f}, words {hit.bm25_score:.3f})", 96),
                "   "))
        print()


def positive_int(text: str) -> int:
    """argparse type for a positive integer."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {text!r}")
    return value


def whole_number_up_to(limit: int) -> Callable[[str], int]:
    """argparse type for a whole number from 1 to ``limit`` (the library's own bound, told
    with the option's name rather than the library's parameter's)."""
    def whole_number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if not 1 <= value <= limit:
            raise argparse.ArgumentTypeError(
                f"must be a whole number from 1 to {limit}, not {text!r}")
        return value
    return whole_number


def valid_text(text: str) -> str:
    """argparse type for any text argument (a question, a name, a link): bytes the terminal
    passed that are not UTF-8 arrive as lone surrogates, which no later step can encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise argparse.ArgumentTypeError(
            "not valid text: it holds bytes that are not UTF-8") from None
    return text


def record_id(text: str) -> int:
    """argparse type for the id of something stored (article, source, proposal): 1 to
    `MAX_ID`."""
    return _id_within(text, MAX_ID)


def discord_id(text: str) -> int:
    """argparse type for a Discord id (a server's): 1 to `MAX_DISCORD_ID`."""
    return _id_within(text, MAX_DISCORD_ID)


def _id_within(text: str, limit: int) -> int:
    try:
        if not text.strip().isascii():  # int() takes "٦" and "６" too
            raise ValueError(text)
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an id: {text!r} (ids are whole numbers)") from exc
    if not 1 <= value <= limit:
        raise argparse.ArgumentTypeError(f"no such id: {text} (ids run from 1 to {limit})")
    return value


def require(condition: bool, message: str) -> None:
    """Raise a user error unless condition holds."""
    if not condition:
        raise BadInput(message)

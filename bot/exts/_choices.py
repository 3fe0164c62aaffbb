"""Autocomplete helpers: Discord's choice limits, and failures that never reach the user."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

from discord import app_commands

from bot.exts._render import truncate
from knowledge.errors import KnowledgeError

log = logging.getLogger(__name__)

CHOICE_LIMIT = 25
CHOICE_NAME_LIMIT = 100
ChoiceT = TypeVar("ChoiceT", str, int, float)


def choices(pairs: Iterable[tuple[str, ChoiceT]]) -> list[app_commands.Choice[ChoiceT]]:
    """At most 25 choices with names and string values cut to Discord's 100 characters."""
    out: list[app_commands.Choice[ChoiceT]] = []
    for name, value in pairs:
        if isinstance(value, str) and len(value) > CHOICE_NAME_LIMIT:
            continue  # a cut value would not match anything: leave it out
        out.append(app_commands.Choice(name=truncate(name, CHOICE_NAME_LIMIT) or "?",
                                       value=value))
        if len(out) >= CHOICE_LIMIT:
            break
    return out


async def suggest(what: str, lookup: Awaitable[Any]) -> Any:
    """Await an autocomplete lookup; a domain error means no suggestions, not a traceback."""
    try:
        return await lookup
    except KnowledgeError as exc:
        log.info("no %s suggestions: %s", what, exc)
        return []

"""Autocomplete helpers: Discord's choice limits, and failures that never reach the user."""

from __future__ import annotations

import functools
import logging
import zoneinfo
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import discord
from discord import app_commands

from bot.replies import truncate
from bot.respond import log_interaction
from knowledge.errors import KnowledgeError

log = logging.getLogger(__name__)

CHOICE_LIMIT = 25
CHOICE_NAME_LIMIT = 100
# Free-text option limits (max_length): a name picked from suggestions is at most a choice's
# 100 characters; a topic is searched like a question (SEARCH_MAX_QUERY_CHARS, default 500).
NAME_LIMIT = CHOICE_NAME_LIMIT
TOPIC_LIMIT = 500
ChoiceT = TypeVar("ChoiceT", str, int, float)
Completer = TypeVar("Completer", bound=Callable[..., Awaitable[list[Any]]])


@functools.cache
def timezone_names() -> tuple[str, ...]:
    """Every IANA time zone name, sorted (for time zone autocompletes)."""
    return tuple(sorted(zoneinfo.available_timezones()))


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


def autocompleter(func: Completer) -> Completer:
    """Wrap a cog's autocomplete method: a domain error means no suggestions (not a logged
    traceback), and each autocomplete interaction gets its log line like a command does, at
    DEBUG (an autocomplete comes per keystroke)."""

    @functools.wraps(func)
    async def wrapper(self: Any, interaction: discord.Interaction[Any], current: str
                      ) -> list[Any]:
        command = interaction.command.qualified_name if interaction.command else "?"
        try:
            found = await func(self, interaction, current)
        except KnowledgeError as exc:
            log.debug("no suggestions for %s: %s", command, exc)
            found = []
        # One per keystroke: at INFO it would drown the lines of commands.
        log_interaction(interaction, "ok", command=f"{command} (autocomplete)",
                        level=logging.DEBUG)
        return found

    return wrapper  # type: ignore[return-value]

"""bot/respond.py `in_time`: an interaction is acknowledged ("thinking…") only when its work
outlasts REPLY_WITHIN_MS, counted from the interaction's arrival. A stand-in carries just what
`in_time` touches of a discord.py Interaction (the client's settings, `extras`, the response)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.respond import PUBLIC_PLACEHOLDER, STARTED, in_time


@dataclass
class _Settings:
    reply_within_ms: int


@dataclass
class _Client:
    settings: _Settings


@dataclass
class _Response:
    deferred: list[bool] = field(default_factory=list)  # the `ephemeral` of each deferral

    def is_done(self) -> bool:
        return bool(self.deferred)

    async def defer(self, *, ephemeral: bool = False, thinking: bool = False) -> None:
        assert thinking and not self.deferred  # Discord takes one acknowledgement
        self.deferred.append(ephemeral)


@dataclass
class _Interaction:
    client: _Client
    response: _Response = field(default_factory=_Response)
    extras: dict[str, Any] = field(default_factory=dict)


def arrived(within_ms: int, *, ago: float = 0.0) -> Any:
    interaction = _Interaction(_Client(_Settings(within_ms)))
    interaction.extras[STARTED] = time.perf_counter() - ago
    return interaction


async def work(result: str, seconds: float = 0.0) -> str:
    await asyncio.sleep(seconds)
    return result


async def test_quick_work_is_answered_without_acknowledging_first() -> None:
    interaction = arrived(1000)
    assert await in_time(interaction, work("hits")) == "hits"
    assert interaction.response.deferred == []


async def test_slow_work_shows_thinking_first_then_returns() -> None:
    interaction = arrived(50)
    assert await in_time(interaction, work("hits", 0.3), ephemeral=True) == "hits"
    assert interaction.response.deferred == [True]
    assert interaction.extras[PUBLIC_PLACEHOLDER] is False  # private: nothing public to remove


async def test_time_spent_before_counts_against_the_window() -> None:
    """Checks before the work (a name looked up, a queue) used the window up: acknowledge at
    once, however quick the work itself is, so Discord's 3 s are never at risk."""
    interaction = arrived(1000, ago=5.0)
    assert await in_time(interaction, work("hits")) == "hits"
    assert interaction.response.deferred == [False]
    assert interaction.extras[PUBLIC_PLACEHOLDER] is True


async def test_zero_always_acknowledges_first() -> None:
    interaction = arrived(0)
    assert await in_time(interaction, work("hits")) == "hits"
    assert interaction.response.deferred == [False]


async def test_a_quick_failure_is_raised_before_anything_is_public() -> None:
    async def failing() -> str:
        raise LookupError("no such expert")

    interaction = arrived(1000)
    with pytest.raises(LookupError):
        await in_time(interaction, failing())
    assert interaction.response.deferred == []

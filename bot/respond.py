"""Sending replies to an interaction, whether or not it was acknowledged already."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from bot.replies import Reply, notice

if TYPE_CHECKING:
    from bot.client import SummitDesk

log = logging.getLogger(__name__)

STARTED = "summit_desk_started"
PUBLIC_PLACEHOLDER = "summit_desk_public_placeholder"
ANSWERED = "summit_desk_answered"
# A command that completes but refused what it was given (every link of a /source add) sets
# this to "refused", so its interaction line does not say "ok".
OUTCOME = "summit_desk_outcome"

T = TypeVar("T")


def mark_started(interaction: discord.Interaction[Any]) -> None:
    """Remember when handling began, for the per-interaction latency line."""
    interaction.extras.setdefault(STARTED, time.perf_counter())


def log_interaction(interaction: discord.Interaction[Any], outcome: str,
                    command: str | None = None, *, level: int = logging.INFO) -> None:
    """One structured line per interaction: guild, command, user id, latency, outcome (at
    `level`: DEBUG for autocompletes, which come one per keystroke)."""
    started = interaction.extras.get(STARTED)
    latency = round((time.perf_counter() - started) * 1000, 1) if started else None
    if command is None:
        command = interaction.command.qualified_name if interaction.command else "?"
    log.log(level, "interaction %s %s", command, outcome, extra={
        "guild_id": interaction.guild_id, "command": command, "user_id": interaction.user.id,
        "latency_ms": latency, "outcome": outcome, "kind": interaction.type.name})


async def defer(interaction: discord.Interaction[SummitDesk], *, ephemeral: bool = False) -> None:
    """Acknowledge now (type 5: "thinking…"); the answer follows as a followup."""
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        # A public placeholder must not become a public error: see `answer_text`.
        interaction.extras[PUBLIC_PLACEHOLDER] = not ephemeral


async def in_time(interaction: discord.Interaction[SummitDesk], work: Awaitable[T], *,
                  ephemeral: bool = False, within: float | None = None,
                  acknowledge: Callable[[], Awaitable[object]] | None = None) -> T:
    """`work`'s result, the interaction acknowledged only if it needs one.

    Work done within `within` seconds of the interaction's arrival (default REPLY_WITHIN_MS;
    what came before, such as checking a name, counts too) leaves the interaction
    unacknowledged: the answer (or a refusal, privately) is then its one response, with no
    "thinking…" step and one request fewer. Slower work is acknowledged while it runs on, by
    `acknowledge` (default "thinking…", public unless `ephemeral`); a failure of either is
    raised after the acknowledgement."""
    running = asyncio.ensure_future(work)
    started = interaction.extras.get(STARTED, time.perf_counter())
    if within is None:
        within = interaction.client.settings.reply_within_ms / 1000
    left = within - (time.perf_counter() - started)
    if left > 0:
        done, _ = await asyncio.wait({running}, timeout=left)
        if done:
            return running.result()
    try:
        await (acknowledge() if acknowledge is not None else
               defer(interaction, ephemeral=ephemeral))
    except BaseException:
        running.cancel()
        running.add_done_callback(_consume)
        raise
    return await running


async def edit_in_time(interaction: discord.Interaction[SummitDesk], work: Awaitable[str], *,
                       within: float) -> None:
    """Replace a clicked component's message with `work`'s sentence (its components go): in
    the click's one response when the sentence is ready within `within` seconds, else after a
    silent acknowledgement (type 6; Discord drops a click left unanswered for 3 s)."""
    text = await in_time(interaction, work, within=within,
                         acknowledge=interaction.response.defer)
    if interaction.response.is_done():
        await interaction.edit_original_response(content=text, view=None)
    else:
        await interaction.response.edit_message(content=text, view=None)


def _consume(future: asyncio.Future[Any]) -> None:
    """Retrieve a discarded task's outcome (asyncio would log it as never retrieved)."""
    if not future.cancelled():
        future.exception()


def placeholder_pending(interaction: discord.Interaction[Any]) -> bool:
    """Whether a public "thinking…" placeholder still waits for its answer."""
    return bool(interaction.extras.get(PUBLIC_PLACEHOLDER)) and \
        not interaction.extras.get(ANSWERED)


def mark_answered(interaction: discord.Interaction[Any]) -> None:
    """Record that the interaction's answer went out (the placeholder is filled)."""
    interaction.extras[ANSWERED] = True


async def answer(interaction: discord.Interaction[SummitDesk], replies: Reply | Sequence[Reply],
                 *, ephemeral: bool = False) -> None:
    """Send one or more replies: the first as the response (or deferred followup), then more."""
    batch = [replies] if isinstance(replies, Reply) else list(replies)
    for reply in batch:
        kwargs = reply.kwargs()
        if not interaction.response.is_done():
            await interaction.response.send_message(ephemeral=ephemeral, **kwargs)
        else:
            await interaction.followup.send(ephemeral=ephemeral, **kwargs)
        mark_answered(interaction)


async def answer_text(interaction: discord.Interaction[SummitDesk], text: str, *,
                      ephemeral: bool = True) -> None:
    """A short plain reply, ephemeral by default; delivery failures are logged, not raised.

    After a public deferral the "thinking…" placeholder is deleted first, so a private reply
    (an error, "no match") never leaves a public trace.
    """
    try:
        if ephemeral and placeholder_pending(interaction):
            await interaction.delete_original_response()
            interaction.extras[PUBLIC_PLACEHOLDER] = False
        await answer(interaction, notice(text), ephemeral=ephemeral)
    except discord.HTTPException as exc:
        # The token may have expired (15 min) or the interaction may be unknown by now.
        log.warning("could not reply to interaction %s: %s", interaction.id, exc)

"""The progress note of a slow /source add: rate-limited edits, and a last word before the
interaction's 15 minutes run out."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.exts.sources import ProgressNote
from bot.respond import STARTED


class Interaction:
    """What ProgressNote uses of a discord.Interaction: `extras` and editing the reply."""

    def __init__(self, arrived: float) -> None:
        self.extras: dict[str, Any] = {STARTED: arrived}
        self.edits: list[str] = []

    async def edit_original_response(self, *, content: str) -> None:
        self.edits.append(content)


def test_the_note_shows_each_link_then_feed_progress_at_most_every_two_seconds() -> None:
    interaction = Interaction(time.perf_counter())
    note = ProgressNote(interaction, "sent to you by direct message")  # type: ignore[arg-type]

    async def go() -> None:
        await note.each(1, 3, "https://example.org/a")
        await note.each(2, 3, "https://example.org/b")  # within 2 s: not shown
        note.last -= ProgressNote.EVERY_SECONDS
        await note(4, 1, 10)

    asyncio.run(go())
    assert interaction.edits == [
        "Adding link 1 of 3: `https://example.org/a`…",
        "Link 2 of 3: `https://example.org/b`\nReading the feed: 4 of 10 entries read, 1 stored…"]
    assert note.shown and not note.broken


def test_near_the_15_minutes_the_note_says_where_the_result_will_go_and_stops() -> None:
    interaction = Interaction(time.perf_counter() - ProgressNote.FINAL_NOTE_AFTER)
    note = ProgressNote(interaction, "posted in <#42>")  # type: ignore[arg-type]

    async def go() -> None:
        await note.each(7, 9, "https://example.org/slow")
        note.last -= ProgressNote.EVERY_SECONDS
        await note.each(8, 9, "https://example.org/next")

    asyncio.run(go())
    assert interaction.edits == [
        "Still working (Adding link 7 of 9: `https://example.org/slow`). This note cannot "
        "change after 15 minutes: the result will be posted in <#42>."]
    assert note.broken

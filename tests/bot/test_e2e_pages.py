"""Paged answers over time: a click after a restart still turns the page; Back and Next are
disabled when a message sits unused past PAGE_TIMEOUT_SECONDS, also for messages a previous
process sent; an older release's "More" button never expires. The real `python -m bot`, started
several times on one data directory."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.bot.launch import HASHING, START_TIMEOUT, bot_env, bot_process
from tests.fakes.discord_server import BotProcess, FakeDiscord, StoredMessage
from tests.fakes.world import World

pytestmark = [pytest.mark.e2e]

ANSWER_TIMEOUT = 60.0
QUESTION = "What did experts expect from the summit in Moscow?"


def turn_buttons(message: StoredMessage) -> dict[str, dict[str, Any]]:
    """Back and Next by label."""
    return {c["label"]: c for c in message.walk_components()
            if c.get("label") in ("Back", "Next")}


async def started(fake: FakeDiscord, home: Path, page_timeout: str) -> BotProcess:
    """A bot on `home`'s data with PAGE_TIMEOUT_SECONDS=page_timeout, ready."""
    process = bot_process(bot_env(fake, home, **HASHING, PAGE_TIMEOUT_SECONDS=page_timeout,
                                  ASK_PAGE_SIZE="2", ASK_COOLDOWN_SECONDS="0",
                                  DISCORD_DEV_GUILD_ID=str(fake.world.guild().id)), home)
    await process.start()
    await process.wait_for_output("ready as", timeout=START_TIMEOUT)
    return process


async def stopped(process: BotProcess) -> None:
    """Stop cleanly, with nothing logged at ERROR."""
    assert await process.stop(timeout=15) == 0, process.output
    assert process.error_lines() == [], process.output


async def test_pages_turn_after_a_restart_and_expire(tmp_path: Path) -> None:
    """An answer sent by one process pages in place after a restart; a short timeout disables
    Back/Next by itself; a click on a message older than the timeout whose timer died with an
    earlier process disables them then, and says why, privately."""
    async with FakeDiscord(World.default(), heartbeat_interval=0.5) as fake:
        first = await started(fake, tmp_path, "120")
        reply = await (await fake.slash("ask", {"question": QUESTION}, user="bob")).wait_done(
            timeout=ANSWER_TIMEOUT)
        answer = reply.message
        await stopped(first)

        second = await started(fake, tmp_path, "120")
        nxt = turn_buttons(answer)["Next"]["custom_id"]
        click = await (await fake.component(nxt, message=answer, user="bob")).wait_done(
            timeout=ANSWER_TIMEOUT)
        assert click.callback_type == 6
        assert answer.embeds[0]["fields"][0]["name"].startswith("3. ")
        assert not turn_buttons(answer)["Back"].get("disabled")
        await stopped(second)

        third = await started(fake, tmp_path, "1")
        fresh = (await (await fake.slash("ask", {"question": QUESTION}, user="alice"))
                 .wait_done(timeout=ANSWER_TIMEOUT)).message
        await fake.wait_until(lambda: all(b.get("disabled")
                                          for b in turn_buttons(fresh).values()), 10.0)
        assert fresh.embeds  # only the buttons changed
        back = turn_buttons(answer)["Back"]["custom_id"]
        late = await (await fake.component(back, message=answer, user="bob")).wait_done(
            timeout=ANSWER_TIMEOUT)
        assert late.callback_type == 7
        assert all(b.get("disabled") for b in turn_buttons(answer).values())
        [note] = await late.wait_followups(1, timeout=ANSWER_TIMEOUT)
        assert note.ephemeral and "expired" in note.content
        assert answer.embeds[0]["fields"][0]["name"].startswith("3. ")  # the page stays
        await stopped(third)
        fake.assert_no_errors()


async def test_an_old_more_button_keeps_working_click_after_click(tmp_path: Path) -> None:
    """A "More" button of an answer older than the timeout (as an older release posted them)
    turns the same way on every click: a private copy for others, each time, the message left
    as it was (no "expired" reply that would make the next click look fresh), and in place for
    the asker."""
    async with FakeDiscord(World.default(), heartbeat_interval=0.5) as fake:
        process = await started(fake, tmp_path, "1")
        answer = (await (await fake.slash("ask", {"question": QUESTION}, user="bob"))
                  .wait_done(timeout=ANSWER_TIMEOUT)).message
        await fake.wait_until(lambda: all(b.get("disabled")
                                          for b in turn_buttons(answer).values()), 10.0)
        # What an older release posted: the answer with only a "More" button.
        answer.payload["components"] = [{"type": 1, "components": [
            {"type": 2, "style": 1, "label": "More", "custom_id": "ask:more:2"}]}]
        await asyncio.sleep(1.5)  # older than PAGE_TIMEOUT_SECONDS, counted from its last edit
        before = json.dumps(answer.payload, sort_keys=True)
        for _ in range(2):
            click = await (await fake.component("ask:more:2", message=answer, user="alice")
                           ).wait_done(timeout=ANSWER_TIMEOUT)
            assert click.callback_type == 5, click.describe()
            [copy] = [m for m in click.messages if m.ephemeral and m.embeds]
            assert copy.embeds[0]["fields"][0]["name"].startswith("3. "), copy.embeds
            assert "expired" not in click.text
            assert json.dumps(answer.payload, sort_keys=True) == before
        own = await (await fake.component("ask:more:2", message=answer, user="bob")
                     ).wait_done(timeout=ANSWER_TIMEOUT)
        assert own.callback_type == 6, own.describe()
        assert answer.embeds[0]["fields"][0]["name"].startswith("3. ")
        assert set(turn_buttons(answer)) == {"Back", "Next"}  # a paged answer now
        await stopped(process)
        fake.assert_no_errors()

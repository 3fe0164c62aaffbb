"""Admin commands that write are answered while another process holds the database's write
lock for longer than Discord waits for an answer (3 s): /config, /digest set, /digest off and
its "Stop all" button acknowledge first ("thinking…"), then answer once the write is through,
end to end against the fake Discord."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.bot.launch import HASHING, bot_env, running_bot
from tests.fakes.discord_server import BotProcess, FakeDiscord, InteractionHandle
from tests.fakes.world import World

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

ANSWER_TIMEOUT = 60.0
LOCK_SECONDS = 5.0  # well past Discord's 3 s
YEARLY = "0 0 1 1 *"  # a schedule that never fires during a test
DEFERRED, DEFERRED_UPDATE = 5, 6
# Another process: takes SQLite's write lock (BEGIN IMMEDIATE) and keeps it for a while.
HOLDER = """
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
con.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.execute("ROLLBACK")
"""


@pytest.fixture(scope="module")
def world() -> World:
    """The default world: guild "Summit Desk" (#general, #summit-news, #bot-log), admin alice."""
    return World.default()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bot's working directory (its SQLite database is library.sqlite3 there)."""
    return tmp_path_factory.mktemp("busy")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeDiscord, world: World, home: Path) -> AsyncIterator[BotProcess]:
    """`python -m bot` on a SQLite database file another process can lock."""
    env = bot_env(fake, home, f"sqlite:///{home / 'library.sqlite3'}", **HASHING)
    async with running_bot(fake, env, home) as process:
        yield process


@contextlib.asynccontextmanager
async def write_locked(database: Path, seconds: float = LOCK_SECONDS) -> AsyncIterator[None]:
    """Another process holds the database's write lock for `seconds` from entry."""
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLDER, str(database), str(seconds),
        stdout=asyncio.subprocess.PIPE)
    assert holder.stdout is not None
    assert await asyncio.wait_for(holder.stdout.readline(), 30) == b"locked\n"
    try:
        yield
    finally:
        assert await asyncio.wait_for(holder.wait(), seconds + 30) == 0


async def run(fake: FakeDiscord, name: str, options: dict[str, Any] | None = None
              ) -> InteractionHandle:
    """Invoke a command as alice (an admin) and wait for its final answer."""
    return await (await fake.slash(name, options, user="alice")).wait_done(
        timeout=ANSWER_TIMEOUT)


async def test_commands_that_write_are_answered_while_the_database_is_locked(
        bot: BotProcess, fake: FakeDiscord, world: World, home: Path) -> None:
    """/config cooldown, alerts and timezone, /digest set and /digest off channel:, sent while
    another process writes for 5 s: each shows "thinking…" at once, then its answer."""
    await run(fake, "digest set", {"channel": "summit-news", "schedule": YEARLY})
    commands: list[tuple[str, dict[str, Any], str]] = [
        ("config cooldown", {"uses": 3, "seconds": 60}, "The /ask cooldown is now 3 questions per 60 s"),
        ("config alerts", {"channel": "bot-log"}, "Admin alerts now go to"),
        ("config timezone", {"name": "Europe/Berlin"}, "New digest schedules use Europe/Berlin"),
        ("digest set", {"channel": "general", "schedule": "daily 09:00"},
         "Digests will be posted in"),
        ("digest off", {"channel": "summit-news"}, "Stopped 1 digest subscription."),
    ]
    async with write_locked(home / "library.sqlite3"):
        handles = [await fake.slash(name, options, user="alice")
                   for name, options, _ in commands]
        await asyncio.gather(*(h.wait_done(timeout=ANSWER_TIMEOUT) for h in handles))
    for (name, _, expected), handle in zip(commands, handles, strict=True):
        assert handle.callback_type == DEFERRED and handle.ephemeral, (name, handle.describe())
        assert handle.content.startswith(expected), (name, handle.content)
        assert handle.errors == [], (name, handle.describe())
    listed = await run(fake, "digest list")
    guild = world.guild()
    assert f"<#{guild.channel('general').id}>" in listed.text
    assert f"<#{guild.channel('summit-news').id}>" not in listed.text
    await run(fake, "digest off", {"channel": "general"})


async def test_stop_all_is_answered_while_the_database_is_locked(
        bot: BotProcess, fake: FakeDiscord, home: Path) -> None:
    """"Stop all" clicked while another process writes for 5 s: the click is acknowledged at
    once, and the question then becomes the result."""
    await run(fake, "digest set", {"channel": "summit-news", "schedule": YEARLY})
    asked = await run(fake, "digest off")
    stop = next(c["custom_id"] for c in asked.message.walk_components()
                if c.get("label") == "Stop all")
    async with write_locked(home / "library.sqlite3"):
        clicked = await fake.component(stop, message=asked, user="alice")
        await clicked.wait_done(timeout=ANSWER_TIMEOUT)
    assert clicked.callback_type == DEFERRED_UPDATE, clicked.describe()
    assert asked.message.content == "Stopped 1 digest subscription."
    assert asked.message.components == []
    assert clicked.errors == []


async def test_zz_nothing_rejected(bot: BotProcess, fake: FakeDiscord) -> None:
    """No answer came too late for Discord, and the bot logged no error."""
    fake.assert_no_errors()
    assert bot.error_lines() == [], bot.output

"""Two `python -m bot` processes, one shard each, sharing one PostgreSQL database and one fake
Discord: each serves its own guild, a due digest is posted once, and an article added through
one process is found by /ask in the other after an incremental index refresh."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.bot.launch import (
    HASHING,
    REPO,
    START_TIMEOUT,
    BotDatabase,
    bot_env,
    bot_process,
    daily_schedule_fired,
    digest_run,
    fresh_postgres_database,
)
from tests.fakes.discord_server import (
    BotProcess,
    FakeDiscord,
    FakeFile,
    FakeGuild,
    InteractionHandle,
    StoredMessage,
)
from tests.fakes.world import SUMMIT_ADMIN_PERMISSIONS, World, shard_for

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
pytestmark = [
    pytest.mark.e2e, pytest.mark.postgres, pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set"),
]

SHARDS = 2
HEARTBEAT = 0.5
MAINTENANCE_SECONDS = 1.0
REFRESH_SECONDS = 2.0
ANSWER_TIMEOUT = 60.0
DIGEST_TIMEOUT = 30.0

DIGEST_ARTICLES = {
    "zero": ("Crab quotas off Shikotan renegotiated", """# Crab quotas off Shikotan renegotiated

By Ann Example, fellow at the Example Institute.

Japanese crab boats may again work the waters off Shikotan under a quota agreed this week;
the author reads it as a small sign that the fisheries channel still works.
"""),
    "one": ("Hokkaido ferry to Sakhalin resumes", """# Hokkaido ferry to Sakhalin resumes

By Ben Example, analyst at the Example Forum.

The summer ferry between Wakkanai and Korsakov will sail again, carrying tourists and traders,
after both governments agreed on new visa procedures for its passengers.
"""),
}
FRESH_TITLE = "Tsunami warning drill shared by Nemuro and Kurilsk"
FRESH_TEXT = f"""# {FRESH_TITLE}

By Cleo Example, researcher at the Example Centre.

Coastal towns on both sides of the Nemuro Strait rehearsed a joint tsunami warning drill,
exchanging sirens, radio codes and evacuation maps for the first time since 2019.
"""


@pytest.fixture(scope="module")
def world() -> World:
    """Two guilds, one routed to each shard, each with an admin (alice) and a member (bob)."""
    world = World()
    zero = world.add_guild("Shard Zero", channels=("general", "news"), shard=(0, SHARDS))
    one = world.add_guild("Shard One", channels=("general", "news"), shard=(1, SHARDS))
    alice = world.add_user("alice")
    bob = world.add_user("bob")
    for guild in (zero, one):
        world.add_role(guild, "Summit Admin", SUMMIT_ADMIN_PERMISSIONS)
        world.add_member(guild, alice, roles=("Summit Admin",))
        world.add_member(guild, bob)
    return world


def guilds(world: World) -> dict[int, FakeGuild]:
    """The world's guilds by the shard their events go to."""
    return {shard_for(g.id, SHARDS): g for g in world.guilds}


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """A fresh PostgreSQL database shared by both processes."""
    with fresh_postgres_database(PG_URL) as url:
        yield url


@pytest.fixture(scope="module")
def database(database_url: str) -> Iterator[BotDatabase]:
    """The test's own connection to the shared database."""
    db = BotDatabase(database_url)
    yield db
    db.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fake(world: World) -> AsyncIterator[FakeDiscord]:
    """One fake Discord announcing two shards."""
    async with FakeDiscord(world, heartbeat_interval=HEARTBEAT, shard_count=SHARDS) as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bots(fake: FakeDiscord, database_url: str, tmp_path_factory: pytest.TempPathFactory
               ) -> AsyncIterator[dict[int, BotProcess]]:
    """Both processes, started together on the empty database, ready; stopped at the end."""
    processes: dict[int, BotProcess] = {}
    for shard in range(SHARDS):
        home = tmp_path_factory.mktemp(f"shard{shard}")
        env = bot_env(fake, home, database_url, **HASHING,
                      DISCORD_SHARD_COUNT=str(SHARDS), DISCORD_SHARD_IDS=str(shard),
                      SCHEDULER_MAINTENANCE_SECONDS=str(MAINTENANCE_SECONDS),
                      SCHEDULER_REFRESH_SECONDS=str(REFRESH_SECONDS),
                      ASK_COOLDOWN_SECONDS="0")
        processes[shard] = bot_process(env, Path(home))
    try:
        await asyncio.gather(*(p.start() for p in processes.values()))
        await fake.wait_for_commands(timeout=START_TIMEOUT)  # global sync, by shard 0's process
        for process in processes.values():
            await process.wait_for_output("ready as", timeout=START_TIMEOUT)
        yield processes
    finally:
        codes = [await p.stop(timeout=15) for p in processes.values()]
    for process, code in zip(processes.values(), codes, strict=True):
        assert code == 0, process.output
        assert process.error_lines() == [], process.output


async def run(fake: FakeDiscord, name: str, options: dict[str, Any] | None = None,
              **kwargs: Any) -> InteractionHandle:
    """Invoke a command and wait for its final answer."""
    handle = await fake.slash(name, options, **kwargs)
    return await handle.wait_done(timeout=ANSWER_TIMEOUT)


def handled_guilds(process: BotProcess) -> set[int]:
    """Guild ids in the process's per-interaction log lines."""
    return {int(m.group(1)) for line in process.lines if "bot.respond: interaction " in line
            for m in [re.search(r"guild_id=(\d+)", line)] if m}


def digest_posts(fake: FakeDiscord, guild: FakeGuild) -> list[StoredMessage]:
    """Messages in the guild's #news that carry a digest run marker."""
    return [m for m in fake.channel_messages(guild.channel("news")) if digest_run(m) is not None]


# ----- sharding ------------------------------------------------------------------------------
async def test_each_process_identifies_with_its_own_shard(bots: dict[int, BotProcess],
                                                          fake: FakeDiscord) -> None:
    """The fake saw one IDENTIFY per shard, and each process reports only its own shard."""
    assert sorted(fake.identified_shards, key=str) == [(0, SHARDS), (1, SHARDS)]
    for shard, process in bots.items():
        ready = await process.wait_for_output("ready as")
        assert f"shards [{shard}] of {SHARDS}" in ready and "in 1 guilds" in ready, ready


async def test_each_process_serves_its_own_guild(bots: dict[int, BotProcess], fake: FakeDiscord,
                                                 world: World) -> None:
    """/ask in each guild is answered, by the process holding that guild's shard only."""
    by_shard = guilds(world)
    for guild in by_shard.values():
        reply = await run(fake, "ask", {"question": "the territorial dispute over the islands"},
                          guild=guild, user="bob")
        assert reply.embeds, reply.describe()
    for shard, process in bots.items():
        # The log line follows the answer: wait for it, then check no other guild's is there.
        await process.wait_for_output(f"guild_id={by_shard[shard].id}")
        assert handled_guilds(process) == {by_shard[shard].id}, process.output


# ----- digests -------------------------------------------------------------------------------
async def test_a_due_digest_is_posted_exactly_once_by_the_two_processes(
        bots: dict[int, BotProcess], fake: FakeDiscord, world: World,
        database: BotDatabase) -> None:
    """Both processes run the maintenance pass every second; each due digest still appears
    once, in its channel, listing the articles both processes stored."""
    by_shard = guilds(world)
    # A daily schedule whose fire time was an hour ago: the subscriptions made now are not due
    # until their history is moved back past it (below).
    schedule = daily_schedule_fired(dt.timedelta(hours=1))
    for guild in by_shard.values():
        done = await run(fake, "digest set", {"channel": "news", "schedule": schedule},
                         guild=guild, user="alice")
        assert "Digests will be posted" in done.content, done.describe()
    for shard, key in ((0, "zero"), (1, "one")):
        guild = by_shard[shard]
        title, body = DIGEST_ARTICLES[key]
        added = await run(fake, "source upload", guild=guild, user="alice",
                          attachments={"file": FakeFile(f"{key}.md", body.encode())})
        assert "added" in added.text and title in added.text, added.describe()
    assert all(digest_posts(fake, g) == [] for g in by_shard.values())
    # Two hours back: the subscriptions and both articles now predate the fire time an hour ago,
    # so that period is due, and every maintenance pass of both processes tries to claim it.
    channels = [g.channel("news").id for g in by_shard.values()]
    articles = [database.article_id(title) for title, _ in DIGEST_ARTICLES.values()]
    database.backdate(dt.timedelta(hours=2), channels, articles)

    await fake.wait_until(lambda: all(digest_posts(fake, g) for g in by_shard.values()),
                          DIGEST_TIMEOUT)
    await asyncio.sleep(4 * MAINTENANCE_SECONDS)  # room for a second post, had either raced
    for shard, guild in by_shard.items():
        posts = digest_posts(fake, guild)
        assert len(posts) == 1, [p.text for p in posts]
        # Each server's digest carries what reached that server (its own upload), not the
        # other server's (docs/operations.md, visibility).
        own = DIGEST_ARTICLES["zero" if shard == 0 else "one"][0]
        other = DIGEST_ARTICLES["one" if shard == 0 else "zero"][0]
        assert own in posts[0].text and other not in posts[0].text, posts[0].text
        runs = database.runs(guild.channel("news").id)
        assert [r.status for r in runs] == ["posted"]
        assert digest_run(posts[0]) == runs[0].id


# ----- cross-process freshness ---------------------------------------------------------------
async def test_an_article_another_process_stores_is_found_by_ask(
        bots: dict[int, BotProcess], fake: FakeDiscord, world: World, database_url: str,
        tmp_path: Path) -> None:
    """An article the operator adds from the command line (a third process on the same database)
    is answered by /ask in shard 1's guild once that bot's periodic refresh has read the new
    passages (no full reload). (A server's own upload stays that server's: docs/operations.md.)"""
    by_shard = guilds(world)
    other = bots[1]
    refreshed_before = len([line for line in other.lines if "index refreshed:" in line])
    path = tmp_path / "drill.md"
    path.write_text(FRESH_TEXT, encoding="utf-8")
    env = {**os.environ, **HASHING, "DATABASE_URL": database_url,
           "DATA_DIR": str(tmp_path / "cli"), "PYTHONPATH": str(REPO)}
    cli = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "knowledge", "add", str(path), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(cli.communicate(), timeout=START_TIMEOUT)
    assert cli.returncode == 0 and FRESH_TITLE in out.decode(), err.decode()
    await other.wait_for_output("index refreshed:", timeout=10 * REFRESH_SECONDS,
                                count=refreshed_before + 1)
    found = await run(fake, "ask", {"question": "joint tsunami warning drill in the Nemuro "
                                                "Strait"}, guild=by_shard[1], user="bob")
    assert FRESH_TITLE in found.text, found.describe()
    assert len([line for line in other.lines if "index loaded:" in line]) == 1


async def test_zz_logs_hold_no_unhandled_exception(bots: dict[int, BotProcess],
                                                   fake: FakeDiscord) -> None:
    """Neither process logged an error or a traceback; Discord rejected nothing."""
    for process in bots.values():
        assert process.error_lines() == [], process.output
    fake.assert_no_errors()

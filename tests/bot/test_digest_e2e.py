"""Scheduled digests end to end: the real `python -m bot` against the fake Discord, with the bot
running, down over scheduled times, and killed with SIGKILL between claim and post or between
post and record; every period ends up in the channel exactly once.

Time is moved, not waited for: instead of sleeping until a cron time, a test moves the
subscription's history (`created_at`, `covered_until`) and the new articles' `added_at` back in
the database by the same amount, as if all of it had happened that long ago. A daily schedule
whose fire time was an hour ago then has a due period holding exactly those articles, which the
bot's own mechanisms post: the maintenance pass (every second here, through
SCHEDULER_MAINTENANCE_SECONDS) while it runs, or the catch-up at start-up after downtime.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from tests.bot.launch import (
    HASHING,
    START_TIMEOUT,
    BotDatabase,
    bot_env,
    bot_process,
    daily_schedule_fired,
    digest_run,
)
from tests.fakes.discord_server import (
    BotProcess,
    FakeDiscord,
    FakeFile,
    InteractionHandle,
    StoredMessage,
)
from tests.fakes.world import SEND_MESSAGES, FakeChannel, World

pytestmark = [pytest.mark.e2e]

HEARTBEAT = 0.5
MAINTENANCE_SECONDS = 1.0
ANSWER_TIMEOUT = 60.0
DIGEST_TIMEOUT = 30.0
# A 429 long enough to kill the bot while discord.py waits to retry the post.
STALLING_RETRY_AFTER = 120.0
YEARLY = "0 0 1 1 *"  # a schedule that never fires during a test: only /digest now posts
RELATIVE_TIME = re.compile(r"<t:\d+:R>")
RETRY_TIME = re.compile(r"retried automatically <t:\d+:R>")

ARTICLES = {
    "fisheries": ("Salmon quotas near the Kurils agreed", """# Salmon quotas near the Kurils agreed

By Ann Example, fellow at the Example Institute.

Negotiators from Tokyo and Moscow agreed on a salmon quota regime near the Kuril Islands, a
modest step the author calls a test of the joint economic activities plan.
"""),
    "visits": ("Visa-free grave visits to the islands resume", """# Visa-free grave visits to the islands resume

By Ben Example, research fellow at the Example Centre.

Former residents of the southern Kurils may again visit ancestral graves without visas, after
both governments restored the simplified exchange programme suspended in 2022.
"""),
    "energy": ("Energy bridge from Sakhalin stalls again", """# Energy bridge from Sakhalin stalls again

By Cleo Example, analyst at the Example Forum.

Plans for a power cable linking Sakhalin and Hokkaido stalled again, as negotiators failed to
agree who would finance the undersea line; the author calls it a barometer of the relationship.
"""),
}


class HoldingFakeDiscord(FakeDiscord):
    """The fake Discord, able to store a channel message and then hold back the response, so a
    test can kill the bot after its post reached Discord but before it knew it had."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hold_channel: int | None = None
        self.release = asyncio.Event()
        # Store this many posts to `hold_channel`, then hold the next one before storing it (a
        # digest of several messages interrupted between two of them).
        self.store_then_hold: int | None = None
        self.held = asyncio.Event()

    async def _post_message(self, request: web.Request) -> web.Response:
        if self.store_then_hold is not None and request.match_info["channel_id"] == str(
                self.hold_channel):
            if self.store_then_hold == 0:
                self.held.set()
                await self.release.wait()
                raise web.HTTPServiceUnavailable()
            self.store_then_hold -= 1
            return await super()._post_message(request)
        response = await super()._post_message(request)
        if self.hold_channel is not None and request.match_info["channel_id"] == str(
                self.hold_channel):
            await self.release.wait()
        return response


class Bot:
    """`python -m bot` on one data directory and database, started and stopped as a test says."""

    def __init__(self, fake: FakeDiscord, world: World, home: Path, database_url: str) -> None:
        self.fake = fake
        self.home = home
        self.env = bot_env(fake, home, database_url, **HASHING,
                           DISCORD_DEV_GUILD_ID=str(world.guild().id),
                           SCHEDULER_MAINTENANCE_SECONDS=str(MAINTENANCE_SECONDS))
        self.runs: list[BotProcess] = []

    @property
    def process(self) -> BotProcess:
        """The current (latest) process."""
        return self.runs[-1]

    async def start(self) -> BotProcess:
        """Start a process and wait until it is ready and its start-up catch-up has finished."""
        process = bot_process(self.env, self.home)
        self.runs.append(process)
        await process.start()
        await process.wait_for_output("ready as", timeout=START_TIMEOUT)
        await process.wait_for_output("digest catch-up finished", timeout=DIGEST_TIMEOUT)
        return process

    async def stop(self) -> None:
        """Stop gracefully (SIGINT); the process must exit cleanly without logged errors."""
        code = await self.process.stop(timeout=15)
        assert code == 0, self.process.output
        assert self.process.error_lines() == [], self.process.output

    async def kill(self) -> None:
        """SIGKILL the process, as a crash or an OOM kill would, and reap it."""
        process = self.process
        proc = process._proc  # BotProcess offers only a graceful stop
        assert proc is not None
        proc.kill()
        await process.stop(timeout=15)
        assert process.returncode == -9

    async def close(self) -> None:
        """Stop whatever still runs (test teardown)."""
        for process in self.runs:
            await process.stop(timeout=15)


@pytest.fixture
def world() -> World:
    """The default world: guild "Summit Desk" (#general, #summit-news, #bot-log), admin alice."""
    return World.default()


@pytest_asyncio.fixture
async def fake(world: World) -> AsyncIterator[HoldingFakeDiscord]:
    """A fake Discord for one test; fails the test if Discord would have rejected a request."""
    server = HoldingFakeDiscord(world, heartbeat_interval=HEARTBEAT)
    async with server:
        yield server
        server.release.set()
        server.assert_no_errors()


@pytest.fixture
def database(database_url: str) -> Iterator[BotDatabase]:
    """The test's own connection to the bot's database (SQLite, and PostgreSQL when set)."""
    db = BotDatabase(database_url)
    yield db
    db.close()


@pytest_asyncio.fixture
async def bot(fake: FakeDiscord, world: World, database_url: str, tmp_path: Path
              ) -> AsyncIterator[Bot]:
    """The bot, started; every process it ran is stopped at the end."""
    runner = Bot(fake, world, tmp_path / "bot", database_url)
    await runner.start()
    try:
        yield runner
    finally:
        await runner.close()


async def run(fake: FakeDiscord, name: str, options: dict[str, Any] | None = None,
              **kwargs: Any) -> InteractionHandle:
    """Invoke a command as alice (an admin) and wait for its final answer."""
    handle = await fake.slash(name, options, user="alice", **kwargs)
    return await handle.wait_done(timeout=ANSWER_TIMEOUT)


async def subscribe_and_add(fake: FakeDiscord, keys: tuple[str, ...]) -> None:
    """/digest set #summit-news on a daily schedule that fired an hour ago, then /source upload
    the articles."""
    schedule = daily_schedule_fired(dt.timedelta(hours=1))
    done = await run(fake, "digest set", {"channel": "summit-news", "schedule": schedule})
    assert "Digests will be posted" in done.content, done.describe()
    for key in keys:
        title, body = ARTICLES[key]
        added = await run(fake, "source upload",
                          attachments={"file": FakeFile(f"{key}.md", body.encode())})
        assert title in added.text and "added" in added.text, added.describe()


def make_due(database: BotDatabase, channel: FakeChannel, keys: tuple[str, ...],
             ago: dt.timedelta) -> None:
    """Move the subscription and the articles `ago` into the past (see the module docstring)."""
    ids = [database.article_id(ARTICLES[key][0]) for key in keys]
    database.backdate(ago, [channel.id], ids)


def digests(fake: FakeDiscord, channel: FakeChannel) -> list[StoredMessage]:
    """Digest messages in the channel (those carrying a run marker)."""
    return [m for m in fake.channel_messages(channel) if digest_run(m) is not None]


def assert_lists_exactly(message: StoredMessage, keys: tuple[str, ...]) -> None:
    """The digest names exactly these articles."""
    count = len(keys)
    assert f"{count} new article{'s' * (count != 1)}" in message.text, message.text
    for key, (title, _) in ARTICLES.items():
        assert (title in message.text) == (key in keys), (title, message.text)


async def settle() -> None:
    """Give the running bot a few maintenance passes, in which a duplicate would appear."""
    await asyncio.sleep(3 * MAINTENANCE_SECONDS)


# ----- while running -------------------------------------------------------------------------
async def test_a_due_period_is_posted_by_the_running_bot_once(
        bot: Bot, fake: FakeDiscord, world: World, database: BotDatabase) -> None:
    """/digest set, two uploads, the period becomes due: one digest listing exactly those two
    articles appears in the channel, and the next passes post nothing more."""
    channel = world.guild().channel("summit-news")
    keys = ("fisheries", "visits")
    await subscribe_and_add(fake, keys)
    make_due(database, channel, keys, dt.timedelta(hours=2))
    (post,) = await fake.wait_until(lambda: digests(fake, channel), DIGEST_TIMEOUT)
    await settle()
    assert digests(fake, channel) == [post]
    assert_lists_exactly(post, keys)
    (run_row,) = database.runs(channel.id)
    assert run_row.status == "posted" and digest_run(post) == run_row.id
    assert run_row.message_ids == [post.id]
    await bot.stop()


# ----- downtime --------------------------------------------------------------------------------
async def test_downtime_over_scheduled_times_gives_one_coalesced_digest(
        bot: Bot, fake: FakeDiscord, world: World, database: BotDatabase) -> None:
    """Down over three daily fire times: the restarted bot posts ONE digest with exactly the
    new articles; restarting again posts nothing."""
    channel = world.guild().channel("summit-news")
    keys = ("fisheries", "visits", "energy")
    await subscribe_and_add(fake, keys)
    await bot.stop()
    make_due(database, channel, keys, dt.timedelta(days=3))
    assert digests(fake, channel) == []

    await bot.start()
    (post,) = await fake.wait_until(lambda: digests(fake, channel), DIGEST_TIMEOUT)
    assert "posted" in await bot.process.wait_for_output("digest catch-up finished")
    assert_lists_exactly(post, keys)
    await bot.stop()

    await bot.start()
    assert "nothing was due" in await bot.process.wait_for_output("digest catch-up finished")
    await settle()
    assert digests(fake, channel) == [post]
    assert [r.status for r in database.runs(channel.id)] == ["posted"]
    await bot.stop()


# ----- kill -9 -------------------------------------------------------------------------------
async def test_kill_9_between_claim_and_post_then_restart_posts_once(
        bot: Bot, fake: FakeDiscord, world: World, database: BotDatabase) -> None:
    """SIGKILL while discord.py waits out a 429 on the digest post (claimed, nothing posted):
    the restarted bot takes the dead process's claim over, finds no copy, posts it once."""
    channel = world.guild().channel("summit-news")
    keys = ("fisheries",)
    await subscribe_and_add(fake, keys)
    route = f"POST /channels/{channel.id}/messages"
    fake.inject_429(route, retry_after=STALLING_RETRY_AFTER)
    make_due(database, channel, keys, dt.timedelta(hours=2))
    await fake.wait_for_request(lambda r: r.route == route and r.status == 429, DIGEST_TIMEOUT)
    await bot.kill()
    (claimed,) = database.runs(channel.id)
    assert claimed.status == "claimed" and digests(fake, channel) == []

    await bot.start()
    (post,) = await fake.wait_until(lambda: digests(fake, channel), DIGEST_TIMEOUT)
    assert f"run #{claimed.id} posted" in await bot.process.wait_for_output(
        "digest catch-up finished")
    assert f"took over digest run #{claimed.id}" in bot.process.output
    assert_lists_exactly(post, keys)
    assert digest_run(post) == claimed.id
    await bot.stop()

    await bot.start()
    await settle()
    assert digests(fake, channel) == [post]
    assert [r.status for r in database.runs(channel.id)] == ["posted"]
    await bot.stop()


async def test_kill_9_between_post_and_record_then_restart_does_not_repost(
        bot: Bot, fake: HoldingFakeDiscord, world: World, database: BotDatabase) -> None:
    """SIGKILL after Discord stored the digest but before the bot heard back: the restarted bot
    finds its run's marker (a component custom_id) in the channel (GET messages) and records the run as
    posted, without posting it again."""
    channel = world.guild().channel("summit-news")
    keys = ("visits",)
    await subscribe_and_add(fake, keys)
    fake.hold_channel = channel.id
    make_due(database, channel, keys, dt.timedelta(hours=2))
    (post,) = await fake.wait_until(lambda: digests(fake, channel), DIGEST_TIMEOUT)
    await bot.kill()
    fake.hold_channel = None
    fake.release.set()
    (claimed,) = database.runs(channel.id)
    assert claimed.status == "claimed"

    await bot.start()
    assert f"run #{claimed.id} recovered" in await bot.process.wait_for_output(
        "digest catch-up finished")
    await settle()
    assert digests(fake, channel) == [post]
    (recorded,) = database.runs(channel.id)
    assert recorded.status == "posted" and recorded.message_ids == [post.id]
    posts = [r for r in fake.requests if r.route == f"POST /channels/{channel.id}/messages"]
    assert len(posts) == 1
    assert_lists_exactly(post, keys)
    await bot.stop()


# ----- a digest of several messages, interrupted between them ------------------------------
MANY = 27  # a message shows at most 25 articles: two messages


async def upload_many(fake: FakeDiscord, count: int) -> list[str]:
    """/source upload `count` short articles; their titles."""
    titles = []
    for n in range(count):
        title = f"Fishery note {n} on quota number {n * 7 + 3}"
        body = (f"# {title}\n\nBy Ann Example, fellow at the Example Institute.\n\nNote {n}: "
                f"negotiators discussed quota {n * 7 + 3} for zone {n} near the islands, "
                f"a step numbered {n} in the long talks.\n")
        added = await run(fake, "source upload",
                          attachments={"file": FakeFile(f"note{n}.md", body.encode())})
        assert "added" in added.text, added.describe()
        titles.append(title)
    return titles


async def interrupted_after_part_1(fake: HoldingFakeDiscord, database: BotDatabase,
                                   channel: FakeChannel) -> list[str]:
    """A due digest of two messages whose first message Discord stores and whose second it
    holds (not stored); returns the titles once the second is held."""
    schedule = daily_schedule_fired(dt.timedelta(hours=1))
    done = await run(fake, "digest set", {"channel": "summit-news", "schedule": schedule})
    assert "Digests will be posted" in done.content, done.describe()
    titles = await upload_many(fake, MANY)
    fake.hold_channel, fake.store_then_hold = channel.id, 1
    database.backdate(dt.timedelta(hours=2), [channel.id],
                      [database.article_id(t) for t in titles])
    await asyncio.wait_for(fake.held.wait(), DIGEST_TIMEOUT)
    assert len(digests(fake, channel)) == 1
    return titles


async def assert_whole_digest_once(bot: Bot, fake: FakeDiscord, channel: FakeChannel,
                                   database: BotDatabase, titles: list[str]) -> None:
    """After a restart the channel shows the digest's two parts once, listing every article,
    and the run records both."""
    posts = await fake.wait_until(lambda: (found := digests(fake, channel)) and len(found) == 2
                                  and found, DIGEST_TIMEOUT)
    await settle()
    assert digests(fake, channel) == posts
    footers = [m.embeds[0]["footer"]["text"] for m in posts]
    assert footers == ["Summit Desk digest · part 1 of 2", "Summit Desk digest · part 2 of 2"]
    text = "\n".join(m.text for m in posts)
    assert all(title in text for title in titles)
    (run_row,) = database.runs(channel.id)
    assert run_row.status == "posted" and run_row.message_ids == [m.id for m in posts]


async def test_kill_9_between_two_parts_of_a_digest_then_restart_posts_it_whole(
        bot: Bot, fake: HoldingFakeDiscord, world: World, database: BotDatabase) -> None:
    """SIGKILL after part 1 of 2 reached the channel: the restarted bot does not take part 1 for
    the whole digest; the channel ends with both parts, once, and the run records both."""
    channel = world.guild().channel("summit-news")
    titles = await interrupted_after_part_1(fake, database, channel)
    await bot.kill()
    fake.store_then_hold = None
    fake.release.set()
    await bot.start()
    await assert_whole_digest_once(bot, fake, channel, database, titles)
    await bot.stop()


async def test_sigterm_between_two_parts_of_a_digest_stops_cleanly_and_the_restart_completes_it(
        bot: Bot, fake: HoldingFakeDiscord, world: World, database: BotDatabase) -> None:
    """SIGTERM (a normal stop) while part 2 of 2 is in flight: the bot exits 0 with no error
    or traceback, and the next start posts the digest whole, once."""
    channel = world.guild().channel("summit-news")
    titles = await interrupted_after_part_1(fake, database, channel)
    process = bot.process
    assert process._proc is not None
    process._proc.send_signal(signal.SIGTERM)
    assert await process.wait(timeout=30) == 0, process.output
    assert process.error_lines() == [], process.output
    fake.store_then_hold = None
    fake.release.set()
    await bot.start()
    await assert_whole_digest_once(bot, fake, channel, database, titles)
    await bot.stop()


async def test_recovery_finds_the_digest_behind_more_than_100_newer_messages(
        bot: Bot, fake: HoldingFakeDiscord, world: World, database: BotDatabase) -> None:
    """SIGKILL after Discord stored the digest but before the bot heard back, then 120 member
    messages in the channel: the restarted bot still finds its digest and does not post it again."""
    channel = world.guild().channel("summit-news")
    keys = ("visits",)
    await subscribe_and_add(fake, keys)
    fake.hold_channel = channel.id
    make_due(database, channel, keys, dt.timedelta(hours=2))
    (post,) = await fake.wait_until(lambda: digests(fake, channel), DIGEST_TIMEOUT)
    await bot.kill()
    fake.hold_channel = None
    fake.release.set()
    for n in range(120):
        await fake.user_message(f"chat message {n}", user="bob", channel=channel)

    await bot.start()
    (claimed,) = database.runs(channel.id)
    assert f"run #{claimed.id} recovered" in await bot.process.wait_for_output(
        "digest catch-up finished")
    await settle()
    assert digests(fake, channel) == [post]
    (recorded,) = database.runs(channel.id)
    assert recorded.status == "posted" and recorded.message_ids == [post.id]
    await bot.stop()


# ----- a digest channel deleted -------------------------------------------------------------
async def test_a_deleted_digest_channel_stops_its_subscription_and_tells_the_admins_once(
        bot: Bot, fake: FakeDiscord, world: World, database: BotDatabase) -> None:
    """The digest channel is deleted: the first post's 404 Unknown Channel stops that
    subscription (no retries every DIGEST_RETRY_MINUTES), the alert channel gets one plain
    notice that promises no retry, /digest list no longer shows the channel, and a digest
    channel that still exists goes on."""
    await bot.stop()
    bot.env["DIGEST_RETRY_MINUTES"] = "0.02"  # a retry, if any, would come within a second
    await bot.start()
    guild = world.guild()
    channel, alerts = guild.channel("summit-news"), guild.channel("bot-log")
    other = guild.channel("general")
    assert "Admin alerts now go to" in (await run(fake, "config alerts",
                                                  {"channel": alerts})).text
    schedule = daily_schedule_fired(dt.timedelta(hours=1))
    await run(fake, "digest set", {"channel": other, "schedule": schedule})
    await subscribe_and_add(fake, ("fisheries",))
    guild.channels.remove(channel)
    await fake.dispatch("CHANNEL_DELETE", channel.payload(), guild=guild)
    database.backdate(dt.timedelta(hours=2), [other.id])
    make_due(database, channel, ("fisheries",), dt.timedelta(hours=2))

    def notices() -> list[StoredMessage]:
        return [m for m in fake.channel_messages(alerts) if f"<#{channel.id}>" in m.text]

    (notice,) = await fake.wait_until(notices, DIGEST_TIMEOUT)
    assert "no longer exists, so I stopped its digests" in notice.text, notice.text
    assert "/digest set" in notice.text and "retr" not in notice.text, notice.text
    assert notice.text.count(f"<#{channel.id}>") == 1, notice.text
    gets = len([r for r in fake.requests if str(channel.id) in r.path])
    await settle()
    assert notices() == [notice]
    assert len([r for r in fake.requests if str(channel.id) in r.path]) == gets
    assert database.subscription(channel.id).active is False
    assert [r.status for r in database.runs(channel.id)] == ["dropped"]
    listed = await run(fake, "digest list")
    assert str(channel.id) not in listed.text and str(other.id) in listed.text, listed.text
    (post,) = digests(fake, other)
    assert_lists_exactly(post, ("fisheries",))
    fake.errors[:] = [e for e in fake.errors if e.status != 404]  # the deletion we arranged
    await bot.stop()


async def test_digest_list_shows_a_failing_digest_with_its_error_and_retry(
        bot: Bot, fake: FakeDiscord, world: World, database: BotDatabase) -> None:
    """The bot may not post in the digest channel: once the due digest has failed, /digest
    list shows that channel's failure, the missing permission and when it is retried, not
    only the next scheduled time."""
    channel = world.guild().channel("summit-news")
    keys = ("energy",)
    await subscribe_and_add(fake, keys)
    world.deny(channel, SEND_MESSAGES, user=world.bot)
    await fake.channel_updated(channel)
    make_due(database, channel, keys, dt.timedelta(hours=2))
    await fake.wait_until(lambda: [r for r in database.runs(channel.id) if r.status == "failed"],
                          DIGEST_TIMEOUT)
    listed = await run(fake, "digest list")
    assert "The last digest failed and is retried" in listed.text, listed.text
    assert "Send Messages" in listed.text, listed.text
    assert RELATIVE_TIME.search(listed.text.split("failed", 1)[1]), listed.text
    world.allow(channel, SEND_MESSAGES, user=world.bot)
    await fake.channel_updated(channel)
    await bot.stop()


# ----- /digest set again ---------------------------------------------------------------------
async def test_digest_set_again_keeps_the_channels_zone_and_refuses_a_schedule_that_never_fires(
        bot: Bot, fake: FakeDiscord, world: World, database: BotDatabase) -> None:
    """A channel set in Europe/Berlin, then /config timezone Asia/Tokyo: /digest set with only
    a new hour keeps Europe/Berlin and says so; '0 9 31 2 *' is refused in words and the
    channel's schedule is unchanged."""
    channel = world.guild().channel("summit-news")
    first = await run(fake, "digest set", {"channel": channel, "schedule": "daily 09:00",
                                           "timezone": "Europe/Berlin"})
    assert "Europe/Berlin" in first.text, first.describe()
    await run(fake, "config timezone", {"name": "Asia/Tokyo"})
    again = await run(fake, "digest set", {"channel": channel, "schedule": "daily 08:00"})
    assert "Europe/Berlin" in again.text and "kept" in again.text, again.text
    assert "Asia/Tokyo" not in again.text, again.text
    assert database.subscription(channel.id).timezone == "Europe/Berlin"
    never = await run(fake, "digest set", {"channel": channel, "schedule": "0 9 31 2 *"})
    assert "never fires" in never.text, never.text
    assert database.subscription(channel.id).schedule == "0 8 * * *"
    await bot.stop()


# ----- /digest off's question and /digest now, by an admin -----------------------------------
def button(handle: InteractionHandle, label: str) -> str:
    """The custom_id of the button with this label on the handle's message."""
    return next(c["custom_id"] for c in handle.message.walk_components()
                if c.get("label") == label)


async def upload(fake: FakeDiscord, key: str) -> None:
    """/source upload one of the test articles."""
    title, body = ARTICLES[key]
    added = await run(fake, "source upload",
                      attachments={"file": FakeFile(f"{key}.md", body.encode())})
    assert title in added.text and "added" in added.text, added.describe()


async def test_stop_all_clicked_after_a_restart_stops_the_digests(
        bot: Bot, fake: FakeDiscord, world: World, database: BotDatabase) -> None:
    """The bot restarts between /digest off's question and the click on "Stop all": the click
    is answered in place (the question becomes the result) and the digests stop."""
    channel = world.guild().channel("summit-news")
    await run(fake, "digest set", {"channel": "summit-news", "schedule": YEARLY})
    asked = await run(fake, "digest off")
    assert asked.ephemeral and asked.content.startswith("Stop all 1 digest subscription")
    await bot.stop()
    await bot.start()
    clicked = await (await fake.component(button(asked, "Stop all"), message=asked,
                                          user="alice")).wait_done(timeout=ANSWER_TIMEOUT)
    assert clicked.callback_type == 7, clicked.describe()
    assert asked.message.content == "Stopped 1 digest subscription."
    assert asked.message.components == []
    assert not database.subscription(channel.id).active
    await bot.stop()


async def test_stop_all_is_refused_to_someone_who_is_no_longer_an_admin(
        bot: Bot, fake: FakeDiscord, world: World, database: BotDatabase) -> None:
    """Admin rights are checked again at the click: alice, whose admin role was taken away
    after she asked, is told only admins may stop digests, and they go on."""
    channel = world.guild().channel("summit-news")
    await run(fake, "digest set", {"channel": "summit-news", "schedule": YEARLY})
    asked = await run(fake, "digest off")
    world.guild().member(world.user("alice").id).roles.clear()
    refused = await (await fake.component(button(asked, "Stop all"), message=asked,
                                          user="alice")).wait_done(timeout=ANSWER_TIMEOUT)
    assert refused.ephemeral and refused.content.startswith("Only server admins"), \
        refused.describe()
    assert database.subscription(channel.id).active
    assert asked.message.content.startswith("Stop all")
    await bot.stop()


async def test_a_refused_digest_names_the_missing_permission_then_digest_now_retries_it(
        bot: Bot, fake: FakeDiscord, world: World, database: BotDatabase) -> None:
    """The bot lost Send Messages in the digest channel: /digest now says so in words (the
    permission, where to grant it, what to run, when it is retried) instead of Discord's error;
    once it is granted again, the next /digest now posts the waiting digest at once instead of
    answering that it waits to be retried."""
    channel = world.guild().channel("summit-news")
    await run(fake, "digest set", {"channel": "summit-news", "schedule": YEARLY})
    await upload(fake, "fisheries")
    world.deny(channel, SEND_MESSAGES, user=world.bot)
    await fake.channel_updated(channel)
    refused = await run(fake, "digest now")
    text = refused.content
    assert refused.ephemeral
    # (Discord takes Embed Links away with Send Messages, and discord.py knows it.)
    assert text.startswith(f"I could not post the digest in <#{channel.id}>: I am missing Send "
                           "Messages, Embed Links there. Grant them in the channel's settings "
                           "(Permissions → Summit Desk) and run /digest now again."), text
    assert RETRY_TIME.search(text), text
    for technical in ("DeliveryFailed", "403", "50013", "Forbidden", "error code"):
        assert technical not in text, text
    assert digests(fake, channel) == []

    world.allow(channel, SEND_MESSAGES, user=world.bot)
    await fake.channel_updated(channel)
    retried = await run(fake, "digest now")
    assert retried.content == f"<#{channel.id}>: posted the digest that had failed (1 message).", \
        retried.content
    (post,) = digests(fake, channel)
    assert_lists_exactly(post, ("fisheries",))
    first = database.runs(channel.id)[0]
    assert first.status == "posted" and digest_run(post) == first.id
    await bot.stop()


async def test_digest_now_while_the_last_one_is_being_posted_says_when_it_is_retried(
        bot: Bot, fake: HoldingFakeDiscord, world: World) -> None:
    """A second /digest now while the first one's post is still under way posts nothing and
    says the digest is still being posted and when it is retried if it stalls; the first
    then finishes, once."""
    channel = world.guild().channel("summit-news")
    await run(fake, "digest set", {"channel": "summit-news", "schedule": YEARLY})
    await upload(fake, "visits")
    fake.hold_channel = channel.id
    first = await fake.slash("digest now", user="alice")
    (held,) = await fake.wait_until(lambda: digests(fake, channel), DIGEST_TIMEOUT)
    second = await run(fake, "digest now")
    assert second.content.startswith(f"<#{channel.id}>: the previous digest is still being "
                                     "posted"), second.content
    assert RETRY_TIME.search(second.content), second.content
    fake.hold_channel = None
    fake.release.set()
    await first.wait_done(timeout=ANSWER_TIMEOUT)
    assert first.content == f"<#{channel.id}>: posted (1 message).", first.content
    await settle()
    assert digests(fake, channel) == [held]
    await bot.stop()


# ----- the first digest: since when, and a real period ----------------------------------------
STAMP = re.compile(r"<t:(\d+):([fFTtdD])>")


def shown_apart(description: str) -> bool:
    """Whether a digest header's period reads as two different moments: "From <t:a:s> to
    <t:b:s> ..." where the styles shown differ in what they show ("f" to the minute, "T" to
    the second), or "Up to <t:b:f>" (no span at all)."""
    if description.startswith("Up to <t:"):
        return True
    (start, style), (end, end_style) = STAMP.findall(description)[:2]
    step = 60 if style == "f" else 1
    return style == end_style and int(start) // step != int(end) // step


async def test_the_first_digest_says_since_when_and_shows_a_real_period(
        bot: Bot, fake: FakeDiscord, world: World) -> None:
    """Right after /digest set, /digest preview said "nothing new" "From X to X" (the same
    instant twice) and /digest now "nothing new since the last digest" though none was ever
    posted: both now say digests started here (when), when the next one is due, and that
    earlier articles are in no digest. A digest posted moments later shows a real from–to;
    later "nothing new" lines say since when, or since the last digest."""
    channel = world.guild().channel("summit-news")
    await run(fake, "digest set", {"channel": "summit-news", "schedule": "daily 09:00",
                                   "timezone": "Europe/Berlin"})
    first = (r"Nothing new since digests started here \(<t:\d+:f>\); the next one is due "
             r"<t:\d+:f>\. Articles added before digests started here are in no digest\.")
    preview = await run(fake, "digest preview")
    header = preview.embeds[0]
    assert header["title"] == "Digest preview: nothing new", header
    assert re.fullmatch(first, header["description"]), header["description"]
    now = await run(fake, "digest now")
    assert re.fullmatch(f"<#{channel.id}>: n{first[1:]}", now.content), now.content
    again = await run(fake, "digest now")
    assert re.fullmatch(rf"<#{channel.id}>: nothing new since <t:\d+:f>; the next one is due "
                        r"<t:\d+:f>\.", again.content), again.content
    for key in ("fisheries", "visits"):
        await upload(fake, key)
    ahead = await run(fake, "digest preview")
    assert shown_apart(ahead.embeds[0]["description"]), ahead.embeds[0]["description"]
    posted = await run(fake, "digest now")
    assert posted.content == f"<#{channel.id}>: posted (1 message).", posted.content
    (post,) = digests(fake, channel)
    assert_lists_exactly(post, ("fisheries", "visits"))
    assert shown_apart(post.embeds[0]["description"]), post.embeds[0]["description"]
    after = await run(fake, "digest now")
    assert re.fullmatch(rf"<#{channel.id}>: nothing new since the last digest \(<t:\d+:f>\); "
                        r"the next one is due <t:\d+:f>\.", after.content), after.content
    await bot.stop()

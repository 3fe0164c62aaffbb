"""Server admins end to end (issue 12.8-10): per-server settings (/config), where admin alerts go,
and digest management (/digest set presets and permission checks, /digest list, /digest off).
The real `python -m bot` against the fake Discord, one process for the module."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.bot.launch import (
    HASHING,
    BotDatabase,
    bot_env,
    daily_schedule_fired,
    running_bot,
)
from tests.fakes.discord_server import (
    BotProcess,
    FakeDiscord,
    FakeFile,
    InteractionHandle,
    StoredMessage,
)
from tests.fakes.validation import validate_message
from tests.fakes.web_server import FakeWeb
from tests.fakes.world import EMBED_LINKS, READ_MESSAGE_HISTORY, SEND_MESSAGES, World

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

ANSWER_TIMEOUT = 60.0
NOTICE_TIMEOUT = 30.0
BRIDGE = b"""# A road bridge to the mainland is planned

By Eli Example, analyst at the Example Forum.

Engineers presented a plan for a road bridge across the strait, which the author weighs against
the cost of the ferries it would replace and the decade it would take to build.
"""
ARTICLE = """# Ferry link to the islands reopens

By Dana Example, fellow at the Example Institute.

The ferry between the northern port and the islands runs again after three winters, a small
sign, the author argues, that practical cooperation survives the political freeze.
"""


@pytest.fixture(scope="module")
def world() -> World:
    """Default world (owner, alice with Summit Admin, bob) plus carol with a plain role."""
    world = World.default()
    guild = world.guild()
    world.add_role(guild, "Digest Editors", 0)
    world.add_user("carol", guild=guild, roles=("Digest Editors",))
    return world


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bot's working directory."""
    return tmp_path_factory.mktemp("admin")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeDiscord, world: World, web: FakeWeb, home: Path
              ) -> AsyncIterator[BotProcess]:
    """`python -m bot` with commands in the dev guild and a fast maintenance pass."""
    env = bot_env(fake, home, f"sqlite:///{home / 'library.sqlite3'}", **HASHING,
                  DISCORD_DEV_GUILD_ID=str(world.guild().id), SCHEDULER_MAINTENANCE_SECONDS="1",
                  FETCH_ALLOW_PRIVATE_ADDRESSES="true", FETCH_READ_TIMEOUT="2",
                  ASK_COOLDOWN_SECONDS="0")
    async with running_bot(fake, env, home, guild=world.guild()) as process:
        yield process


@pytest.fixture(scope="module")
def database(home: Path) -> Iterator[BotDatabase]:
    """The test's own connection to the bot's database."""
    db = BotDatabase(f"sqlite:///{home / 'library.sqlite3'}")
    yield db
    db.close()


async def run(fake: FakeDiscord, name: str, options: dict[str, Any] | None = None,
              *, user: str = "alice", **kwargs: Any) -> InteractionHandle:
    """Invoke a command (as alice, an admin, by default) and wait for its final answer."""
    return await (await fake.slash(name, options, user=user, **kwargs)).wait_done(
        timeout=ANSWER_TIMEOUT)


def valid(message: StoredMessage) -> None:
    """Discord would accept the message as it stands."""
    assert validate_message(message.payload, file_count=0, is_edit=True) == {}


def fields(message: StoredMessage) -> dict[str, str]:
    """The first embed's fields by name."""
    return {f["name"]: f["value"] for f in message.embeds[0].get("fields") or []}


# ----- 10. per-server settings -----------------------------------------------------------------
async def test_config_show_marks_defaults(bot: BotProcess, fake: FakeDiscord) -> None:
    """/config show lists the four settings privately, each marked as a default at first."""
    shown = await run(fake, "config show")
    assert shown.ephemeral
    found = fields(shown.message)
    assert set(found) == {"Alert channel", "Admin role", "/ask cooldown (per member)",
                          "Default time zone (digests)"}
    assert all(value.endswith("*(default)*") for value in found.values())
    assert "by DM" in found["Alert channel"]
    valid(shown.message)


async def test_the_admin_role_is_per_server(bot: BotProcess, fake: FakeDiscord) -> None:
    """carol (no Manage Server) is refused until /config admin-role names her role."""
    refused = await run(fake, "digest list", user="carol", strict=False)
    assert refused.ephemeral and refused.content.startswith("Only server admins")
    role = fake.world.guild().role("Digest Editors")
    changed = await run(fake, "config admin-role", {"role": role})
    assert changed.ephemeral and role.mention in changed.content
    assert fields(changed.message)["Admin role"].endswith("*(set here)*")
    allowed = await run(fake, "digest list", user="carol", strict=False)
    assert allowed.ephemeral and allowed.embeds[0]["title"] == "Digest channels"
    await run(fake, "config admin-role")
    again = await run(fake, "digest list", user="carol", strict=False)
    assert again.content.startswith("Only server admins")


async def test_the_ask_cooldown_is_per_server(bot: BotProcess, fake: FakeDiscord) -> None:
    """/config cooldown uses:1 seconds:600 limits bob to one /ask; resetting lifts it."""
    await run(fake, "config cooldown", {"uses": 1, "seconds": 600})
    first = await run(fake, "ask", {"question": "the ferry to the islands"}, user="bob")
    assert not first.ephemeral
    second = await run(fake, "ask", {"question": "the ferry to the islands"}, user="bob")
    assert second.ephemeral and "ask again in" in second.content
    reset = await run(fake, "config cooldown")
    assert "back to the default" in reset.content


async def test_the_default_time_zone_is_per_server(bot: BotProcess, fake: FakeDiscord) -> None:
    """/config timezone sets the zone /digest set uses when it is given none."""
    bad = await run(fake, "config timezone", {"name": "Mars/Olympus"})
    assert bad.ephemeral and bad.content.startswith("Unknown timezone")
    await run(fake, "config timezone", {"name": "Europe/Berlin"})
    done = await run(fake, "digest set", {"channel": "bot-log", "schedule": "daily 07:00"})
    assert "(Europe/Berlin)" in done.content
    await run(fake, "config timezone")
    await run(fake, "digest off", {"channel": "bot-log"})


# ----- 9. digest management --------------------------------------------------------------------
async def test_digest_set_says_which_permissions_are_missing(bot: BotProcess, fake: FakeDiscord,
                                                             world: World) -> None:
    """Without Embed Links and Read Message History in a channel, /digest set names both and
    stores nothing; once granted, the preset is accepted."""
    channel = world.guild().channel("summit-news")
    world.deny(channel, EMBED_LINKS | READ_MESSAGE_HISTORY, user=world.bot)
    await fake.channel_updated(channel)
    refused = await run(fake, "digest set", {"channel": channel, "schedule": "daily 09:00"})
    assert refused.ephemeral
    assert "Embed Links, Read Message History" in refused.content
    assert "Send Messages" not in refused.content
    listed = await run(fake, "digest list")
    assert "summit-news" not in listed.text and str(channel.id) not in listed.text
    world.allow(channel, EMBED_LINKS | READ_MESSAGE_HISTORY, user=world.bot)
    await fake.channel_updated(channel)
    done = await run(fake, "digest set", {"channel": channel, "schedule": "weekly mon 09:00",
                                          "timezone": "Asia/Tokyo"})
    assert "every Monday at 09:00 (Asia/Tokyo)" in done.content
    assert re.search(r"the next one is due <t:\d+:F> \(<t:\d+:R>\)", done.content)


async def test_digest_list_shows_schedules_and_next_times(bot: BotProcess, fake: FakeDiscord,
                                                          world: World) -> None:
    """/digest list: each channel with its cron, time zone and next post time."""
    listed = await run(fake, "digest list")
    text = listed.embeds[0]["description"]
    channel = world.guild().channel("summit-news")
    line = next(line for line in text.splitlines() if f"<#{channel.id}>" in line)
    assert "`0 9 * * 1`" in line and "Asia/Tokyo" in line and re.search(r"<t:\d+:F>", line)
    valid(listed.message)


async def test_presets_and_cron_are_checked(bot: BotProcess, fake: FakeDiscord) -> None:
    """A weekly preset without a day and a bad time are refused with the way to write them;
    the schedule option suggests the presets."""
    no_day = await run(fake, "digest set", {"channel": "general", "schedule": "weekly 09:00"})
    assert no_day.ephemeral and "weekly mon 09:00" in no_day.content
    late = await run(fake, "digest set", {"channel": "general", "schedule": "daily 25:00"})
    assert late.ephemeral and "00:00 to 23:59" in late.content
    typed = await (await fake.autocomplete("digest set", "schedule", "week",
                                           {"channel": "general"}, user="alice")).wait_done()
    assert "weekly mon 09:00" in [c["value"] for c in typed.choices]


async def test_digest_off_without_a_channel_can_be_called_off(bot: BotProcess,
                                                              fake: FakeDiscord) -> None:
    """"Keep them" leaves every subscription in place."""
    asked = await run(fake, "digest off")
    keep = next(c["custom_id"] for c in asked.message.walk_components()
                if c.get("label") == "Keep them")
    kept = await (await fake.component(keep, message=asked, user="alice")).wait_done()
    assert kept.callback_type == 7 and "Nothing changed" in asked.message.content
    listed = await run(fake, "digest list")
    assert "Asia/Tokyo" in listed.embeds[0]["description"]


# ----- 8. admin alerts -------------------------------------------------------------------------
async def test_a_failed_digest_goes_to_the_owner_by_dm_without_an_alert_channel(
        bot: BotProcess, fake: FakeDiscord, world: World, database: BotDatabase) -> None:
    """No alert channel: a digest Discord refuses is reported by DM to the server's owner,
    and nothing about it appears in any public channel."""
    channel = world.guild().channel("general")
    schedule = daily_schedule_fired(dt.timedelta(hours=1))
    await run(fake, "digest set", {"channel": channel, "schedule": schedule, "timezone": "UTC"})
    added = await run(fake, "source upload",
                      attachments={"file": FakeFile("ferry.md", ARTICLE.encode())})
    assert "Ferry link to the islands reopens" in added.text
    world.deny(channel, SEND_MESSAGES, user=world.bot)
    await fake.channel_updated(channel)
    database.backdate(dt.timedelta(days=1), [channel.id],
                      [database.article_id("Ferry link to the islands reopens")])
    owner_dm = world.dm_channel(world.owner)

    def told() -> list[StoredMessage]:
        return [m for m in fake.channel_messages(owner_dm) if "could not post the digest" in m.text]

    [notice] = await fake.wait_until(told, NOTICE_TIMEOUT)
    assert "Summit Desk" in notice.text and f"<#{channel.id}>" in notice.text
    # in words an admin can act on: the permission to grant, not Discord's status line
    assert "Send Messages" in notice.text and "403" not in notice.text, notice.text
    for public in world.guild().text_channels:
        assert not any("could not post the digest" in m.text for m in fake.channel_messages(public))
    fake.errors[:] = [e for e in fake.errors if e.status != 403]  # the refusal we arranged
    world.allow(channel, SEND_MESSAGES, user=world.bot)
    await fake.channel_updated(channel)
    await run(fake, "digest off", {"channel": channel})


async def test_source_results_go_to_the_alert_channel(bot: BotProcess, fake: FakeDiscord,
                                                      world: World, web: FakeWeb) -> None:
    """With /config alerts set, source results are logged there; a /source add that outlives
    its 15-minute token still reaches the admins there."""
    log_channel = world.guild().channel("bot-log")
    before = len(fake.channel_messages(log_channel))
    set_alerts = await run(fake, "config alerts", {"channel": log_channel})
    assert log_channel.mention in set_alerts.content
    upload = await run(fake, "source upload",
                       attachments={"file": FakeFile("ferry-2.md", ARTICLE.encode())})
    assert upload.ephemeral
    await fake.wait_until(lambda: len(fake.channel_messages(log_channel)) > before, 10.0)
    posted = fake.channel_messages(log_channel)[before:]
    assert "added a source" in posted[0].text and "<@" in posted[0].text
    assert (posted[0].allowed_mentions or {}).get("parse") == []

    slow = await fake.slash("source add", {"url": web.url("/stall"), "kind": "article"},
                            user="alice")
    await slow.wait_for(lambda h: h.acknowledged, timeout=ANSWER_TIMEOUT)
    fake.expire_token(slow)  # as if the fetch had taken more than 15 minutes
    await fake.wait_until(lambda: len(fake.channel_messages(log_channel)) > before + 1,
                          ANSWER_TIMEOUT)
    late = fake.channel_messages(log_channel)[-1]
    assert "added a source" in late.text and "/stall" in late.text
    assert [e.kind for e in fake.errors] == ["token expired"]
    fake.errors.clear()
    await run(fake, "config alerts")


async def test_a_feed_add_shows_its_progress_then_the_result(bot: BotProcess, fake: FakeDiscord,
                                                               web: FakeWeb) -> None:
    """/source add of a feed edits its private "thinking" reply with entries read / stored,
    then the same message becomes the result."""
    added = await run(fake, "source add", {"url": web.url("/rss.xml"), "kind": "feed"})
    # Done (for the fake) at the first progress edit; the result follows in the same message.
    await added.wait_for(lambda h: "following feed" in h.message.text, timeout=ANSWER_TIMEOUT)
    message = added.message
    assert added.ephemeral and message is added.original and added.followups == []
    progress = [h["content"] for h in message.history if "entries read" in (h["content"] or "")]
    assert progress and re.fullmatch(r"Reading the feed: \d+ of \d+ entries read, \d+ stored…",
                                     progress[0])
    assert message.content == "" and "following feed" in message.text
    valid(message)


async def test_several_links_show_which_one_is_being_added(bot: BotProcess, fake: FakeDiscord,
                                                           web: FakeWeb) -> None:
    """/source add of several links edits its private "thinking" reply with the link being
    added ("Adding link 1 of 2: …"), then the same message becomes the results."""
    urls = [web.url("/status/404"), web.url("/status/500")]
    added = await run(fake, "source add", {"url": " ".join(urls), "kind": "article"})
    await added.wait_for(lambda h: "Nothing added" in h.message.text, timeout=ANSWER_TIMEOUT)
    message = added.message
    assert added.ephemeral and message is added.original and added.followups == []
    steps = [h["content"] for h in message.history if "Adding link" in (h["content"] or "")]
    assert steps and re.fullmatch(r"Adding link 1 of 2: `http://127\.0\.0\.1:\d+/status/404`…",
                                  steps[0]), steps
    assert message.content == "" and "/status/500" in message.text
    valid(message)


async def test_a_malformed_host_name_is_a_refused_link(bot: BotProcess, fake: FakeDiscord) -> None:
    """/source add of a host name DNS cannot hold (a 64-character label) answers "bad host
    name" in one line, and its interaction is logged as refused, not ok (nor an error)."""
    url = f"http://{'a' * 64}.com/"
    added = await run(fake, "source add", {"url": url, "kind": "article"})
    await added.wait_for(lambda h: "bad host name" in h.message.text, timeout=ANSWER_TIMEOUT)
    assert "internal error" not in added.message.text
    await fake.wait_until(lambda: any(
        "interaction source add " in line for line in bot.lines[-20:]), 5.0)
    logged = [line for line in bot.lines if "interaction source add " in line]
    assert "outcome=refused" in logged[-1], logged[-1]


async def test_zz_nothing_rejected(bot: BotProcess, fake: FakeDiscord) -> None:
    """Nothing above made Discord reject a request, or the bot log an error."""
    fake.assert_no_errors()
    assert bot.error_lines() == [], bot.output


async def test_a_digest_article_opens_from_its_read_menu(bot: BotProcess,
                                                         fake: FakeDiscord) -> None:
    """Digest messages list their articles in a Read menu; a pick opens the article privately."""
    added = await run(fake, "source upload", attachments={"file": FakeFile("bridge.md", BRIDGE)})
    assert "added" in added.text, added.text
    preview = await run(fake, "digest preview")
    menu = next((c for c in preview.message.walk_components() if c["type"] == 3), None)
    assert menu is not None, (preview.text, preview.components)
    assert menu["custom_id"] == "read:pick" and menu["options"]
    value = menu["options"][0]["value"]
    opened = await (await fake.component("read:pick", message=preview, user="alice",
                                         values=[value])).wait_done(timeout=ANSWER_TIMEOUT)
    assert opened.ephemeral and opened.embeds[0]["title"] == menu["options"][0]["label"]
    valid(opened.message)

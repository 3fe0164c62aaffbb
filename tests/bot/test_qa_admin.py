"""Admin replies QA found wrong, end to end against the fake Discord: /source add and upload
titles and per-input lines, /config admin-role (@everyone refused, the role shown by name),
"@Summit Desk resync" from a non-owner, a bad cron or an unreadable schedule in /digest set, and
what /config cooldown says it changed."""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.bot.launch import HASHING, bot_env, running_bot
from tests.fakes.discord_server import (
    BotProcess,
    FakeDiscord,
    FakeFile,
    InteractionHandle,
    StoredMessage,
)
from tests.fakes.validation import validate_message
from tests.fakes.web_server import FakeWeb
from tests.fakes.world import World
from tests.knowledge.sources.service.conftest import rss_items

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

ANSWER_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def world() -> World:
    """Default world (owner, alice with Summit Admin, bob) with an Editors role, and a second
    server."""
    world = World.default()
    world.add_role(world.guild(), "Editors", 0)
    world.add_guild("Other Server", channels=("general",))  # its owner: the bot's owner
    return world


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bot's working directory."""
    return tmp_path_factory.mktemp("qa-admin")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeDiscord, world: World, web: FakeWeb, home: Path
              ) -> AsyncIterator[BotProcess]:
    """`python -m bot` with global commands (both servers), logging at debug level, its
    deployment admin role given by name."""
    env = bot_env(fake, home, f"sqlite:///{home / 'library.sqlite3'}", **HASHING,
                  FETCH_ALLOW_PRIVATE_ADDRESSES="true", FETCH_READ_TIMEOUT="2",
                  ASK_COOLDOWN_SECONDS="0", LOG_LEVEL="DEBUG", DISCORD_ADMIN_ROLE="Summit Admin")
    async with running_bot(fake, env, home) as process:
        yield process


@pytest.fixture(scope="module")
def refused_base() -> str:
    """A local address nothing listens on (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def run(fake: FakeDiscord, name: str, options: dict[str, Any] | None = None,
              *, user: str = "alice", **kwargs: Any) -> InteractionHandle:
    """Invoke a command (as alice, an admin, by default) and wait for its final answer."""
    return await (await fake.slash(name, options, user=user, **kwargs)).wait_done(
        timeout=ANSWER_TIMEOUT)


def valid(message: StoredMessage) -> None:
    """Discord would accept the message as it stands."""
    assert validate_message(message.payload, file_count=0, is_edit=True) == {}


def lines(handle: InteractionHandle) -> list[str]:
    """The result lines of a /source reply."""
    return str(handle.embeds[0]["description"]).splitlines()


# ----- 1, 2. /source add and upload say what happened, input by input ---------------------------
async def test_a_refused_link_is_titled_nothing_added(bot: BotProcess, fake: FakeDiscord,
                                                      refused_base: str) -> None:
    """A link whose server refuses the connection: "Nothing added", not "Added to the library"."""
    reply = await run(fake, "source add", {"url": f"{refused_base}/gone.html"})
    assert reply.ephemeral and reply.embeds[0]["title"] == "Nothing added"
    assert lines(reply)[0].startswith("⚠️") and "connect" in lines(reply)[0]
    valid(reply.message)


async def test_failed_uploads_are_titled_nothing_added(bot: BotProcess,
                                                       fake: FakeDiscord) -> None:
    """An empty .txt and a damaged PDF store nothing, and the title says so."""
    for file in (FakeFile("empty.txt", b""), FakeFile("broken.pdf", b"%PDF-1.4 not really")):
        reply = await run(fake, "source upload", attachments={"file": file})
        assert reply.embeds[0]["title"] == "Nothing added", (file.filename, reply.text)
        valid(reply.message)


async def test_an_oversized_upload_is_refused_on_the_same_card(bot: BotProcess,
                                                                fake: FakeDiscord) -> None:
    """A file over UPLOAD_MAX_BYTES (5 MB by default) is refused before it is read, on the
    "Nothing added" card every other refused upload gets (it was a bare line)."""
    big = FakeFile("big.txt", b"x" * 5_500_000)
    reply = await run(fake, "source upload", attachments={"file": big})
    assert reply.ephemeral and reply.embeds[0]["title"] == "Nothing added", reply.text
    assert lines(reply) == ["⚠️ big.txt is 5.5 MB; the limit is 5.0 MB"], lines(reply)
    valid(reply.message)


async def test_a_mixed_add_counts_what_was_added_and_names_each_input(
        bot: BotProcess, fake: FakeDiscord, web: FakeWeb, refused_base: str) -> None:
    """Three links, one stored: "Added 1 of 3", each line naming its (shortened) link; the
    same link again is a duplicate, so "Nothing added"."""
    article = web.url("/posts/summit-1.html")
    urls = [article, web.url("/status/404"), f"{refused_base}/x.html"]
    reply = await run(fake, "source add", {"url": " ".join(urls), "kind": "article"})
    # the note shows each link as it goes ("Adding link 2 of 3: …"), then becomes the result
    await reply.wait_for(lambda h: bool(h.message.embeds), timeout=ANSWER_TIMEOUT)
    assert reply.embeds[0]["title"] == "Added 1 of 3", reply.text
    found = lines(reply)
    assert len(found) == 3
    for line, url in zip(found, urls, strict=True):
        assert f"`{url}`: " in line, line  # as typed
    assert found[0].startswith("✅") and found[1].startswith("⚠️")
    valid(reply.message)
    again = await run(fake, "source add", {"url": article, "kind": "article"})
    assert again.embeds[0]["title"] == "Nothing added" and lines(again)[0].startswith("↩️")


async def test_many_failed_links_are_named_then_summed_up(bot: BotProcess, fake: FakeDiscord,
                                                          refused_base: str) -> None:
    """52 refused links: a few lines naming their link, then "… and 49 more failed the same
    way", in one message Discord accepts."""
    urls = [f"{refused_base}/feed-{n}.xml" for n in range(52)]
    reply = await run(fake, "source add", {"url": " ".join(urls)})
    await reply.wait_for(lambda h: bool(h.message.embeds), timeout=ANSWER_TIMEOUT)
    assert reply.embeds[0]["title"] == "Nothing added"
    found = lines(reply)
    assert found[-1] == "… and 49 more failed the same way", found
    for line, url in zip(found[:-1], urls, strict=False):
        assert line.startswith(f"⚠️ `{url}`: could not connect"), line
    valid(reply.message)


# ----- 3, 4. the admin role ------------------------------------------------------------------
async def test_everyone_is_refused_as_the_admin_role(bot: BotProcess, fake: FakeDiscord,
                                                     world: World) -> None:
    """/config admin-role @everyone is refused privately with what to do instead, and bob (no
    role) stays a non-admin."""
    everyone = world.guild().roles[0]
    assert everyone.id == world.guild().id
    refused = await run(fake, "config admin-role", {"role": everyone})
    assert refused.ephemeral and refused.embeds == []
    assert refused.content.startswith("@everyone cannot be the admin role")
    assert "Create a role" in refused.content
    shown = await run(fake, "config show")
    admin = next(f for f in shown.embeds[0]["fields"] if f["name"] == "Admin role")
    assert admin["value"].endswith("*(default)*")
    bob = await run(fake, "digest list", user="bob", strict=False)
    assert bob.content.startswith("Only server admins")


async def test_the_admin_role_is_shown_as_a_role_not_an_id(bot: BotProcess, fake: FakeDiscord,
                                                           world: World) -> None:
    """The confirmation and /config show mention the role (<@&id>) with pings disabled."""
    role = world.guild().role("Editors")
    changed = await run(fake, "config admin-role", {"role": role})
    shown = await run(fake, "config show")
    for reply in (changed, shown):
        admin = next(f for f in reply.embeds[0]["fields"] if f["name"] == "Admin role")
        assert admin["value"] == f"<@&{role.id}> *(set here)*", admin
        assert (reply.message.allowed_mentions or {}).get("parse") == []
        valid(reply.message)
    default = await run(fake, "config admin-role")
    admin = next(f for f in default.embeds[0]["fields"] if f["name"] == "Admin role")
    summit_admin = world.guild().role("Summit Admin")  # DISCORD_ADMIN_ROLE, given by name
    assert admin["value"] == f"<@&{summit_admin.id}> *(default)*", admin


async def test_the_other_server_keeps_its_own_admin_role(bot: BotProcess, fake: FakeDiscord,
                                                         world: World) -> None:
    """A role chosen in one server does not show in another's /config show."""
    await run(fake, "config admin-role", {"role": world.guild().role("Editors")})
    other = world.guild("Other Server")
    shown = await run(fake, "config show", user="owner", guild=other)
    admin = next(f for f in shown.embeds[0]["fields"] if f["name"] == "Admin role")
    assert admin["value"].endswith("*(default)*") and "<@&" not in admin["value"], admin
    await run(fake, "config admin-role")


# ----- 5. "@Summit Desk resync" from someone else ----------------------------------------------
async def test_a_non_owner_resync_is_ignored_but_logged(bot: BotProcess, fake: FakeDiscord,
                                                        world: World) -> None:
    """bob's "@Summit Desk resync" gets no public reply and no sync, and is logged (debug)."""
    channel = world.guild().channel("bot-log")
    syncs = len(fake.command_syncs)
    bob = world.user("bob")
    await fake.user_message(f"<@{world.bot.id}> resync", user="bob", channel=channel)
    line = await bot.wait_for_output(f"text command resync refused for user {bob.id}",
                                     timeout=ANSWER_TIMEOUT)
    assert "DEBUG" in line and "only the bot's owner" in line
    assert not [m for m in fake.channel_messages(channel)
                if m.payload["author"]["id"] == str(world.bot.id)]
    assert len(fake.command_syncs) == syncs


# ----- 6. a cron with impossible values ------------------------------------------------------
async def test_a_bad_cron_names_the_bad_fields(bot: BotProcess, fake: FakeDiscord) -> None:
    """`61 25 * * *` is refused with each bad field named in words, not APScheduler's text."""
    refused = await run(fake, "digest set", {"channel": "general", "schedule": "61 25 * * *"})
    assert refused.ephemeral
    assert "minute 61 is out of range (0-59)" in refused.content
    assert "hour 25 is out of range (0-23)" in refused.content
    assert "Error validating" not in refused.content
    listed = await run(fake, "digest list")
    assert "61 25" not in listed.text


async def test_an_unreadable_schedule_names_the_accepted_forms(bot: BotProcess,
                                                                fake: FakeDiscord) -> None:
    """`every tuesday` is refused with every form /digest set accepts, the weekly and cron
    examples on the Tuesday it named, and no pointer to a /help that has no /digest example."""
    refused = await run(fake, "digest set", {"channel": "general", "schedule": "every tuesday"})
    assert refused.ephemeral and refused.content.startswith("“every tuesday” is not a schedule")
    for form in ("daily 09:00", "weekdays 08:30", "weekly tue 09:00", r"0 9 \* \* 2"):
        assert form in refused.content, (form, refused.content)
    assert "/help" not in refused.content


async def test_config_cooldown_says_exactly_what_changed(bot: BotProcess,
                                                         fake: FakeDiscord) -> None:
    """Each /config cooldown reply names the cooldown it set and the one before, or says that
    nothing changed (`uses: 2` alone on 2 per 5 s); `uses: 2` while the cooldown is off (the
    deployment's window here is 0 s) says it stays off until seconds are given."""
    steps = [({"uses": 2, "seconds": 5}, "The /ask cooldown is now 2 questions per 5 s (was "
                                         "off), from each member's next question."),
             ({"uses": 2}, "Nothing changed: the /ask cooldown is already 2 questions per 5 s."),
             ({"uses": 3}, "The /ask cooldown is now 3 questions per 5 s (was 2 questions per "
                           "5 s)"),
             ({}, "The /ask cooldown is back to the default: off (was 3 questions per 5 s)."),
             ({"uses": 2}, "The /ask cooldown stays off: 2 questions per window is kept, but "
                           "its window is 0 s. Give seconds too"),
             ({}, "The /ask cooldown is back to the default: off, as it was.")]
    for options, said in steps:
        reply = await run(fake, "config cooldown", options)
        assert reply.ephemeral and reply.content.startswith(said), (options, reply.content)


async def test_zz_nothing_rejected(bot: BotProcess, fake: FakeDiscord) -> None:
    """Nothing above made Discord reject a request, or the bot log an error."""
    fake.assert_no_errors()
    assert bot.error_lines() == [], bot.output


# ----- /source poll: a feed read now from Discord ------------------------------------------------
async def test_an_admin_reads_a_feed_now_after_fixing_it(bot: BotProcess, fake: FakeDiscord,
                                                         web: FakeWeb) -> None:
    """A feed that failed waits for its backoff (up to a day); `/source poll` reads it now and
    says what it found, or why it could not: an outside admin had only the CLI for that. An
    article is not a feed, and says so."""
    web.route("/poll-feed.xml", rss_items(0), "application/rss+xml")
    added = await run(fake, "source add", {"url": web.url("/poll-feed.xml"), "kind": "feed"})
    await added.wait_for(lambda h: bool(h.message.embeds), timeout=ANSWER_TIMEOUT)
    found = re.search(r"following feed #(\d+)", lines(added)[0])
    assert found, lines(added)
    source_id = int(found.group(1))
    web.route("/poll-feed.xml", "<h1>down</h1>", status=500)
    failed = await run(fake, "source poll", {"source": source_id})
    assert failed.ephemeral
    assert failed.content.startswith(f"⚠️ Feed #{source_id} could not be read: 127.0.0.1 "
                                     "answered 500 Internal Server Error"), failed.content
    web.route("/poll-feed.xml", rss_items(0, 1), "application/rss+xml")
    read = await run(fake, "source poll", {"source": source_id})
    assert read.content == f"Feed #{source_id} read now: 1 new article.", read.content
    article = await run(fake, "source add", {"url": web.url("/posts/summit-2.html"),
                                             "kind": "article"})
    await article.wait_for(lambda h: bool(h.message.embeds), timeout=ANSWER_TIMEOUT)
    listed = await run(fake, "source list")
    ids = [int(n) for n in re.findall(r"`#(\d+)` article", listed.text)]
    refused = await run(fake, "source poll", {"source": ids[-1]}, strict=False)
    assert refused.ephemeral and "not a feed" in refused.content, refused.content
    assert "/help shows an example" not in refused.content, refused.content


NOTES = (b"# Ferry timetable notes\n\nThe harbour council reviewed the winter ferry timetable "
         b"and agreed to add an early crossing on weekdays, paid for by the harbour dues.\n")


async def test_poll_suggests_feeds_only(bot: BotProcess, fake: FakeDiscord, world: World
                                        ) -> None:
    """/source poll source: offers the server's feeds alone (it offered files and pages too,
    then refused them with a pointer to a /help example that does not exist); a server that
    follows no feed gets no suggestion and, run anyway, is told how to add one."""
    suggested = await (await fake.autocomplete("source poll", "source", "", user="alice")
                       ).wait_done(timeout=ANSWER_TIMEOUT)
    names = [c["name"] for c in suggested.choices]
    assert names and all(name.endswith("(feed)") for name in names), names
    removable = await (await fake.autocomplete("source remove", "source", "", user="alice")
                       ).wait_done(timeout=ANSWER_TIMEOUT)
    assert any(not c["name"].endswith("(feed)") for c in removable.choices)  # unchanged there
    other = world.guild("Other Server")
    uploaded = await run(fake, "source upload", user="owner", guild=other,
                         attachments={"file": FakeFile("notes.md", NOTES)})
    assert uploaded.embeds[0]["title"] != "Nothing added", uploaded.text
    listed = await run(fake, "source list", user="owner", guild=other)
    [file_id] = [int(n) for n in re.findall(r"`#(\d+)`", listed.text)]
    none = await (await fake.autocomplete("source poll", "source", "", user="owner",
                                          guild=other)).wait_done(timeout=ANSWER_TIMEOUT)
    assert none.choices == []
    told = await run(fake, "source poll", {"source": file_id}, user="owner", guild=other)
    assert told.ephemeral and told.content == (
        "This server follows no feeds; add one with `/source add url: (the feed's address) "
        "kind: feed`, and /source poll can read it whenever you like."), told.content
    valid(told.message)

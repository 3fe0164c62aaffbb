"""Discord's limits where the data grows past them, end to end: the real `python -m bot`
against the fake Discord (which refuses what Discord refuses, repeated select option values
included). Co-authors sharing their best passage in /compare, a server with 90 digest
channels (/digest list, /digest off), mentions asking for help under the cooldown or asking a
question, and autocompletes kept out of the INFO log.

One bot process serves the module (the fast hashing embedder: these tests are about sizes
and what gets posted, not ranking).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
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
from tests.fakes.world import READ_MESSAGE_HISTORY, SEND_MESSAGES, World

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

ANSWER_TIMEOUT = 60.0
FEED_CHANNELS = 90  # digest channels: their list overflows an embed, their mentions a message
SCHEDULE = "0 9 1 1 *"  # once a year: nothing is posted while the module runs
COAUTHORED = """# Kuril fisheries accord reached

By Jane Example and John Sample, senior fellows at the Example Institute.

Negotiators from Tokyo and Moscow agreed on a quota regime for salmon fishing near the
Kuril Islands, a modest step the authors call a test of the joint economic activities plan.
The accord covers the 2024 season and sets up a commission that meets twice a year.
"""
MENTION = re.compile(r"<#(\d+)>")


@pytest.fixture(scope="module")
def world() -> World:
    """Default world with 90 more text channels and a few readers."""
    world = World.default()
    guild = world.guild()
    for n in range(FEED_CHANNELS):
        world.add_channel(guild, f"feed-{n:02d}")
    for name in ("reader1", "reader2", "mia", "noor", "ravi", "sol", "tess", "una", "vic",
                 "wes"):
        world.add_user(name, guild=guild)
    world.add_user("helperbot", guild=guild, bot=True)
    quiet = world.add_channel(guild, "quiet")  # the bot may read here, not post
    world.deny(quiet, SEND_MESSAGES, user=world.bot)
    unread = world.add_channel(guild, "no-history")  # it may post, not reply
    world.deny(unread, READ_MESSAGE_HISTORY, user=world.bot)
    return world


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeDiscord, world: World, tmp_path_factory: pytest.TempPathFactory
              ) -> AsyncIterator[BotProcess]:
    """`python -m bot` synced to the guild; one question per user per 10 minutes."""
    home = tmp_path_factory.mktemp("limits")
    env = bot_env(fake, home, **HASHING, DISCORD_DEV_GUILD_ID=str(world.guild().id),
                  ASK_COOLDOWN_RATE="1", ASK_COOLDOWN_SECONDS="600")
    async with running_bot(fake, env, home, guild=world.guild()) as process:
        yield process


async def run(fake: FakeDiscord, name: str, options: dict[str, Any] | None = None,
              **kwargs: Any) -> InteractionHandle:
    """Invoke a command and wait for its final answer."""
    return await (await fake.slash(name, options, **kwargs)).wait_done(timeout=ANSWER_TIMEOUT)


def valid(message: StoredMessage) -> None:
    """What Discord would accept (the fake's own validation of the stored message)."""
    assert validate_message(message.payload, file_count=0, is_edit=True) == {}


def controls(message: StoredMessage) -> dict[str, dict[str, Any]]:
    """Buttons by label."""
    return {c.get("label", ""): c for c in message.walk_components() if c["type"] == 2}


async def test_compare_offers_a_passage_two_coauthors_share_once(bot: BotProcess,
                                                                 fake: FakeDiscord) -> None:
    """Two co-authors whose best passage is the same one: /compare answers publicly with one
    field for it headed by both names, one Read option per field (the shared one naming
    both), and the pick opens it."""
    added = await run(fake, "source upload", user="alice", attachments={
        "file": FakeFile("kuril-fisheries.md", COAUTHORED.encode())})
    assert "Kuril fisheries accord" in added.text
    compared = await run(fake, "compare", {"topic": "salmon fishing quota regime"},
                         user="reader1")
    assert not compared.ephemeral, compared.text
    fields = compared.embeds[0]["fields"]
    quoting = [f for f in fields if "Negotiators from Tokyo and Moscow" in f["value"]]
    assert [f["name"] for f in quoting] == ["Jane Example, John Sample"]
    assert not {"Jane Example", "John Sample"} & {f["name"] for f in fields}
    [menu] = [c for c in compared.message.walk_components() if c["type"] == 3]
    values = [o["value"] for o in menu["options"]]
    assert len(values) == len(set(values)) == len(fields)
    [shared] = [o for o in menu["options"] if "Kuril fisheries accord" in o["label"]]
    assert "Jane Example" in shared["label"] and "John Sample" in shared["label"]
    valid(compared.message)
    opened = await (await fake.component("read:pick", message=compared, user="reader2",
                                         values=[shared["value"]])).wait_done(
        timeout=ANSWER_TIMEOUT)
    assert opened.ephemeral and "salmon fishing" in opened.text


async def test_digest_list_pages_through_every_channel(bot: BotProcess, fake: FakeDiscord,
                                                       world: World) -> None:
    """90 digest channels: /digest list pages them (Back/Next), each channel on a page, none
    left out, every page within Discord's limits."""
    feeds = [c for c in world.guild().text_channels if c.name.startswith("feed-")]
    for channel in feeds:
        done = await run(fake, "digest set", {"channel": channel.name, "schedule": SCHEDULE,
                                              "timezone": "UTC"}, user="alice")
        assert "Digests will be posted" in done.content, done.content
    listed = await run(fake, "digest list", user="alice")
    message = listed.message
    assert listed.ephemeral
    total = int(next(re.fullmatch(r"Page 1 of (\d+)", label)[1]  # type: ignore[index]
                     for label in controls(message) if label.startswith("Page ")))
    assert total >= 2
    seen: set[int] = set()
    for page in range(total):
        valid(message)
        seen |= {int(m) for m in MENTION.findall(message.embeds[0]["description"])}
        if page < total - 1:
            turned = await (await fake.component(controls(message)["Next"]["custom_id"],
                                                 message=message, user="alice")).wait_done(
                timeout=ANSWER_TIMEOUT)
            assert turned.callback_type == 6
    assert seen == {c.id for c in feeds}


async def test_digest_off_names_whole_channel_mentions_then_how_many_more(
        bot: BotProcess, fake: FakeDiscord, world: World) -> None:
    """/digest off with 90 channels asks about all of them in one message: whole mentions
    while they fit, then "and N more" counting the rest exactly."""
    asked = await run(fake, "digest off", user="alice")
    content = asked.content
    assert len(content) <= 2000 and asked.ephemeral
    listed = content[content.index("(") + 1:content.rindex(")")]
    found = re.fullmatch(r"((?:<#\d+>, )*<#\d+>) and (\d+) more", listed)
    assert found, listed
    shown = MENTION.findall(found[1])
    assert len(shown) + int(found[2]) == FEED_CHANNELS
    assert content.startswith(f"Stop all {FEED_CHANNELS} digest subscriptions")
    keep = next(c["custom_id"] for c in asked.message.walk_components()
                if c.get("label") == "Keep them")
    kept = await (await fake.component(keep, message=asked, user="alice")).wait_done()
    assert kept.callback_type == 7


async def test_a_mention_on_cooldown_gets_no_help_card(bot: BotProcess, fake: FakeDiscord,
                                                       world: World) -> None:
    """Mentioning the bot for help is held to the /ask cooldown (one per 10 minutes here):
    the second mention from the same person gets no reply; someone else's does."""
    channel = world.guild().channel("general")
    me = world.bot.id

    def replies_to(message: StoredMessage) -> list[StoredMessage]:
        return [m for m in fake.channel_messages(channel)
                if str((m.payload.get("message_reference") or {}).get("message_id"))
                == str(message.id)]

    first = await fake.user_message(f"<@{me}>", user="mia", channel=channel)
    [card] = await fake.wait_until(lambda: replies_to(first), ANSWER_TIMEOUT)
    assert "/ask" in card.text
    again = await fake.user_message(f"<@{me}> help", user="mia", channel=channel)
    await bot.wait_for_output(f"help mention by user {world.user('mia').id} in channel "
                              f"{channel.id} left unanswered", ANSWER_TIMEOUT)
    other = await fake.user_message(f"<@{me}>", user="noor", channel=channel)
    await fake.wait_until(lambda: replies_to(other), ANSWER_TIMEOUT)
    assert replies_to(again) == []


async def test_a_mention_with_a_question_gets_the_ask_command_to_paste(
        bot: BotProcess, fake: FakeDiscord, world: World) -> None:
    """A mention with a question gets a reply with the /ask command asking it (other mentions
    as names, nobody pinged); a bot's mention gets none; in a channel where the bot may not
    post, nothing is attempted; where it may not read the history, a plain post."""
    guild = world.guild()
    general = guild.channel("general")
    me, tess = world.bot.id, world.user("tess")
    from_bot = await fake.user_message(f"<@{me}> what about the islands?", user="helperbot",
                                       channel=general)
    asked = await fake.user_message(f"<@{me}> what did experts say about <@{tess.id}> and "
                                    "the islands?", user="ravi", channel=general)

    def replies_to(message: StoredMessage) -> list[StoredMessage]:
        return [m for m in fake.channel_messages(message.channel_id)
                if str((m.payload.get("message_reference") or {}).get("message_id"))
                == str(message.id)]

    [pointer] = await fake.wait_until(lambda: replies_to(asked), ANSWER_TIMEOUT)
    assert "`/ask question: what did experts say about @Tess and the islands?`" \
        in pointer.content, pointer.content
    assert pointer.allowed_mentions == {"parse": [], "replied_user": False}
    assert pointer.payload["mentions"] == [] and not pointer.embeds
    valid(pointer)
    assert replies_to(from_bot) == []
    await fake.user_message(f"<@{me}> and the ferries?", user="sol",
                            channel=guild.channel("quiet"))
    await bot.wait_for_output(f"mention by user {world.user('sol').id} in channel "
                              f"{guild.channel('quiet').id} left unanswered: I may not post "
                              "there", ANSWER_TIMEOUT)
    unread = guild.channel("no-history")
    before = len(fake.channel_messages(unread))
    await fake.user_message(f"<@{me}> and the fisheries?", user="tess", channel=unread)
    [post] = (await fake.wait_until(lambda: fake.channel_messages(unread)[before + 1:],
                                    ANSWER_TIMEOUT))
    assert "`/ask question: and the fisheries?`" in post.content
    assert "message_reference" not in post.payload


async def test_a_mention_with_invisible_marks_code_or_a_long_question(
        bot: BotProcess, fake: FakeDiscord, world: World) -> None:
    """A mention followed only by invisible characters gets the help card (not "/ask
    question: " with a zero-width space); code fences are left out of the command to paste;
    a question too long for /ask is cut at a word and the reply says so."""
    general = world.guild().channel("general")
    me = world.bot.id

    async def reply_to(content: str, user: str) -> StoredMessage:
        asked = await fake.user_message(content, user=user, channel=general)
        [answer] = await fake.wait_until(lambda: [
            m for m in fake.channel_messages(general.id)
            if str((m.payload.get("message_reference") or {}).get("message_id"))
            == str(asked.id)], ANSWER_TIMEOUT)
        valid(answer)
        return answer

    invisible = await reply_to(f"<@{me}> \u202e\u200b\u2066", "una")
    assert invisible.embeds and "/ask question" not in invisible.content
    fenced = await reply_to(f"<@{me}> ```\nwhat about the islands?\n```", "vic")
    assert "`/ask question: what about the islands?`" in fenced.content, fenced.content
    long = await reply_to(f"<@{me}> " + "what did experts say about the islands " * 20, "wes")
    assert "cut to fit: /ask takes 500 characters at most" in long.content, long.content
    pasted = long.content.split("`")[1]
    assert len(pasted) <= len("/ask question: ") + 500
    assert pasted.split()[-1] in "what did experts say about the islands".split()  # a word


async def test_autocompletes_stay_out_of_the_info_log(bot: BotProcess, fake: FakeDiscord,
                                                      world: World) -> None:
    """An autocomplete (one per keystroke) logs no INFO line; the command after it does."""
    for typed in ("E", "Eu", "Eur"):
        await (await fake.autocomplete("digest set", "timezone", typed, {"channel": "general"},
                                       user="alice")).wait_done()
    await run(fake, "help", user="noor")
    await bot.wait_for_output(f"user_id={world.user('noor').id}", ANSWER_TIMEOUT)
    assert not [line for line in bot.lines if "(autocomplete)" in line]


async def test_zz_nothing_rejected(bot: BotProcess, fake: FakeDiscord) -> None:
    """Nothing above made Discord reject a request, or the bot log an error."""
    fake.assert_no_errors()
    assert bot.error_lines() == [], bot.output

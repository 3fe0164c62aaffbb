"""QA replies end to end (the real `python -m bot` against the fake Discord): empty /compare,
/expert and /summit results are private with a next step, with and without "thinking…" first;
a double click on "Stop all" stops once; the first digest after /digest set agrees with
/digest preview."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.bot.launch import bot_env, running_bot
from tests.fakes.discord_server import BotProcess, FakeDiscord, FakeFile, InteractionHandle
from tests.fakes.world import World

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

ANSWER_TIMEOUT = 60.0
ARTICLE = """# {title}

By Ann Example, fellow at the Example Institute.

{title}: negotiators from Tokyo and Moscow met again this week over the islands, a modest
step the author calls a test of the joint economic activities plan for the season ahead.
"""


@pytest.fixture(scope="module")
def world() -> World:
    """The default world: alice is an admin, bob a member."""
    return World.default()


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["0", "default"])
async def bot(request: pytest.FixtureRequest, fake: FakeDiscord, world: World,
              tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotProcess]:
    """`python -m bot` with "thinking…" at once (REPLY_WITHIN_MS=0) and with the default."""
    home = tmp_path_factory.mktemp("qa")
    extra = {"REPLY_WITHIN_MS": request.param} if request.param != "default" else {}
    env = bot_env(fake, home, ASK_COOLDOWN_SECONDS="0", **extra)  # the real model: it ranks
    async with running_bot(fake, env, home) as process:
        yield process


async def run(fake: FakeDiscord, name: str, options: dict[str, Any] | None = None,
              **kwargs: Any) -> InteractionHandle:
    """Invoke a command and wait for its final answer."""
    return await (await fake.slash(name, options, **kwargs)).wait_done(timeout=ANSWER_TIMEOUT)


def private_with_next_step(handle: InteractionHandle) -> None:
    """The answer is ephemeral, suggests what to try, and leaves no public message behind."""
    assert handle.ephemeral, (handle.describe(), handle.text)
    assert "/help" in handle.content and "Try other words" in handle.content
    assert not handle.embeds
    public = [m for m in handle.messages if not m.deleted and not m.ephemeral]
    assert public == [], handle.describe()


async def test_compare_without_an_expert_on_the_topic_is_private(
        bot: BotProcess, fake: FakeDiscord) -> None:
    """/compare topic: egg boiling: a private "no expert addressed it" with what to try."""
    reply = await run(fake, "compare", {"topic": "egg boiling"}, user="bob")
    private_with_next_step(reply)
    assert "egg boiling" in reply.content


async def test_expert_without_a_passage_on_the_topic_is_private(
        bot: BotProcess, fake: FakeDiscord) -> None:
    """/expert name: <expert> topic: boiled eggs recipe: private, with what to try."""
    reply = await run(fake, "expert", {"name": "Dmitry Streltsov",
                                       "topic": "boiled eggs recipe"}, user="bob")
    private_with_next_step(reply)
    assert "Dmitry Streltsov" in reply.content and "boiled eggs recipe" in reply.content


async def test_expert_with_a_matching_topic_is_still_public(
        bot: BotProcess, fake: FakeDiscord) -> None:
    """A topic that matches keeps the public card with the expert's passages."""
    reply = await run(fake, "expert", {"name": "Dmitry Streltsov",
                                       "topic": "joint economic development"}, user="bob")
    assert not reply.ephemeral and reply.embeds


async def test_summit_without_commentary_on_the_topic_is_private(
        bot: BotProcess, fake: FakeDiscord) -> None:
    """/summit name: 2017-04 topic: <nothing said about it>: private, with what to try."""
    reply = await run(fake, "summit", {"name": "2017-04", "topic": "boiled eggs recipe"},
                      user="bob")
    private_with_next_step(reply)
    assert "boiled eggs recipe" in reply.content


async def test_stop_all_clicked_twice_stops_once(bot: BotProcess, fake: FakeDiscord) -> None:
    """Two clicks on the same "Stop all" (a double click): one says it stopped the
    subscription, the other that nothing was left to stop."""
    await run(fake, "digest set", {"channel": "bot-log", "schedule": "30 8 * * *"},
              user="alice")
    asked = await run(fake, "digest off", user="alice")
    stop = next(c["custom_id"] for c in asked.message.walk_components()
                if c.get("label") == "Stop all")
    clicks = [await fake.component(stop, message=asked, user="alice") for _ in range(2)]
    await asyncio.gather(*(c.wait_done(timeout=ANSWER_TIMEOUT) for c in clicks))
    said = sorted(str((c.callback_data or {}).get("content") or c.content) for c in clicks)
    assert sum(s.startswith("Stopped 1 digest subscription") for s in said) == 1, said
    assert any("no digest subscription" in s or "nothing" in s.lower() for s in said), said
    assert asked.message.components == []


async def test_first_digest_after_set_agrees_with_the_preview(
        bot: BotProcess, fake: FakeDiscord, world: World) -> None:
    """QA: three articles, then /digest set: /digest preview and two /digest now
    agree that the articles added before subscribing are not new; one added after is
    previewed and then posted, once."""
    for n in range(3):
        title = f"Before subscribing {request_tag(bot)} {n}"
        await run(fake, "source upload", user="alice", attachments={
            "file": FakeFile(f"before{n}.md", ARTICLE.format(title=title).encode())})
    # QA used "* * * * *"; a yearly time keeps the scheduler from posting mid-test.
    await run(fake, "digest set", {"channel": "summit-news", "schedule": "0 0 1 1 *"},
              user="alice")
    preview = await run(fake, "digest preview", user="alice")
    assert "Before subscribing" not in preview.text
    first = await run(fake, "digest now", user="alice")
    assert "nothing new" in first.content, first.content
    second = await run(fake, "digest now", user="alice")
    assert "nothing new" in second.content, second.content
    after = f"After subscribing {request_tag(bot)}"
    await run(fake, "source upload", user="alice", attachments={
        "file": FakeFile("after.md", ARTICLE.format(title=after).encode())})
    preview = await run(fake, "digest preview", user="alice")
    assert after in preview.text and "Before subscribing" not in preview.text
    posted = await run(fake, "digest now", user="alice")
    assert "posted (1 message)" in posted.content, posted.content
    news = world.guild().channel("summit-news")
    texts = [m.text for m in fake.messages.values() if m.channel_id == news.id]
    assert sum(after in t for t in texts) == 1 and not any("Before subscribing" in t
                                                          for t in texts)
    await run(fake, "digest off", {"channel": "summit-news"}, user="alice")


def request_tag(bot: BotProcess) -> str:
    """A word unique to this bot process, so the two parametrised runs' titles differ."""
    return f"run{id(bot)}"

"""Commands and clicks that read the library never leave a user stuck: answered in the
interaction's one response (type 4) when the library is quick, acknowledged first ("thinking…",
type 5) and then answered when it is slow, so Discord's 3 s deadline is never missed. End to end
against the fake Discord, which refuses an acknowledgement later than that; the bot's library is
slowed from outside (a `sitecustomize` on its path delays each piece of work it hands to a
worker thread while a test says so)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.bot.launch import HASHING, REPO, bot_env, running_bot
from tests.fakes.discord_server import BotProcess, FakeDiscord, InteractionHandle, StoredMessage
from tests.fakes.world import World

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

ANSWER_TIMEOUT = 60.0
DISCORD_DEADLINE = 3.0  # the fake refuses a first callback later than this
SLOW_SECONDS = 3.5  # each piece of library work, while slowed: past Discord's deadline
CHANNEL_MESSAGE, DEFERRED = 4, 5
YEARLY = "0 0 1 1 *"  # a schedule that never fires during a test: only /digest now posts
SWITCH = "slow-library"
# Put first on the bot's PYTHONPATH. The library runs its work with asyncio.to_thread
# (knowledge/library.py); while the switch file exists, each such call waits first.
SITECUSTOMIZE = '''
import asyncio
import pathlib

SWITCH = pathlib.Path({switch!r})
_to_thread = asyncio.to_thread


async def _slow_to_thread(func, /, *args, **kwargs):
    try:
        delay = float(SWITCH.read_text())
    except (OSError, ValueError):
        delay = 0.0
    if delay:
        await asyncio.sleep(delay)
    return await _to_thread(func, *args, **kwargs)


asyncio.to_thread = _slow_to_thread
'''


@pytest.fixture(scope="module")
def world() -> World:
    """The default world: guild "Summit Desk" (#general, #summit-news, #bot-log), admin alice,
    member bob."""
    return World.default()


@pytest.fixture(scope="module")
def hooks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder holding the bot's `sitecustomize` and its switch file."""
    folder = tmp_path_factory.mktemp("hooks")
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE.format(switch=str(folder / SWITCH)))
    return folder


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeDiscord, hooks: Path, tmp_path_factory: pytest.TempPathFactory
              ) -> AsyncIterator[BotProcess]:
    """`python -m bot` with the default REPLY_WITHIN_MS, its library slowed on demand."""
    home = tmp_path_factory.mktemp("slow")
    env = bot_env(fake, home, **HASHING, DIGEST_POST_WHEN_EMPTY="true",
                  PYTHONPATH=f"{hooks}{os.pathsep}{REPO}")
    async with running_bot(fake, env, home) as process:
        yield process


@contextlib.contextmanager
def slow_library(hooks: Path) -> Iterator[None]:
    """While this lasts, each piece of library work the bot starts waits SLOW_SECONDS first."""
    switch = hooks / SWITCH
    switch.write_text(str(SLOW_SECONDS))
    try:
        yield
    finally:
        switch.unlink()


async def answered(handle: InteractionHandle) -> InteractionHandle:
    """The handle once answered, after checking Discord accepted an acknowledgement in time."""
    await handle.wait_for(lambda h: h.acknowledged, timeout=DISCORD_DEADLINE + 1)
    return await handle.wait_done(timeout=ANSWER_TIMEOUT)


async def run(fake: FakeDiscord, name: str, options: dict[str, Any] | None = None, *,
              user: str = "bob") -> InteractionHandle:
    """Invoke a command and wait for its final answer."""
    return await answered(await fake.slash(name, options, user=user))


async def click(fake: FakeDiscord, custom_id: str, message: StoredMessage, *, user: str = "bob",
                values: list[Any] | None = None) -> InteractionHandle:
    """Click a component and wait for its final answer."""
    return await answered(await fake.component(custom_id, message=message, user=user,
                                               values=values))


def one_step(handle: InteractionHandle) -> bool:
    """Answered in the interaction's one response: a type-4 callback and no other request."""
    return handle.callback_type == CHANNEL_MESSAGE and \
        [r.path.rsplit("/", 1)[-1] for r in handle.requests] == ["callback"]


def thinking_first(handle: InteractionHandle) -> bool:
    """Acknowledged with "thinking…" (type 5), then that placeholder became the answer."""
    original = handle.original
    return handle.callback_type == DEFERRED and handle.errors == [] and original is not None \
        and not original.loading and not original.deleted and not handle.followups


def custom_id_of(message: StoredMessage, pattern: str) -> str:
    """The custom_id of the message's component matching `pattern`."""
    return next(c for c in message.custom_ids if re.fullmatch(pattern, c))


async def test_latest_is_one_step_when_quick_and_thinking_first_when_slow(
        bot: BotProcess, fake: FakeDiscord, hooks: Path) -> None:
    """/latest answers publicly in one response when quick, after a public "thinking…" when slow."""
    quick = await run(fake, "latest", {"count": 3})
    assert one_step(quick) and not quick.ephemeral, quick.describe()
    with slow_library(hooks):
        slow = await run(fake, "latest", {"count": 3})
    assert thinking_first(slow) and not slow.ephemeral, slow.describe()
    assert slow.embeds[0]["fields"] == quick.embeds[0]["fields"]


async def test_newest_articles_button_is_answered_in_time(bot: BotProcess, fake: FakeDiscord,
                                                          world: World, hooks: Path) -> None:
    """A digest's "Newest articles" click is answered privately, after "thinking…" when slow."""
    await run(fake, "digest set", {"channel": "summit-news", "schedule": YEARLY}, user="alice")
    await run(fake, "digest now", user="alice")
    [digest] = [m for m in fake.channel_messages(world.guild().channel("summit-news"))
                if any(c.startswith("latest:") for c in m.custom_ids)]
    button = custom_id_of(digest, r"latest:.+")
    quick = await click(fake, button, digest)
    assert one_step(quick) and quick.ephemeral, quick.describe()
    with slow_library(hooks):
        slow = await click(fake, button, digest)
    assert thinking_first(slow) and slow.ephemeral, slow.describe()
    assert slow.embeds[0]["fields"] == quick.embeds[0]["fields"]


async def test_experts_list_is_answered_in_time(bot: BotProcess, fake: FakeDiscord,
                                                hooks: Path) -> None:
    """/experts answers publicly in one response when quick, after "thinking…" when slow."""
    quick = await run(fake, "experts")
    assert one_step(quick) and not quick.ephemeral, quick.describe()
    with slow_library(hooks):
        slow = await run(fake, "experts")
    assert thinking_first(slow) and not slow.ephemeral, slow.describe()
    assert "Streltsov" in slow.text and slow.embeds == quick.embeds


async def test_expert_name_is_looked_up_in_time(bot: BotProcess, fake: FakeDiscord,
                                                hooks: Path) -> None:
    """/expert on a slow library: the card after a public "thinking…", an unknown name privately."""
    quick = await run(fake, "expert", {"name": "streltsov"})
    assert one_step(quick) and not quick.ephemeral, quick.describe()
    with slow_library(hooks):
        card, unknown = await asyncio.gather(
            run(fake, "expert", {"name": "streltsov"}),
            run(fake, "expert", {"name": "Nobody Atall"}))
    assert thinking_first(card) and not card.ephemeral, card.describe()
    assert "Dmitry Streltsov" in card.text
    assert unknown.callback_type == DEFERRED and unknown.errors == [], unknown.describe()
    assert unknown.original is not None and unknown.original.deleted  # nothing public stays
    [said] = unknown.followups
    assert said.ephemeral and "/experts" in said.content


async def test_summit_name_is_looked_up_in_time(bot: BotProcess, fake: FakeDiscord,
                                                hooks: Path) -> None:
    """/summit on a slow library: the commentary after a public "thinking…", an unknown
    meeting privately."""
    quick = await run(fake, "summit", {"name": "Nagato"})
    assert one_step(quick) and not quick.ephemeral, quick.describe()
    with slow_library(hooks):
        found, unknown = await asyncio.gather(
            run(fake, "summit", {"name": "Nagato"}),
            run(fake, "summit", {"name": "Atlantis 1999"}))
    assert thinking_first(found) and not found.ephemeral, found.describe()
    assert found.embeds == quick.embeds
    assert unknown.callback_type == DEFERRED and unknown.errors == [], unknown.describe()
    assert unknown.original is not None and unknown.original.deleted  # nothing public stays
    [said] = unknown.followups
    assert said.ephemeral and "/summits" in said.content


async def test_article_is_answered_in_time_and_still_pages(bot: BotProcess, fake: FakeDiscord,
                                                           hooks: Path) -> None:
    """/article answers in one response when quick, after "thinking…" (private, or public when
    asked) when slow; the slow answer's pages still turn."""
    typed = await (await fake.autocomplete("article", "id", "rapprochement")).wait_done()
    article = typed.choices[0]["value"]
    quick = await run(fake, "article", {"id": article})
    assert one_step(quick) and quick.ephemeral, quick.describe()
    with slow_library(hooks):
        private, public = await asyncio.gather(
            run(fake, "article", {"id": article}),
            run(fake, "article", {"id": article, "public": True}))
    assert thinking_first(private) and private.ephemeral, private.describe()
    assert thinking_first(public) and not public.ephemeral, public.describe()
    assert private.embeds == quick.embeds
    turned = await click(fake, custom_id_of(private.message, r"pg:art:next:.+"), private.message)
    assert turned.callback_type == 6 and "(continued)" in private.embeds[0]["title"]


async def test_read_menu_and_whole_article_are_answered_in_time(
        bot: BotProcess, fake: FakeDiscord, hooks: Path) -> None:
    """A Read pick and a "Whole article" click answer privately in one response when quick,
    after "thinking…" when slow."""
    card = await run(fake, "expert", {"name": "streltsov"})
    [menu] = [c for c in card.message.walk_components() if c["type"] == 3]
    picked = [menu["options"][0]["value"]]
    quick = await click(fake, menu["custom_id"], card.message, values=picked)
    assert one_step(quick) and quick.ephemeral, quick.describe()
    whole = custom_id_of(quick.message, r"read:art:\d+:\d+")
    opened = await click(fake, whole, quick.message)
    assert one_step(opened) and opened.ephemeral, opened.describe()
    with slow_library(hooks):
        slow_pick, slow_whole = await asyncio.gather(
            click(fake, menu["custom_id"], card.message, values=picked),
            click(fake, whole, quick.message))
    assert thinking_first(slow_pick) and slow_pick.ephemeral, slow_pick.describe()
    assert thinking_first(slow_whole) and slow_whole.ephemeral, slow_whole.describe()
    assert slow_pick.embeds == quick.embeds and slow_whole.embeds == opened.embeds


async def test_help_is_answered_in_time(bot: BotProcess, fake: FakeDiscord, hooks: Path) -> None:
    """/help answers publicly in one response when quick, after "thinking…" when slow."""
    quick = await run(fake, "help")
    assert one_step(quick) and not quick.ephemeral, quick.describe()
    with slow_library(hooks):
        slow = await run(fake, "help")
    assert thinking_first(slow) and not slow.ephemeral, slow.describe()
    assert slow.embeds == quick.embeds


async def test_source_list_and_status_are_answered_in_time(bot: BotProcess, fake: FakeDiscord,
                                                           hooks: Path) -> None:
    """/source list and /source status answer privately in one response when quick, after a
    private "thinking…" when slow."""
    for name in ("source list", "source status"):
        quick = await run(fake, name, user="alice")  # also reads the admin role, cached 15 s
        assert one_step(quick) and quick.ephemeral, quick.describe()
    with slow_library(hooks):
        slow = await asyncio.gather(run(fake, "source list", user="alice"),
                                    run(fake, "source status", user="alice"))
    for handle in slow:
        assert thinking_first(handle) and handle.ephemeral, handle.describe()


async def test_zz_nothing_rejected(bot: BotProcess, fake: FakeDiscord) -> None:
    """No answer came too late for Discord, and the bot logged no error."""
    fake.assert_no_errors()
    assert bot.error_lines() == [], bot.output

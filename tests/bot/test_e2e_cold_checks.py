"""Checks that run before an interaction is acknowledged (the admin check, also behind /source
remove's suggestions, the /ask cooldown, a page turn's cooldown) never hold it past Discord's
3 s, even when a server's settings are not cached and the library is slow; permission answers
stay right. End to end against the fake Discord, the bot's library slowed from outside as in
test_e2e_slow_library. Each test has a server of its own whose settings nothing read before (a
cold cache), or whose copy has expired."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from bot.guild_settings import TTL_SECONDS
from knowledge.store.tables import GuildSettingsRow
from tests.bot.launch import HASHING, REPO, bot_env, running_bot
from tests.bot.test_e2e_slow_library import (
    DEFERRED,
    SITECUSTOMIZE,
    SLOW_SECONDS,
    SWITCH,
    answered,
    custom_id_of,
    slow_library,
    thinking_first,
)
from tests.fakes.discord_server import BotProcess, FakeDiscord, FakeFile, InteractionHandle
from tests.fakes.world import SUMMIT_ADMIN_PERMISSIONS, FakeGuild, World

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

DESK_ADMINS = "Desk Admins"  # DISCORD_ADMIN_ROLE: an admin role without Manage Server
SERVERS = ("Admin Checks", "Configured Role", "Ask Cooldown", "Page Turns", "Config Show",
           "Source Picks", "Asked Together")
QUESTION = "What did experts expect from the summit in Moscow?"
ONLY_ADMINS = "Only server admins"
TRY_AGAIN = "I could not check this server's admin role in time"
DEFERRED_UPDATE = 6


@pytest.fixture(scope="module")
def world() -> World:
    """Servers named in SERVERS, each with alice (Manage Server), carol ("Desk Admins"), dave
    ("Editors", no permissions), bob (no role) and erin, frank, gina (no role, for /ask)."""
    world = World()
    people = {name: world.add_user(name) for name in
              ("alice", "bob", "carol", "dave", "erin", "frank", "gina")}
    roles = {"alice": ("Summit Admin",), "carol": (DESK_ADMINS,), "dave": ("Editors",)}
    for name in SERVERS:
        guild = world.add_guild(name)
        world.add_role(guild, "Summit Admin", SUMMIT_ADMIN_PERMISSIONS)
        world.add_role(guild, DESK_ADMINS)
        world.add_role(guild, "Editors")
        for username, user in people.items():
            world.add_member(guild, user, roles=roles.get(username, ()))
    return world


@pytest.fixture(scope="module")
def hooks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder holding the bot's `sitecustomize` and its switch file."""
    folder = tmp_path_factory.mktemp("hooks")
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE.format(switch=str(folder / SWITCH)))
    return folder


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bot's working folder (its database: library.sqlite3)."""
    return tmp_path_factory.mktemp("cold")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeDiscord, hooks: Path, home: Path) -> AsyncIterator[BotProcess]:
    """`python -m bot` with DISCORD_ADMIN_ROLE "Desk Admins", one /ask per user per 10
    minutes, two passages a page, its library slowed on demand."""
    env = bot_env(fake, home, f"sqlite:///{home / 'library.sqlite3'}", **HASHING,
                  DISCORD_ADMIN_ROLE=DESK_ADMINS, ASK_COOLDOWN_RATE="1",
                  ASK_COOLDOWN_SECONDS="600", ASK_PAGE_SIZE="2",
                  PYTHONPATH=f"{hooks}{os.pathsep}{REPO}")
    async with running_bot(fake, env, home) as process:
        yield process


@pytest.fixture
def database(bot: BotProcess, home: Path) -> Iterator[Session]:
    """A session on the bot's database, as another process (a shard, the operator) has."""
    engine = create_engine(f"sqlite:///{home / 'library.sqlite3'}")
    with Session(engine) as session:
        yield session
    engine.dispose()


async def admin_command(fake: FakeDiscord, user: str, guild: FakeGuild) -> InteractionHandle:
    """/source list (an admin command) by `user`, once answered; the answer acknowledged in time."""
    return await answered(await fake.slash("source list", user=user, guild=guild, strict=False))


async def ask(fake: FakeDiscord, user: str, guild: FakeGuild) -> InteractionHandle:
    """/ask by `user`, once answered; the answer acknowledged in time."""
    return await answered(await fake.slash("ask", {"question": QUESTION}, user=user,
                                           guild=guild))


async def test_admin_check_answers_in_time_on_a_cold_cache(bot: BotProcess, fake: FakeDiscord,
                                                           world: World, hooks: Path) -> None:
    """Slow library, nothing cached: Manage Server goes through, a member without the admin role
    is refused, and the DISCORD_ADMIN_ROLE holder is asked to retry, then let through."""
    guild = world.guild("Admin Checks")
    with slow_library(hooks):
        alice, bob, carol, dave = await asyncio.gather(
            *(admin_command(fake, user, guild) for user in ("alice", "bob", "carol", "dave")))
        assert thinking_first(alice) and alice.ephemeral, alice.describe()
        assert bob.ephemeral and bob.content.startswith(ONLY_ADMINS), bob.describe()
        for unsure in (carol, dave):  # never let through on a guess
            assert unsure.ephemeral and unsure.content.startswith(TRY_AGAIN), unsure.describe()
        await asyncio.sleep(SLOW_SECONDS + 1)  # the admin role's read, begun then, is done
        carol, dave = await asyncio.gather(admin_command(fake, "carol", guild),
                                           admin_command(fake, "dave", guild))
    assert thinking_first(carol) and carol.ephemeral, carol.describe()
    assert dave.content.startswith(ONLY_ADMINS), dave.describe()
    warnings = [line for line in bot.lines if "WARNING" in line
                and f"admin role of guild {guild.id} was not read" in line]
    assert len(warnings) == 1, bot.output


async def test_admin_role_set_elsewhere_is_honoured_in_time(
        bot: BotProcess, fake: FakeDiscord, world: World, hooks: Path, database: Session
) -> None:
    """A server's admin role written by another process is read on a slow library without
    missing Discord's deadline: its holder gets through, DISCORD_ADMIN_ROLE's holder no more."""
    guild = world.guild("Configured Role")
    database.add(GuildSettingsRow(guild_id=guild.id, admin_role=str(guild.role("Editors").id)))
    database.commit()
    with slow_library(hooks):
        first = await admin_command(fake, "dave", guild)
        assert first.ephemeral and first.content.startswith(TRY_AGAIN), first.describe()
        await asyncio.sleep(SLOW_SECONDS + 1)
        dave, carol = await asyncio.gather(admin_command(fake, "dave", guild),
                                           admin_command(fake, "carol", guild))
    assert thinking_first(dave) and dave.ephemeral, dave.describe()
    assert carol.ephemeral and carol.content.startswith(ONLY_ADMINS), carol.describe()


async def test_ask_cooldown_answers_in_time_on_a_cold_cache(bot: BotProcess, fake: FakeDiscord,
                                                            world: World, hooks: Path) -> None:
    """Slow library, nothing cached: /ask shows "thinking…" in time under the deployment's
    cooldown, which still holds back a second question; the operator gets one warning."""
    guild = world.guild("Ask Cooldown")
    with slow_library(hooks):
        erin, gina = await asyncio.gather(ask(fake, "erin", guild), ask(fake, "gina", guild))
        again = await ask(fake, "erin", guild)
    for handle in (erin, gina):
        assert handle.callback_type == DEFERRED and handle.errors == [], handle.describe()
        assert not handle.ephemeral and handle.embeds, handle.describe()
    assert again.ephemeral and again.content.startswith("Easy there"), again.describe()
    warnings = [line for line in bot.lines if "WARNING" in line
                and f"/ask cooldown of guild {guild.id} was not read" in line]
    assert len(warnings) == 1, bot.output


async def test_questions_sent_together_on_a_cold_cache_keep_the_cooldown(
        bot: BotProcess, fake: FakeDiscord, world: World) -> None:
    """Three /ask sent at the same moment by one member while the server's settings are being
    read, one allowed per 10 minutes: one is answered, the other two are told to wait (each
    used to start a count of its own while the read was awaited)."""
    guild = world.guild("Asked Together")
    sent = [await fake.slash("ask", {"question": f"{QUESTION} ({n})"}, user="erin", guild=guild)
            for n in range(3)]
    done = await asyncio.gather(*(answered(handle) for handle in sent))
    waiting = [h for h in done if h.ephemeral and h.content.startswith("Easy there")]
    assert len(waiting) == 2, [h.describe() for h in done]


async def test_page_turn_answers_in_time_when_the_cache_expired(
        bot: BotProcess, fake: FakeDiscord, world: World, hooks: Path) -> None:
    """An /ask page turned on a slow library after the server's settings expired from the
    cache is acknowledged in time and shows the next page."""
    guild = world.guild("Page Turns")
    message = (await ask(fake, "frank", guild)).message
    await asyncio.sleep(TTL_SECONDS + 0.5)  # the settings the /ask read are stale now
    with slow_library(hooks):
        turned = await answered(await fake.component(
            custom_id_of(message, r"pg:ask:next:.+"), message=message, user="frank"))
    assert turned.callback_type == DEFERRED_UPDATE and turned.errors == [], turned.describe()
    assert message.embeds[0]["fields"][0]["name"].startswith("3. "), message.embeds


async def test_config_show_answers_in_time_on_a_cold_cache(
        bot: BotProcess, fake: FakeDiscord, world: World, hooks: Path) -> None:
    """/config show reads the server's settings inside `in_time`: on a slow library with
    nothing cached it says "thinking…" privately in time, then shows the settings."""
    guild = world.guild("Config Show")
    with slow_library(hooks):
        shown = await answered(await fake.slash("config show", user="alice", guild=guild))
    assert thinking_first(shown) and shown.ephemeral, shown.describe()
    assert "cooldown" in shown.text.lower(), shown.describe()


async def test_source_suggestions_read_the_admin_role_when_not_cached(
        bot: BotProcess, fake: FakeDiscord, world: World, database: Session) -> None:
    """/source remove's suggestions for a member who is an admin by the server's admin role
    alone come from the role read then (as the admin check reads it), not from a copy that
    never saw it (a cold cache after a restart, or an expired one): suggestions for dave,
    none for bob."""
    guild = world.guild("Source Picks")
    text = "# Quarry ledger\n\nBy Ann Example.\n\n" + "The quarry ledger was read aloud. " * 8
    uploaded = await answered(await fake.slash(
        "source upload", user="alice", guild=guild,
        attachments={"file": FakeFile("quarry.md", text.encode())}))
    assert "Quarry ledger" in uploaded.text, uploaded.describe()
    database.add(GuildSettingsRow(guild_id=guild.id, admin_role=str(guild.role("Editors").id)))
    database.commit()
    await asyncio.sleep(TTL_SECONDS + 0.5)  # what the upload read of the settings is stale
    dave, bob = [await answered(await fake.autocomplete("source remove", "source", "",
                                                        user=user, guild=guild, strict=False))
                 for user in ("dave", "bob")]
    assert ["Quarry ledger" in c["name"] for c in dave.choices] == [True], dave.describe()
    assert bob.choices == [], bob.describe()


async def test_zz_nothing_rejected(bot: BotProcess, fake: FakeDiscord) -> None:
    """No answer came too late for Discord, and the bot logged no error."""
    fake.assert_no_errors()
    assert bot.error_lines() == [], bot.output

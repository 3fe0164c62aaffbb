"""Who may run what: admin (Manage Server or the admin role), owner, and the cooldown of
every search-backed command and button."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import TYPE_CHECKING, TypeVar

import discord
from discord import app_commands

from bot.guild_settings import CHECK_WAIT_SECONDS
from bot.respond import STARTED
from knowledge.errors import BadInput, NotFound

if TYPE_CHECKING:
    from bot.client import SummitDesk

T = TypeVar("T")
CooldownFactory = Callable[["discord.Interaction[SummitDesk]"],
                           Awaitable[app_commands.Cooldown | None]]

# interaction.extras: how to uncount a search-backed command's use of the cooldown
SEARCH_USE = "summit_desk_search_use"
ADMINS_ONLY = ("Only server admins (Manage Server, or the server's admin role) can use this "
               "command. Ask one of them, or see /help for the commands everyone can use.")
ADMIN_UNCONFIRMED = ("I could not check this server's admin role in time: the bot's library is "
                     "slow to answer right now. Please try again in a few seconds.")


class NotAdmin(app_commands.CheckFailure):
    """The user lacks Manage Server and the configured admin role."""


class AdminUnconfirmed(NotAdmin):
    """The server's admin role could not be read in time, and the user lacks Manage Server:
    refused for now (never let through on a guess); a retry finds the role read."""


class NotOwner(app_commands.CheckFailure):
    """The command is reserved to the bot's owner."""


def has_admin_role(member: discord.Member, role_setting: str) -> bool:
    """Whether the member holds the configured admin role (given by id or by name); @everyone
    never counts (every member holds it)."""
    wanted = role_setting.strip()
    roles = [r for r in member.roles if not r.is_default()]
    if not wanted or not roles:
        return False
    if wanted.isdigit() and int(wanted) in {r.id for r in roles}:
        return True
    return any(r.name.casefold() == wanted.casefold() for r in roles)


def check_wait(interaction: discord.Interaction[SummitDesk]) -> float:
    """What is left of CHECK_WAIT_SECONDS since handling began: the checks run before the
    acknowledgement share it."""
    started = interaction.extras.get(STARTED)
    spent = time.perf_counter() - started if started is not None else 0.0
    return max(CHECK_WAIT_SECONDS - spent, 0.0)


async def admin_check(interaction: discord.Interaction[SummitDesk]) -> bool:
    """app_commands check: refuse non-admins with NotAdmin, waiting on the library for the
    server's admin role only when it could matter, and then briefly (`check_wait`); a role not
    read in time refuses with AdminUnconfirmed (Manage Server needs no read)."""
    guild, member = interaction.guild, interaction.user
    if guild is None:
        raise app_commands.NoPrivateMessage()
    if not isinstance(member, discord.Member):
        raise NotAdmin(ADMINS_ONLY)
    if interaction.permissions.manage_guild:
        return True
    if all(role.is_default() for role in member.roles):
        raise NotAdmin(ADMINS_ONLY)  # no role of theirs can be the admin role
    settings = interaction.client.guild_settings
    config = await settings.for_check(guild.id, check_wait(interaction))
    if config is None:
        settings.warn(guild.id, "the admin role of guild %s was not read within %.1f s (the "
                      "library is slow or failing): members without Manage Server are asked "
                      "to try again", guild.id, CHECK_WAIT_SECONDS)
        raise AdminUnconfirmed(ADMIN_UNCONFIRMED)
    if not has_admin_role(member, settings.admin_role(config)):
        raise NotAdmin(ADMINS_ONLY)
    return True


async def is_admin(interaction: discord.Interaction[SummitDesk]) -> bool:
    """Whether `admin_check` lets the user through, for what must not raise (autocomplete):
    the server's admin role is read as the check reads it, within `check_wait` (cold after a
    restart too); not read in time counts as no."""
    try:
        return await admin_check(interaction)
    except app_commands.CheckFailure:
        return False


async def owner_check(interaction: discord.Interaction[SummitDesk]) -> bool:
    """app_commands check: refuse everyone but the application's owner."""
    if not await interaction.client.is_owner(interaction.user):
        raise NotOwner("Only the bot's owner can use this command: it runs the bot itself. "
                       "See /help for the commands everyone can use.")
    return True


async def ask_cooldown(interaction: discord.Interaction[SummitDesk]
                       ) -> app_commands.Cooldown | None:
    """Per-user /ask cooldown: the server's (/config cooldown), else the deployment's; none
    when the window is 0."""
    return await server_cooldown(interaction.client, interaction.guild_id,
                                 check_wait(interaction))


async def server_cooldown(bot: SummitDesk, guild_id: int | None,
                          wait: float = CHECK_WAIT_SECONDS) -> app_commands.Cooldown | None:
    """The /ask cooldown of a server (None: a DM, the deployment's); none when the window
    is 0. Settings not read within `wait` seconds: the server's last known cooldown, else the
    deployment's."""
    settings = bot.guild_settings
    config = await settings.for_check(guild_id, wait) if guild_id else None
    if config is None:
        config = settings.cached(guild_id)
        if guild_id:
            settings.warn(guild_id, "the /ask cooldown of guild %s was not read within %.1f s "
                          "(the library is slow or failing): its last known one, else the "
                          "deployment's, applies", guild_id, wait)
    rate, seconds = settings.cooldown(config)
    if seconds <= 0:
        return None
    return app_commands.Cooldown(rate, seconds)


async def topic_cooldown(interaction: discord.Interaction[SummitDesk]
                         ) -> app_commands.Cooldown | None:
    """The /ask cooldown for a command whose ``topic`` option runs a search (/expert topic:,
    /summit topic:); none when no topic was given (then nothing is searched)."""
    if not getattr(interaction.namespace, "topic", None):
        return None
    return await ask_cooldown(interaction)


class UserCooldowns:
    """Buckets of the /ask cooldown, one per user (or member: any key): for the search-backed
    commands (`search_cooldown`), buttons such as "More", a mention asking for help.
    Checking a use and counting it is one step with nothing awaited in between, so uses that
    arrive together are counted one after the other; a bucket whose rate or window no longer
    matches the server's setting starts afresh under the new one."""

    def __init__(self) -> None:
        self._buckets: dict[Hashable, app_commands.Cooldown] = {}

    def retry_after_for(self, key: Hashable, cooldown: app_commands.Cooldown | None) -> float:
        """Seconds `key` must wait under `cooldown` (0: go ahead; this use is counted)."""
        if cooldown is None:
            return 0.0
        if len(self._buckets) > 10_000:  # forget users whose window has passed
            self._buckets = {k: b for k, b in self._buckets.items() if b.get_tokens() < b.rate}
        bucket = self._buckets.get(key)
        if bucket is None or (bucket.rate, bucket.per) != (cooldown.rate, cooldown.per):
            bucket = self._buckets[key] = cooldown
        return bucket.update_rate_limit() or 0.0

    def give_back(self, key: Hashable) -> None:
        """Uncount one use of `key` (its command refused the input before searching); nothing
        when its window has passed meanwhile (the bucket is full again)."""
        bucket = self._buckets.get(key)
        if bucket is not None and bucket.get_tokens() < bucket.rate:
            bucket.update_rate_limit(tokens=-1)


def search_cooldown(factory: CooldownFactory = ask_cooldown) -> Callable[[T], T]:
    """app_commands check: the /ask cooldown `factory` gives (None: none), per member of a
    server, counted for this command alone. Unlike discord.py's dynamic_cooldown, which
    awaits the factory between looking for a member's bucket and making one (so commands
    sent together each made their own and all went through), the count is taken in one
    step after the settings are read. A use the command then refuses before searching (an
    empty question, an unknown expert, a bad date: `give_back_search`) is uncounted."""
    counts = UserCooldowns()

    async def predicate(interaction: discord.Interaction[SummitDesk]) -> bool:
        cooldown = await factory(interaction)
        key = (interaction.guild_id, interaction.user.id)
        wait = counts.retry_after_for(key, cooldown)
        if wait and cooldown is not None:
            raise app_commands.CommandOnCooldown(cooldown, wait)
        if cooldown is not None:
            interaction.extras[SEARCH_USE] = functools.partial(counts.give_back, key)
        return True

    return app_commands.check(predicate)


def give_back_search(interaction: discord.Interaction[SummitDesk], error: BaseException) -> None:
    """A search-backed command refused its input (BadInput, NotFound: nothing was searched, or
    the search was refused before it ran): its use of the cooldown is uncounted, so a member
    fixing a typo is not held back by it. A search that ran counts, "no good match" too."""
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    give_back = interaction.extras.pop(SEARCH_USE, None)
    if give_back is not None and isinstance(original, BadInput | NotFound):
        give_back()


class ButtonCooldowns(UserCooldowns):
    """Per-user /ask cooldown for search-backed buttons ("More"): app-command checks do not
    run for components, so the buckets are kept here."""

    async def retry_after(self, interaction: discord.Interaction[SummitDesk]) -> float:
        """Seconds the user must wait before this click may search (0: go ahead)."""
        return self.retry_after_for(interaction.user.id, await ask_cooldown(interaction))


def cooldown_text(retry_after: float) -> str:
    """What a user on cooldown is told (the same words as the tree's reply)."""
    return (f"Easy there: you can ask again in {max(retry_after, 1):.0f} s. "
            "The cooldown keeps answers fast for everyone.")


def guild_id_of(interaction: discord.Interaction[SummitDesk]) -> int:
    """The server an interaction comes from; commands that need one are server-only, so a DM
    here is refused with a clear message rather than reaching the library without a server."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage("This command works in a server, not in DMs.")
    return interaction.guild_id


POSTING_NEEDS = (("view_channel", "View Channel"), ("send_messages", "Send Messages"),
                 ("embed_links", "Embed Links"))


def missing_permissions(channel: discord.abc.GuildChannel, me: discord.Member | None,
                        needs: tuple[tuple[str, str], ...] = POSTING_NEEDS) -> list[str]:
    """The named permissions the bot lacks in a channel (nothing known: nothing missing)."""
    if me is None:
        return []
    perms = channel.permissions_for(me)
    return [label for flag, label in needs if not getattr(perms, flag)]

"""Who may run what: admin (Manage Server or the admin role), owner, and the /ask cooldown."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

if TYPE_CHECKING:
    from bot.client import SummitDesk

ADMIN_PERMISSIONS = discord.Permissions(manage_guild=True)
ADMINS_ONLY = ("Only server admins (Manage Server, or the server's admin role) can use this "
               "command. Ask one of them, or see /help for the commands everyone can use.")


class NotAdmin(app_commands.CheckFailure):
    """The user lacks Manage Server and the configured admin role."""


class NotOwner(app_commands.CheckFailure):
    """The command is reserved to the bot's owner."""


def has_admin_role(member: discord.Member, role_setting: str) -> bool:
    """Whether the member holds the configured admin role (given by id or by name)."""
    wanted = role_setting.strip()
    if not wanted:
        return False
    if wanted.isdigit() and int(wanted) in {r.id for r in member.roles}:
        return True
    return any(r.name.casefold() == wanted.casefold() for r in member.roles)


def is_admin(interaction: discord.Interaction[SummitDesk]) -> bool:
    """Manage Server in this guild, or the server's admin role (/config admin-role, else
    DISCORD_ADMIN_ROLE)."""
    if interaction.guild is None or not isinstance(interaction.user, discord.Member):
        return False
    if interaction.permissions.manage_guild:
        return True
    settings = interaction.client.guild_settings
    return has_admin_role(interaction.user,
                          settings.admin_role(settings.cached(interaction.guild_id)))


async def admin_check(interaction: discord.Interaction[SummitDesk]) -> bool:
    """app_commands check: refuse non-admins with NotAdmin."""
    if interaction.guild is None:
        raise app_commands.NoPrivateMessage()
    await interaction.client.guild_settings.get(interaction.guild.id)  # the server's admin role
    if not is_admin(interaction):
        raise NotAdmin(ADMINS_ONLY)
    return True


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
    settings = interaction.client.guild_settings
    config = await settings.get(interaction.guild_id) if interaction.guild_id else \
        settings.cached(None)
    rate, seconds = settings.cooldown(config)
    if seconds <= 0:
        return None
    return app_commands.Cooldown(rate, seconds)


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

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
    """Manage Server in this guild, or the admin role from DISCORD_ADMIN_ROLE."""
    if interaction.guild is None or not isinstance(interaction.user, discord.Member):
        return False
    if interaction.permissions.manage_guild:
        return True
    return has_admin_role(interaction.user, interaction.client.settings.discord_admin_role)


async def admin_check(interaction: discord.Interaction[SummitDesk]) -> bool:
    """app_commands check: refuse non-admins with NotAdmin."""
    if interaction.guild is None:
        raise app_commands.NoPrivateMessage()
    if not is_admin(interaction):
        raise NotAdmin(ADMINS_ONLY)
    return True


async def owner_check(interaction: discord.Interaction[SummitDesk]) -> bool:
    """app_commands check: refuse everyone but the application's owner."""
    if not await interaction.client.is_owner(interaction.user):
        raise NotOwner("Only the bot's owner can use this command: it runs the bot itself. "
                       "See /help for the commands everyone can use.")
    return True


def ask_cooldown(interaction: discord.Interaction[SummitDesk]) -> app_commands.Cooldown | None:
    """Per-user /ask cooldown from the settings (none when the window is 0)."""
    settings = interaction.client.settings
    if settings.ask_cooldown_seconds <= 0:
        return None
    return app_commands.Cooldown(settings.ask_cooldown_rate, settings.ask_cooldown_seconds)


def guild_id_of(interaction: discord.Interaction[SummitDesk]) -> int:
    """The server an interaction comes from; commands that need one are server-only, so a DM
    here is refused with a clear message rather than reaching the library without a server."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage("This command works in a server, not in DMs.")
    return interaction.guild_id

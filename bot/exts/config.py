"""/config: this server's settings (admins): where admin alerts go, the admin role, the /ask
cooldown and the default time zone. Unset ones follow the deployment's settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import admin_check, missing_permissions
from bot.exts._choices import autocompleter, choices, timezone_names
from bot.replies import ADMIN_COLOUR, EmbedBuilder, Reply, clean_cut, notice
from bot.respond import answer, in_time
from knowledge.models import GuildConfig

if TYPE_CHECKING:
    from bot.client import SummitDesk

NO_ALERT_CHANNEL = ("none: notices go by DM to the admin who added the source, else to the "
                    "server's owner")


EVERYONE_REFUSED = ("@everyone cannot be the admin role: every member has it, so anyone could "
                    "add sources, change digests and these settings. Create a role for the "
                    "people who run Summit Desk (Server Settings → Roles), give it to them, and "
                    "pick that role here.")


def role_text(guild: discord.Guild | None, setting: str) -> str:
    """The admin role as a reader knows it: a mention when this server has the role (shown
    with its name; messages go out with mentions disabled, so nobody is pinged), else what
    the setting names."""
    wanted = setting.strip()
    if not wanted:
        return "none (Manage Server only)"
    role = None
    if guild is not None:
        role = guild.get_role(int(wanted)) if wanted.isdigit() else None
        if role is None:
            role = discord.utils.find(lambda r: r.name.casefold() == wanted.casefold(),
                                      guild.roles)
    if role is not None:
        return role.mention
    if wanted.isdigit():
        return "a role this server no longer has (choose another with /config admin-role)"
    return f"{clean_cut(wanted, 100)} (no role of that name here)"


def pace_text(cooldown: tuple[int, float]) -> str:
    """"2 questions per 30 s", or "off" for a window of 0."""
    rate, seconds = cooldown
    return f"{rate} question{'s' * (rate != 1)} per {seconds:g} s" if seconds > 0 else "off"


def cooldown_headline(before: tuple[int, float], after: tuple[int, float], *,
                      reset: bool, window_given: bool) -> str:
    """What a /config cooldown did, exactly: the cooldown it set and the one before, or that
    nothing changed (and, for a number of uses given while the cooldown is off, why)."""
    now, was = pace_text(after), pace_text(before)
    if reset:
        return (f"The /ask cooldown is back to the default: {now} (was {was})." if now != was
                else f"The /ask cooldown is back to the default: {now}, as it was.")
    if now != was:
        return f"The /ask cooldown is now {now} (was {was}), from each member's next question."
    if now == "off" and not window_given:
        kept = (f"{after[0]} question{'s' * (after[0] != 1)} per window is kept, but "
                if after[0] != before[0] else "")
        return (f"The /ask cooldown stays off: {kept}its window is 0 s. Give seconds too to "
                "turn it on.")
    return f"Nothing changed: the /ask cooldown is already {now}."


def config_embed(guild_name: str, config: GuildConfig, *, admin_role: str,
                 cooldown: tuple[int, float], timezone: str) -> discord.Embed:
    """/config show: each setting, and whether this server set it or it is the default;
    `admin_role` as `role_text` shows it."""
    def origin(value: object) -> str:
        return " *(set here)*" if value is not None else " *(default)*"

    builder = EmbedBuilder(title=f"Settings for {clean_cut(guild_name, 200)}",
                           colour=ADMIN_COLOUR)
    builder.add_field("Alert channel", (f"<#{config.alert_channel_id}>" if config.alert_channel_id
                                        else NO_ALERT_CHANNEL) + origin(config.alert_channel_id))
    builder.add_field("Admin role", admin_role + origin(config.admin_role))
    pace = pace_text(cooldown)
    changed = config.ask_cooldown_rate if config.ask_cooldown_rate is not None \
        else config.ask_cooldown_seconds
    builder.add_field("/ask cooldown (per member)", pace + origin(changed))
    builder.add_field("Default time zone (digests)", clean_cut(timezone, 64)
                      + origin(config.timezone))
    builder.set_footer("Change one with /config alerts, admin-role, cooldown or timezone; "
                       "leave the option empty to go back to the default.")
    return builder.build()


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Config(commands.GroupCog, group_name="config",
             group_description="This server's settings: alerts, admin role, cooldown (admins)."):
    """Per-server settings."""

    def __init__(self, bot: SummitDesk) -> None:
        self.bot = bot
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        """Checked again at run time: Manage Server or the admin role."""
        return await admin_check(interaction)

    async def update(self, interaction: discord.Interaction[SummitDesk], **changes: Any
                     ) -> GuildConfig:
        """Change some of the server's settings: a write, which a busy database (another
        process writing) may hold up for longer than Discord waits for an answer, so the
        interaction is acknowledged first when it takes long (`in_time`)."""
        assert interaction.guild_id is not None  # guild_only
        return await in_time(interaction, self.bot.guild_settings.update(
            interaction.guild_id, **changes), ephemeral=True)

    async def show_reply(self, interaction: discord.Interaction[SummitDesk],
                         config: GuildConfig, headline: str = "") -> Reply:
        """The settings card, optionally under a one-line confirmation."""
        settings = self.bot.guild_settings
        guild = interaction.guild
        embed = config_embed(guild.name if guild else "this server", config,
                             admin_role=role_text(guild, settings.admin_role(config)),
                             cooldown=settings.cooldown(config),
                             timezone=settings.timezone(config))
        return Reply(content=headline, embeds=[embed])

    @app_commands.command(name="show", description="This server's settings, and which are "
                                                   "defaults.")
    async def show(self, interaction: discord.Interaction[SummitDesk]) -> None:
        """Show every per-server setting."""
        assert interaction.guild_id is not None  # guild_only
        config = await in_time(interaction, self.bot.guild_settings.get(interaction.guild_id),
                               ephemeral=True)
        await answer(interaction, await self.show_reply(interaction, config), ephemeral=True)

    @app_commands.command(name="alerts", description="Where feed failures, digest failures and "
                                                     "source results go.")
    @app_commands.describe(channel="A channel for admin alerts; leave empty to send them by DM "
                                   "instead.")
    async def alerts(self, interaction: discord.Interaction[SummitDesk],
                     channel: discord.TextChannel | None = None) -> None:
        """Set (or clear) the alert channel, after checking the bot can post there."""
        assert interaction.guild_id is not None and interaction.guild is not None
        if channel is not None:
            missing = missing_permissions(channel, interaction.guild.me)
            if missing:
                await answer(interaction, notice(
                    f"I cannot post alerts in {channel.mention}: I am missing "
                    f"{', '.join(missing)} there. Grant them in the channel's settings and run "
                    "/config alerts again."), ephemeral=True)
                return
        config = await self.update(interaction,
                                   alert_channel_id=channel.id if channel else None)
        headline = (f"Admin alerts now go to {channel.mention}." if channel else
                    "Admin alerts now go by DM to the admin who added the source, else to the "
                    "server's owner.")
        await answer(interaction, await self.show_reply(interaction, config, headline),
                     ephemeral=True)

    @app_commands.command(name="admin-role", description="A role that may use the admin "
                                                         "commands besides Manage Server.")
    @app_commands.describe(role="The role; leave empty to go back to the default.")
    async def admin_role(self, interaction: discord.Interaction[SummitDesk],
                         role: discord.Role | None = None) -> None:
        """Set (or reset) the server's admin role; never @everyone (every member would be an
        admin)."""
        assert interaction.guild_id is not None
        if role is not None and role.is_default():
            await answer(interaction, notice(EVERYONE_REFUSED), ephemeral=True)
            return
        config = await self.update(interaction, admin_role=str(role.id) if role else None)
        headline = (f"Members with {role.mention} may now use the admin commands (let the role "
                    "see them under Server Settings → Integrations too)." if role else
                    "The admin role is back to the default.")
        await answer(interaction, await self.show_reply(interaction, config, headline),
                     ephemeral=True)

    @app_commands.command(name="cooldown", description="How often each member may use /ask.")
    @app_commands.describe(uses="Questions allowed per window (1-100).",
                           seconds="The window in seconds (0 turns the cooldown off).")
    async def cooldown(self, interaction: discord.Interaction[SummitDesk],
                       uses: app_commands.Range[int, 1, 100] | None = None,
                       seconds: app_commands.Range[int, 0, 86400] | None = None) -> None:
        """Set the /ask cooldown (an option left empty keeps its value); with neither option,
        back to the default. The reply says exactly what changed."""
        guild_id = interaction.guild_id
        assert guild_id is not None
        settings = self.bot.guild_settings
        reset = uses is None and seconds is None
        changes: dict[str, object] = {"ask_cooldown_rate": uses, "ask_cooldown_seconds": seconds}
        if not reset:
            changes = {name: value for name, value in changes.items() if value is not None}

        async def change() -> tuple[GuildConfig, GuildConfig]:
            before = await settings.get(guild_id)
            return before, await settings.update(guild_id, **changes)

        # A read and a write: "thinking…" first when the database is slow (`update`).
        before, config = await in_time(interaction, change(), ephemeral=True)
        headline = cooldown_headline(settings.cooldown(before), settings.cooldown(config),
                                     reset=reset, window_given=seconds is not None)
        await answer(interaction, await self.show_reply(interaction, config, headline),
                     ephemeral=True)

    @autocompleter
    async def timezones(self, interaction: discord.Interaction[SummitDesk], current: str
                        ) -> list[app_commands.Choice[str]]:
        """Autocomplete: IANA time zones containing what was typed."""
        needle = current.casefold().replace(" ", "_")
        return choices((name, name) for name in timezone_names() if needle in name.casefold())

    @app_commands.command(name="timezone", description="The default time zone for digest "
                                                       "schedules.")
    @app_commands.describe(name="An IANA time zone, e.g. Europe/Berlin; leave empty for the "
                                "default.")
    @app_commands.autocomplete(name=timezones)
    async def timezone(self, interaction: discord.Interaction[SummitDesk],
                       name: app_commands.Range[str, 1, 64] | None = None) -> None:
        """Set (or reset) the server's default time zone."""
        assert interaction.guild_id is not None
        config = await self.update(interaction, timezone=name)
        headline = (f"New digest schedules use {config.timezone} unless they say otherwise."
                    if config.timezone else "The default time zone is back to the default.")
        await answer(interaction, await self.show_reply(interaction, config, headline),
                     ephemeral=True)


async def setup(bot: SummitDesk) -> None:
    """Extension entry point."""
    await bot.add_cog(Config(bot))

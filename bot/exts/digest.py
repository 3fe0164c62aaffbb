"""/digest set|off|now|preview: scheduled digests of new articles (service.digests). Admins only."""

from __future__ import annotations

import logging
import zoneinfo
from functools import cache
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import admin_check, guild_id_of
from bot.exts._choices import autocompleter, choices
from bot.posting import ChannelDigestPoster
from bot.replies import clean_cut, digest_replies, notice
from bot.respond import answer, defer
from knowledge.digests.service import DigestService
from knowledge.digests.types import RunOutcome

if TYPE_CHECKING:
    from bot.client import SummitDesk

log = logging.getLogger(__name__)


@cache
def timezone_names() -> tuple[str, ...]:
    """Every IANA timezone name, sorted."""
    return tuple(sorted(zoneinfo.available_timezones()))


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Digests(commands.GroupCog, group_name="digest",
              group_description="Scheduled digests of new articles (admins)."):
    """Digest subscriptions and on-demand digests."""

    def __init__(self, bot: SummitDesk) -> None:
        self.bot = bot
        self.poster = ChannelDigestPoster(bot)
        super().__init__()

    @property
    def digests(self) -> DigestService:
        """service.digests (knowledge.digests.service.DigestService)."""
        return self.bot.service.digests

    async def interaction_check(  # type: ignore[override]  # our client type
            self, interaction: discord.Interaction[SummitDesk]) -> bool:
        """Checked again at run time: Manage Server or the admin role."""
        return await admin_check(interaction)

    @autocompleter
    async def timezones(self, interaction: discord.Interaction[SummitDesk], current: str
                        ) -> list[app_commands.Choice[str]]:
        """Autocomplete: IANA timezones containing what was typed."""
        needle = current.casefold().replace(" ", "_")
        return choices((name, name) for name in timezone_names() if needle in name.casefold())

    @app_commands.command(name="set", description="Post digests of new articles to a channel "
                                                  "on a schedule.")
    @app_commands.describe(
        channel="Where digests go.",
        schedule="Cron, 5 fields (minute hour day month weekday): '0 9 * * 1' = Mondays 09:00.",
        timezone="The schedule's timezone, e.g. Europe/Berlin (default UTC).")
    @app_commands.autocomplete(timezone=timezones)
    async def set_digest(self, interaction: discord.Interaction[SummitDesk],
                         channel: discord.TextChannel, schedule: str,
                         timezone: str | None = None) -> None:
        """Subscribe a channel (validated by the service)."""
        guild = interaction.guild
        me = guild.me if guild else None
        if me is not None:
            perms = channel.permissions_for(me)
            if not (perms.view_channel and perms.send_messages and perms.embed_links):
                await answer(interaction, notice(
                    f"I cannot post embeds in {channel.mention}: give me View Channel, Send "
                    "Messages and Embed Links there."), ephemeral=True)
                return
        zone = timezone or self.bot.settings.digest_default_timezone
        await self.bot.service.run(self.digests.subscribe, guild_id_of(interaction), channel.id, schedule, zone)
        await answer(interaction, notice(
            f"Digests will be posted in {channel.mention} on `{clean_cut(schedule, 100)}` "
            f"({clean_cut(zone, 64)})."), ephemeral=True)

    @app_commands.command(name="off", description="Stop digests in this server (or one "
                                                  "channel).")
    @app_commands.describe(channel="Only this channel; leave empty for every channel.")
    async def off(self, interaction: discord.Interaction[SummitDesk],
                  channel: discord.TextChannel | None = None) -> None:
        """Unsubscribe."""
        count = await self.bot.service.run(self.digests.unsubscribe, guild_id_of(interaction),
                                               channel.id if channel else None)
        text = (f"Stopped {count} digest subscription{'s' * (count != 1)}." if count
                else "There was no digest subscription to stop.")
        await answer(interaction, notice(text), ephemeral=True)

    @app_commands.command(name="now", description="Post the digest now (covers everything "
                                                  "since the last one).")
    async def now(self, interaction: discord.Interaction[SummitDesk]) -> None:
        """Claim a period ending now for each of the server's digest channels and post it."""
        await defer(interaction, ephemeral=True)
        outcomes = await self.digests.run_now(guild_id_of(interaction), self.poster)
        if not outcomes:
            await answer(interaction, notice("Nothing to post now: the previous digest is "
                                             "still being posted or waits to be retried."),
                         ephemeral=True)
            return
        await answer(interaction, notice("\n".join(_outcome_line(o) for o in outcomes)),
                     ephemeral=True)

    @app_commands.command(name="preview", description="See the next digest privately, without "
                                                      "posting it.")
    async def preview(self, interaction: discord.Interaction[SummitDesk]) -> None:
        """The digest as it would look now (nothing is claimed)."""
        await defer(interaction, ephemeral=True)
        digest = await self.bot.service.run(self.digests.preview, guild_id_of(interaction))
        await answer(interaction, digest_replies(digest, title="Digest preview"), ephemeral=True)


async def setup(bot: SummitDesk) -> None:
    """Extension entry point."""
    await bot.add_cog(Digests(bot))


def _outcome_line(outcome: RunOutcome) -> str:
    """One line per channel for /digest now."""
    where = f"<#{outcome.subscription.channel_id}>"
    if outcome.status == "empty":
        return f"{where}: nothing new since the last digest."
    if outcome.status == "failed":
        return (f"{where}: could not post ({clean_cut(outcome.error or 'unknown error', 200)}); "
                "it will be retried.")
    count = len(outcome.message_ids)
    return f"{where}: posted ({count} message{'s' * (count != 1)})."

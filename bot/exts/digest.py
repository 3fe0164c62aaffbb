"""/digest set|off|now|preview: scheduled digests of new articles (service.digests). Admins only."""

from __future__ import annotations

import logging
import zoneinfo
from functools import cache
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import admin_check
from bot.exts._choices import autocompleter, choices
from bot.exts._render import clean_cut, digest_replies, notice
from bot.features import require_feature
from bot.posting import ChannelDigestPoster
from bot.respond import answer, defer
from knowledge.models import Digest

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
    def digests(self) -> Any:
        """service.digests (knowledge.digests.service.DigestService)."""
        return self.bot.service.digests

    async def cog_load(self) -> None:
        """Refuse to load when the digests service is not installed."""
        require_feature(self.bot.service, "digests")

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
        await self.digests.subscribe(interaction.guild_id, channel.id, schedule, zone)
        await answer(interaction, notice(
            f"Digests will be posted in {channel.mention} on `{clean_cut(schedule, 100)}` "
            f"({clean_cut(zone, 64)})."), ephemeral=True)

    @app_commands.command(name="off", description="Stop digests in this server (or one "
                                                  "channel).")
    @app_commands.describe(channel="Only this channel; leave empty for every channel.")
    async def off(self, interaction: discord.Interaction[SummitDesk],
                  channel: discord.TextChannel | None = None) -> None:
        """Unsubscribe."""
        count = await self.digests.unsubscribe(interaction.guild_id,
                                               channel.id if channel else None)
        text = (f"Stopped {count} digest subscription{'s' * (count != 1)}." if count
                else "There was no digest subscription to stop.")
        await answer(interaction, notice(text), ephemeral=True)

    @app_commands.command(name="now", description="Post the digest now (covers everything "
                                                  "since the last one).")
    async def now(self, interaction: discord.Interaction[SummitDesk]) -> None:
        """Claim a period ending now for each of the server's digest channels and post it."""
        await defer(interaction, ephemeral=True)
        runs = await self.digests.run_now(interaction.guild_id)
        if not runs:
            await answer(interaction, notice("Nothing to post now: the previous digest is "
                                             "still being posted or waits to be retried."),
                         ephemeral=True)
            return
        lines = [await self._post(subscription, digest) for subscription, digest in runs]
        await answer(interaction, notice("\n".join(lines)), ephemeral=True)

    async def _post(self, subscription: Any, digest: Digest) -> str:
        """Post one claimed digest and record the outcome (empty ones are recorded already)."""
        channel_id = int(subscription.channel_id)
        where = f"<#{channel_id}>"
        run_id = digest.run_id
        if run_id is None or (digest.empty and not subscription.post_when_empty):
            return f"{where}: nothing new since the last digest."
        try:
            ids = await self.poster(channel_id, digest, run_id)
        except discord.HTTPException as exc:
            await self.digests.mark_failed(run_id, f"{type(exc).__name__}: {exc}")
            log.warning("digest run %s to channel %s failed: %s", run_id, channel_id, exc)
            return f"{where}: could not post ({clean_cut(str(exc), 200)}); it will be retried."
        article_ids = [item.article_id for section in digest.sections for item in section.items]
        await self.digests.mark_posted(run_id, ids, article_ids=article_ids)
        return f"{where}: posted ({len(ids)} message{'s' * (len(ids) != 1)})."

    @app_commands.command(name="preview", description="See the next digest privately, without "
                                                      "posting it.")
    async def preview(self, interaction: discord.Interaction[SummitDesk]) -> None:
        """The digest as it would look now (nothing is claimed)."""
        await defer(interaction, ephemeral=True)
        digest = await self.digests.preview(interaction.guild_id)
        await answer(interaction, digest_replies(digest, title="Digest preview"), ephemeral=True)


async def setup(bot: SummitDesk) -> None:
    """Extension entry point."""
    await bot.add_cog(Digests(bot))

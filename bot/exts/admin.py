"""Owner-only commands: /resync (and "@bot resync") and /about."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import logging
import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import owner_check
from bot.replies import EmbedBuilder, Reply, clean_cut, counted, format_when, notice
from bot.respond import answer, defer
from knowledge.errors import KnowledgeError
from knowledge.visibility import EVERYTHING

if TYPE_CHECKING:
    from bot.client import SummitDesk

log = logging.getLogger(__name__)

# Registered in the owner's guild only when DISCORD_OWNER_GUILD_ID is set (bot/client.py); else
# hidden behind Administrator, and refused to anyone but the owner at run time.
OWNER_ONLY = {"owner_only": True}


def package_version() -> str:
    """The installed summit-desk version."""
    try:
        return importlib.metadata.version("summit-desk")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def format_uptime(seconds: float) -> str:
    """3d 4h 5m style."""
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return " ".join(f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (minutes, "m"))
                    if n) or "under a minute"


class Admin(commands.Cog):
    """Operating the bot."""

    def __init__(self, bot: SummitDesk) -> None:
        self.bot = bot

    @app_commands.command(name="resync", description="Re-register the slash commands (owner).",
                          extras=OWNER_ONLY)
    @app_commands.default_permissions(administrator=True)
    @app_commands.check(owner_check)
    async def resync(self, interaction: discord.Interaction[SummitDesk]) -> None:
        """Sync the command tree again, e.g. after an update."""
        await defer(interaction, ephemeral=True)
        synced = await self.bot.sync_commands()
        await answer(interaction, notice(f"Synced {len(synced)} commands."), ephemeral=True)

    @commands.command(name="resync", hidden=True)
    @commands.is_owner()
    async def resync_text(self, ctx: commands.Context[SummitDesk]) -> None:
        """`@bot resync`: the same, for when slash commands are missing altogether."""
        synced = await self.bot.sync_commands()
        await ctx.reply(f"Synced {len(synced)} commands.",
                        allowed_mentions=discord.AllowedMentions.none())

    @app_commands.command(name="about", description="Version, library size, health (owner).",
                          extras=OWNER_ONLY)
    @app_commands.default_permissions(administrator=True)
    @app_commands.check(owner_check)
    async def about(self, interaction: discord.Interaction[SummitDesk]) -> None:
        """What is running and how it is doing."""
        await defer(interaction, ephemeral=True)
        await answer(interaction, Reply(embeds=[await self.about_embed()]), ephemeral=True)

    async def about_embed(self) -> discord.Embed:
        """The /about card."""
        service = self.bot.service
        stats = await service.run(service.stats, guild_id=EVERYTHING)  # the owner's view
        builder = EmbedBuilder(title=f"Summit Desk {package_version()}")
        builder.add_field("Library", f"{counted(stats.articles, 'article')}, "
                                     f"{counted(stats.passages, 'passage')}, "
                                     f"{counted(stats.experts, 'expert')}", inline=True)
        builder.add_field("Model", clean_cut(stats.model_fingerprint, 200), inline=True)
        builder.add_field("Uptime", format_uptime(time.time() - self.bot.started_at),
                          inline=True)
        latency = self.bot.latency
        builder.add_field("Discord", f"{len(self.bot.guilds)} guilds, shards "
                                     f"{self.bot.shard_ids or 'all'}, gateway latency "
                                     f"{latency * 1000:.0f} ms" if latency == latency else
                                     f"{len(self.bot.guilds)} guilds", inline=True)
        builder.add_field("Sources", await self.sources_health())
        builder.add_field("Digests", await self.digests_health())
        builder.embed.timestamp = dt.datetime.now(dt.UTC)
        return builder.build()

    async def sources_health(self) -> str:
        """How many sources are failing, and which."""
        try:
            statuses = await self.bot.service.run(self.bot.service.sources.status, EVERYTHING)
        except KnowledgeError as exc:
            return f"unavailable: {clean_cut(str(exc), 200)}"
        failing = [s for s in statuses if s.failing]
        text = f"{counted(len(statuses), 'source')}, {len(failing)} failing"
        if failing:
            text += ": " + ", ".join(f"#{s.id} {clean_cut(s.title or s.url, 60)}"
                                     for s in failing[:10])
        return text

    async def digests_health(self) -> str:
        """Per digest channel: where the last digest ended and when the next one is due."""
        scheduler = "scheduler running" if self.bot.scheduler is not None else "scheduler off"
        try:
            subscriptions = await self.bot.service.run(self.bot.service.digests.subscriptions,
                                                       EVERYTHING)
        except KnowledgeError as exc:
            return f"{scheduler}; unavailable: {clean_cut(str(exc), 200)}"
        lines = [scheduler] + [
            f"<#{s.channel_id}>: last digest up to {format_when(s.covered_until)}, next "
            f"{format_when(s.next_digest_at)}" for s in subscriptions[:10]]
        if len(subscriptions) > 10:
            lines.append(f"and {len(subscriptions) - 10} more")
        if not subscriptions:
            lines.append("no digest channels")
        return "\n".join(lines)


async def setup(bot: SummitDesk) -> None:
    """Extension entry point."""
    await bot.add_cog(Admin(bot))

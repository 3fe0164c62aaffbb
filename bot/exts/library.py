"""/latest: the newest articles in the library."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.exts._render import latest_embed
from bot.replies import Reply
from bot.respond import answer

if TYPE_CHECKING:
    from bot.client import SummitDesk


class Library(commands.Cog):
    """Browsing the library."""

    def __init__(self, bot: SummitDesk) -> None:
        self.bot = bot

    @app_commands.command(name="latest", description="The newest articles in the library.")
    @app_commands.describe(count="How many articles to show (1-25, default 5).")
    async def latest(self, interaction: discord.Interaction[SummitDesk],
                     count: app_commands.Range[int, 1, 25] = 5) -> None:
        """List the most recently added articles."""
        articles = await self.bot.service.run(self.bot.service.latest, count)
        await answer(interaction, Reply(embeds=[latest_embed(articles)]))


async def setup(bot: SummitDesk) -> None:
    """Extension entry point."""
    await bot.add_cog(Library(bot))

"""/latest: the newest articles in the library (also behind a digest's "Newest articles")."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.exts._render import latest_embed
from bot.replies import Reply
from bot.respond import answer, in_time
from bot.tree import run_component
from knowledge.visibility import viewer

if TYPE_CHECKING:
    from bot.client import SummitDesk

LATEST_ON_CLICK = 5


class LatestButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                   template=r"latest:(?P<tag>[\w.]+)"):
    """A digest with nothing new offers the newest articles instead (privately)."""

    def __init__(self, tag: str) -> None:
        super().__init__(discord.ui.Button(label="Newest articles", emoji="📚",
                                           custom_id=f"latest:{tag}"))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str], /
                             ) -> LatestButton:
        """Rebuild from a click on any message."""
        return cls(match["tag"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """The newest articles, only for the one who clicked."""
        bot = cast("SummitDesk", interaction.client)

        async def show() -> None:
            articles = await in_time(interaction, bot.service.run(
                bot.service.latest, LATEST_ON_CLICK, guild_id=viewer(interaction.guild_id)),
                ephemeral=True)
            await answer(interaction, Reply(embeds=[latest_embed(articles)]), ephemeral=True)

        await run_component(interaction, "latest (button)", show())


class Library(commands.Cog):
    """Browsing the library."""

    def __init__(self, bot: SummitDesk) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        """Route "Newest articles" clicks here."""
        self.bot.add_dynamic_items(LatestButton)

    async def cog_unload(self) -> None:
        """Stop routing them here."""
        self.bot.remove_dynamic_items(LatestButton)

    @app_commands.command(name="latest", description="The newest articles in the library.")
    @app_commands.describe(count="How many articles to show (1-25, default 5).")
    async def latest(self, interaction: discord.Interaction[SummitDesk],
                     count: app_commands.Range[int, 1, 25] = 5) -> None:
        """List the most recently added articles (in one step when the library is quick)."""
        articles = await in_time(interaction, self.bot.service.run(
            self.bot.service.latest, count, guild_id=viewer(interaction.guild_id)))
        await answer(interaction, Reply(embeds=[latest_embed(articles)]))


async def setup(bot: SummitDesk) -> None:
    """Extension entry point."""
    await bot.add_cog(Library(bot))

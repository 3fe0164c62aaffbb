"""Reading the source: /article, and the "Read" menu under every cited passage.

A citation's Read menu shows the passage with its neighbours, then a button opens the whole
article, paged. Everything here is ephemeral: reading is private.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.exts._choices import CHOICE_LIMIT, autocompleter, choices
from bot.exts._render import article_pages, page_of_passage, passage_reply
from bot.replies import Reply, format_date
from bot.respond import answer, answer_text, in_time
from bot.tree import run_component
from knowledge.errors import NotFound
from knowledge.service import KnowledgeService
from knowledge.visibility import viewer

if TYPE_CHECKING:
    from bot.client import SummitDesk

ARTICLE_ID_LIMIT = KnowledgeService.max_article_id()  # /article's id option: a stored id
ARTICLE_SOURCE = "art"  # the paginator's name for article pages (key: the article id)
READ_TEMPLATE = r"read:pick(?::(?P<tag>[\w:.]*))?"
WHOLE_TEMPLATE = r"read:art:(?P<article>\d+):(?P<page>\d+)"
CHOICE_VALUE = re.compile(r"(?P<kind>[ap])(?P<article>\d+)(?::(?P<passage>\d+))?")


def read_value(article_id: int, passage_id: int | None = None) -> str:
    """A Read option's value: a passage in context ("p12:345") or a whole article ("a12")."""
    return f"p{article_id}:{passage_id}" if passage_id is not None else f"a{article_id}"


class ReadMenu(discord.ui.DynamicItem[discord.ui.Select[Any]], template=READ_TEMPLATE):
    """The Read select under cited passages; the choice says what to open."""

    def __init__(self, options: Sequence[discord.SelectOption], tag: str = "") -> None:
        super().__init__(discord.ui.Select(
            custom_id=f"read:pick:{tag}" if tag else "read:pick",
            placeholder="📖 Read a source in context…", options=list(options) or
            [discord.SelectOption(label="(nothing to read)", value="a0")]))
        self.tag = tag

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str], /) -> ReadMenu:
        """Rebuild from a pick on any message (the options come with the message)."""
        options = item.options if isinstance(item, discord.ui.Select) else []
        return cls(options, match["tag"] or "")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Open what was picked, privately."""
        picked = self.item.values[0] if self.item.values else ""
        await open_read(interaction, picked)


class WholeArticleButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                         template=WHOLE_TEMPLATE):
    """Under a passage in context: the whole article, at the page holding the passage."""

    def __init__(self, article_id: int, page: int) -> None:
        super().__init__(discord.ui.Button(
            label="Whole article", emoji="📄", style=discord.ButtonStyle.primary,
            custom_id=f"read:art:{article_id}:{page}"))
        self.article_id, self.page = article_id, page

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str], /
                             ) -> WholeArticleButton:
        """Rebuild from a click on any message."""
        return cls(int(match["article"]), int(match["page"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Send the article's pages privately, opened at the passage."""
        await open_read(interaction, read_value(self.article_id), page=self.page)


class Reading(commands.Cog):
    """/article and the Read menu."""

    def __init__(self, bot: SummitDesk) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        """Route Read picks and Whole-article clicks here; make article pages pageable."""
        self.bot.add_dynamic_items(ReadMenu, WholeArticleButton)
        self.bot.paginator.register(ARTICLE_SOURCE, self.article_page_source)

    async def cog_unload(self) -> None:
        """Stop routing them here; article pages stop turning until the cog is back."""
        self.bot.remove_dynamic_items(ReadMenu, WholeArticleButton)
        self.bot.paginator.unregister(ARTICLE_SOURCE)

    async def pages_of(self, article_id: int, guild_id: int | None) -> list[Reply]:
        """An article's pages: metadata and text (NotFound when the server may not see it)."""
        service = self.bot.service
        article = await service.run(service.get_article, article_id, guild_id=viewer(guild_id))
        return article_pages(article)

    async def article_page_source(self, interaction: discord.Interaction[Any], key: str,
                                  message: discord.Message | None) -> Sequence[Reply]:
        """Paginator source "art": the key is the article id."""
        return await self.pages_of(int(key), interaction.guild_id)

    @autocompleter
    async def article_titles(self, interaction: discord.Interaction[SummitDesk], current: str
                             ) -> list[app_commands.Choice[int]]:
        """Autocomplete: articles whose title contains what was typed, newest first."""
        service = self.bot.service
        found = await service.run(service.article_choices, current, CHOICE_LIMIT,
                                  guild_id=viewer(interaction.guild_id))
        return choices((f"{a.title} ({format_date(a.published)})", a.id) for a in found)

    @app_commands.command(name="article", description="Read an article: its details and "
                                                      "full text, page by page.")
    @app_commands.describe(id="The article (type part of its title; suggestions appear).",
                           public="Show it to the channel instead of only to you.")
    @app_commands.autocomplete(id=article_titles)
    async def article(self, interaction: discord.Interaction[SummitDesk],
                      id: app_commands.Range[int, 1, ARTICLE_ID_LIMIT], public: bool = False) -> None:
        """The article's metadata and text, paged; private unless asked otherwise."""
        try:
            pages = await in_time(interaction, self.pages_of(id, interaction.guild_id),
                                  ephemeral=not public)
        except NotFound:
            raise NotFound(f"there is no article #{id}: type part of a title in /article and "
                           "pick one of the suggestions") from None
        await self.bot.paginator.send(interaction, ARTICLE_SOURCE, str(id), pages,
                                      ephemeral=not public)


async def open_read(interaction: discord.Interaction[Any], value: str, *,
                    page: int | None = None) -> None:
    """Answer a Read pick or a Whole-article click, privately."""
    await run_component(interaction, "read", _read(interaction, value, page))


async def _read(interaction: discord.Interaction[Any], value: str, page: int | None) -> str:
    """Open the picked article or passage; the outcome for the interaction's log line."""
    bot = cast("SummitDesk", interaction.client)
    match = CHOICE_VALUE.fullmatch(value)
    if match is None or match["article"] == "0":
        await answer_text(interaction, "There is nothing to open here. Use /article to "
                                       "find an article by its title.")
        return "refused"
    article_id = int(match["article"])
    service = bot.service
    article = await in_time(interaction, service.run(
        service.get_article, article_id, guild_id=viewer(interaction.guild_id)),
        ephemeral=True)
    if match["kind"] == "p" and match["passage"]:
        passage_id = int(match["passage"])
        reply = passage_reply(article, passage_id,
                              WholeArticleButton(article_id,
                                                 page_of_passage(article, passage_id)))
        await answer(interaction, reply, ephemeral=True)
    else:
        await bot.paginator.send(interaction, ARTICLE_SOURCE, str(article_id),
                                 article_pages(article), page=page or 0, ephemeral=True)
    return "ok"


async def setup(bot: SummitDesk) -> None:
    """Extension entry point."""
    await bot.add_cog(Reading(bot))

"""/ask: the best expert passages for a question, with a "More" button paging further hits."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import ask_cooldown
from bot.exts._render import ask_page, no_match_reply, question_from_footer
from bot.replies import NO_MENTIONS, Reply
from bot.respond import answer, answer_text, defer, log_interaction, mark_started
from bot.tree import report_error

if TYPE_CHECKING:
    from bot.client import SummitDesk

log = logging.getLogger(__name__)

VIEW_TIMEOUT = 900.0  # the button keeps working after this through the dynamic item registry


class MoreButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                 template=r"ask:more:(?P<offset>\d+)"):
    """Shows the next page of passages; the offset is in the custom_id, the question in the
    embed footer, so it works for any /ask answer, even after a restart."""

    def __init__(self, offset: int) -> None:
        super().__init__(discord.ui.Button(label="More", style=discord.ButtonStyle.secondary,
                                           custom_id=f"ask:more:{offset}", emoji="📚"))
        self.offset = offset

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str], /
                             ) -> MoreButton:
        """Rebuild the button from a click on any message."""
        return cls(int(match["offset"]))

    async def callback(  # type: ignore[override]  # our client type
            self, interaction: discord.Interaction[SummitDesk]) -> None:
        """Page on; errors become a short reply like a command's."""
        mark_started(interaction)
        try:
            await next_page(interaction, self.offset)
        except Exception as exc:  # the tree's handler does not see component callbacks
            await report_error(interaction, exc, command="ask more")
            return
        log_interaction(interaction, "ok", command="ask more")


def more_view(offset: int) -> discord.ui.View:
    """A view holding the More button for the page starting at `offset`."""
    view = discord.ui.View(timeout=VIEW_TIMEOUT)
    view.add_item(MoreButton(offset))
    return view


def page_reply(question: str, hits: list[Any], offset: int, page_size: int) -> Reply:
    """The embed for hits[offset:offset+page_size] with a More button if more remain."""
    page = hits[offset:offset + page_size]
    embed, shown, pageable = ask_page(question, page, offset=offset)
    following = offset + shown
    view = more_view(following) if pageable and following < len(hits) else None
    return Reply(embeds=[embed], view=view)


async def next_page(interaction: discord.Interaction[SummitDesk], offset: int) -> None:
    """Answer a More click: the asker's message pages in place; others get a private page."""
    bot = interaction.client
    message = interaction.message
    footer = message.embeds[0].footer.text if message and message.embeds else None
    question = question_from_footer(footer)
    if question is None:
        await answer_text(interaction, "I cannot page this answer any more: please ask again.")
        return
    metadata = message.interaction_metadata if message else None
    own = metadata is not None and metadata.user.id == interaction.user.id
    if own:
        await interaction.response.defer()  # type 6: the update follows
    else:
        await interaction.response.defer(ephemeral=True, thinking=True)
    settings = bot.settings
    hits = await bot.service.run(bot.service.search, question, top=settings.ask_max_hits)
    if len(hits) <= offset:
        await answer_text(interaction, "No further passages for that question.")
        return
    reply = page_reply(question, hits, offset, settings.ask_page_size)
    if own:
        # view=None removes the button on the last page.
        await interaction.edit_original_response(embeds=reply.embeds, view=reply.view,
                                                  allowed_mentions=NO_MENTIONS)
    else:
        await answer(interaction, reply, ephemeral=True)


class Ask(commands.Cog):
    """Questions to the library."""

    def __init__(self, bot: SummitDesk) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        """Route More clicks on any /ask answer (old ones too) to MoreButton."""
        self.bot.add_dynamic_items(MoreButton)

    async def cog_unload(self) -> None:
        """Stop routing More clicks here."""
        self.bot.remove_dynamic_items(MoreButton)

    @app_commands.command(name="ask", description="Ask the library: the best expert passages, "
                                                  "with citations.")
    @app_commands.describe(question="Your question in your own words, e.g. what did experts "
                                    "expect from the last summit?")
    @app_commands.checks.dynamic_cooldown(ask_cooldown)
    async def ask(self, interaction: discord.Interaction[SummitDesk], question: str) -> None:
        """Search, then answer with the first page of citations."""
        service = self.bot.service
        question = service.retriever.validate(question)  # refuse bad input before going public
        await defer(interaction)
        settings = self.bot.settings
        hits = await service.run(service.search, question, top=settings.ask_max_hits)
        if not hits:
            await answer(interaction, no_match_reply())
            return
        await answer(interaction, page_reply(question, hits, 0, settings.ask_page_size))


async def setup(bot: SummitDesk) -> None:
    """Extension entry point."""
    await bot.add_cog(Ask(bot))

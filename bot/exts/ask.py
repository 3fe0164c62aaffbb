"""/ask and the "Ask Summit Desk" message menu: the best expert passages for a question, paged,
optionally narrowed to an expert, a publisher or a period."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import ButtonCooldowns, search_cooldown
from bot.exts._choices import CHOICE_LIMIT, NAME_LIMIT, TOPIC_LIMIT, autocompleter, choices
from bot.exts._render import AskFilters, ask_pages, ask_state_from, no_match_text
from bot.replies import Reply
from bot.respond import answer_text, in_time
from knowledge.errors import BadInput
from knowledge.models import Hit, PartialDate
from knowledge.visibility import viewer

if TYPE_CHECKING:
    from bot.client import SummitDesk

log = logging.getLogger(__name__)

ASK_SOURCE = "ask"  # the paginator's name for /ask pages (the question is in the footer)
MENU_NAME = "Ask Summit Desk"


def parse_period(value: str | None, option: str) -> PartialDate | None:
    """A since/until option as a partial date; BadInput (a sentence) for anything else."""
    if value is None or not value.strip():
        return None
    try:
        return PartialDate.parse(value)
    except ValueError:
        raise BadInput(f"the {option} date “{value.strip()[:40]}” is not one I can read: "
                       "write a year (2017), a month (2017-04) or a day (2017-04-27)") from None


class MoreButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                 template=r"ask:more:(?P<offset>\d+)"):
    """The "More" button of answers posted before the paginator: it opens the page holding
    passage offset+1, so those messages keep working. It never expires: no timer watched
    those messages, and a click starts paging afresh (the asker's message turns into a paged
    answer with its own expiry; anyone else gets a private copy)."""

    def __init__(self, offset: int) -> None:
        super().__init__(discord.ui.Button(label="More", custom_id=f"ask:more:{offset}"))
        self.offset = offset

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str], /
                             ) -> MoreButton:
        """Rebuild the button from a click on any message."""
        return cls(int(match["offset"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Turn to the page holding the next passage (it searches again: the paginator holds
        the turn back while the /ask cooldown runs)."""
        bot = cast("SummitDesk", interaction.client)
        page = self.offset // bot.settings.ask_page_size
        await bot.paginator.on_turn(interaction, ASK_SOURCE, "", page, expires=False)


class Ask(commands.Cog):
    """Questions to the library."""

    def __init__(self, bot: SummitDesk) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(name=MENU_NAME, callback=self.ask_about_message)
        self.more_cooldowns = ButtonCooldowns()

    async def cog_load(self) -> None:
        """Make /ask answers pageable (old "More" buttons too); add the message menu."""
        limit = self.bot.settings.search_max_query_chars
        if limit != TOPIC_LIMIT:
            log.warning("SEARCH_MAX_QUERY_CHARS=%d, but the slash options let through up to %d "
                        "characters: longer questions get a refusal from the library", limit,
                        TOPIC_LIMIT)
        self.bot.add_dynamic_items(MoreButton)
        # Turning a page searches again: the /ask cooldown applies to it too.
        self.bot.paginator.register(ASK_SOURCE, self.page_source,
                                    throttle=self.more_cooldowns.retry_after)
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        """Undo cog_load."""
        self.bot.paginator.unregister(ASK_SOURCE)
        self.bot.remove_dynamic_items(MoreButton)
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    # ----- searching ----------------------------------------------------------------------------
    def _answer(self, question: str, filters: AskFilters, guild_id: int | None
                ) -> tuple[list[Hit], str]:
        """(in a worker thread) The hits /ask pages through, among those the server (a DM: the
        operator's library) may see, and, when there are any, how the question was read: both
        in one hand-off to the thread pool (two queued behind other questions' searches when
        many ask at once)."""
        service = self.bot.service
        hits = service.search(question, top=self.bot.settings.ask_max_hits,
                              person=filters.expert, publisher=filters.publisher,
                              since=filters.since, until=filters.until,
                              guild_id=viewer(guild_id))
        reading = service.reading(question, person=filters.expert, since=filters.since,
                                  until=filters.until, guild_id=viewer(guild_id)
                                  ).describe() if hits else ""
        return hits, reading

    async def answer(self, question: str, filters: AskFilters, guild_id: int | None
                     ) -> tuple[list[Hit], str]:
        """The hits and the reading line, searched in a worker thread."""
        return await self.bot.service.run(self._answer, question, filters, guild_id)

    def pages(self, question: str, filters: AskFilters, hits: Sequence[Hit], reading: str
              ) -> list[Reply]:
        """The answer's pages, the first with the line saying how the question was read."""
        return ask_pages(question, filters, hits, self.bot.settings.ask_page_size, reading)

    async def answer_in_time(self, interaction: discord.Interaction[SummitDesk], question: str,
                             filters: AskFilters, *, ephemeral: bool = False
                             ) -> tuple[list[Hit], str]:
        """The hits and the reading; "thinking…" first only if the search is slow (`in_time`)."""
        return await in_time(interaction, self.answer(question, filters, interaction.guild_id),
                             ephemeral=ephemeral)

    async def page_source(self, interaction: discord.Interaction[Any], key: str,
                          message: discord.Message | None) -> Sequence[Reply]:
        """Paginator source "ask": the question and filters come from the message's footer."""
        found = ask_state_from(message)
        if found is None:
            raise BadInput("this answer cannot be paged any more: please ask again")
        question, filters = found
        hits, reading = await self.answer(question, filters, interaction.guild_id)
        return self.pages(question, filters, hits, reading)

    # ----- autocomplete -------------------------------------------------------------------------
    @autocompleter
    async def expert_names(self, interaction: discord.Interaction[SummitDesk], current: str
                           ) -> list[app_commands.Choice[str]]:
        """Autocomplete: expert names matching what was typed."""
        service = self.bot.service
        names = await service.run(service.experts.autocomplete, current, limit=25,
                                  guild_id=viewer(interaction.guild_id))
        return choices((name, name) for name in names)

    @autocompleter
    async def publisher_names(self, interaction: discord.Interaction[SummitDesk], current: str
                              ) -> list[app_commands.Choice[str]]:
        """Autocomplete: publishers in the library matching what was typed."""
        service = self.bot.service
        names = await service.run(service.publisher_choices, current, CHOICE_LIMIT,
                                  guild_id=viewer(interaction.guild_id))
        return choices((name, name) for name in names)

    # ----- commands -----------------------------------------------------------------------------
    @app_commands.command(name="ask", description="Ask the library: the best expert passages, "
                                                  "with citations.")
    @app_commands.describe(
        question="Your question in your own words, e.g. what did experts expect from the last "
                 "summit?",
        expert="Only passages by this expert (suggestions appear as you type).",
        publisher="Only articles from this publisher (suggestions appear as you type).",
        since="Only articles from this date on: 2017, 2017-04 or 2017-04-27.",
        until="Only articles up to this date: 2019, 2019-06 or 2019-06-30.")
    @app_commands.autocomplete(expert=expert_names, publisher=publisher_names)
    @search_cooldown()
    async def ask(self, interaction: discord.Interaction[SummitDesk],
                  question: app_commands.Range[str, 1, TOPIC_LIMIT],
                  expert: app_commands.Range[str, 1, NAME_LIMIT] | None = None,
                  publisher: app_commands.Range[str, 1, NAME_LIMIT] | None = None,
                  since: app_commands.Range[str, 4, 10] | None = None,
                  until: app_commands.Range[str, 4, 10] | None = None) -> None:
        """Search, then answer with the first page of citations (refusals stay private)."""
        service = self.bot.service
        question = service.validate_question(question)  # refuse bad input before going public
        filters = AskFilters(expert=expert, publisher=publisher,
                             since=parse_period(since, "since"),
                             until=parse_period(until, "until"))
        service.check_period(filters.since, filters.until)  # privately, before going public
        hits, reading = await self.answer_in_time(interaction, question, filters)
        if not hits:
            await self.no_match(interaction, question, filters)
            return
        await self.bot.paginator.send(interaction, ASK_SOURCE, "",
                                      self.pages(question, filters, hits, reading))

    async def no_match(self, interaction: discord.Interaction[SummitDesk], question: str,
                       filters: AskFilters) -> None:
        """Say so privately; the public "thinking…" placeholder goes away."""
        await answer_text(interaction, no_match_text(question, filters,
                                                     in_dm=interaction.guild_id is None))

    @search_cooldown()  # the menu searches like /ask
    async def ask_about_message(self, interaction: discord.Interaction[SummitDesk],
                                message: discord.Message) -> None:
        """Message menu: ask the library with the message's text; the answer is private."""
        limit = self.bot.settings.search_max_query_chars
        text = " ".join((message.content or "").split())
        if not text:
            raise BadInput("that message has no text to ask about (only embeds or files): "
                           "use /ask with your own words")
        question = text[:limit].rsplit(" ", 1)[0] if len(text) > limit else text
        hits, reading = await self.answer_in_time(interaction, question, AskFilters(),
                                                    ephemeral=True)
        if not hits:
            await answer_text(interaction, no_match_text(question, AskFilters(),
                                                         in_dm=interaction.guild_id is None))
            return
        await self.bot.paginator.send(interaction, ASK_SOURCE, "",
                                      self.pages(question, AskFilters(), hits, reading),
                                      ephemeral=True)


async def setup(bot: SummitDesk) -> None:
    """Extension entry point."""
    await bot.add_cog(Ask(bot))

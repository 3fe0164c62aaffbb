"""/summit and /summits: meetings, and what experts expected and concluded (service.meetings)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import search_cooldown, topic_cooldown
from bot.exts._choices import NAME_LIMIT, TOPIC_LIMIT, autocompleter, choices
from bot.exts._render import (
    meeting_title,
    read_menu,
    read_options,
    summit_embed,
    summit_halves,
    summits_embeds,
)
from bot.replies import Reply, clean_cut, pack
from bot.respond import answer, answer_text, in_time
from knowledge.meetings.service import MeetingsService
from knowledge.models import Meeting
from knowledge.visibility import viewer

if TYPE_CHECKING:
    from bot.client import SummitDesk

TIMELINE_FILE = "timeline.png"


def no_commentary_text(meeting: str, topic: str) -> str:
    """The private /summit reply when nothing before or after the meeting matches the topic."""
    return (f"Nothing in the library about {clean_cut(meeting, 200)} matches "
            f"“{clean_cut(topic, 300)}”. Try other words, leave the topic out to see what was "
            "expected and said, or /ask with since and until around the meeting; /help shows "
            "examples.")


class Summits(commands.Cog):
    """Summits, visits and ministerial meetings."""

    def __init__(self, bot: SummitDesk) -> None:
        self.bot = bot

    @property
    def meetings(self) -> MeetingsService:
        """service.meetings (knowledge.meetings.service.MeetingsService)."""
        return self.bot.service.meetings

    @autocompleter
    async def meeting_names(self, interaction: discord.Interaction[SummitDesk], current: str
                            ) -> list[app_commands.Choice[str]]:
        """Autocomplete: meetings matching what was typed (label shown, id sent)."""
        pairs = await self.bot.service.run(self.meetings.autocomplete, current, limit=25)
        return choices((label, str(meeting_id)) for label, meeting_id in pairs)

    @app_commands.command(name="summit", description="A summit: expectations before it and "
                                                     "assessments after it.")
    @app_commands.describe(name="The meeting: a place and year, a month (YYYY-MM) or an ordinal (suggestions appear).",
                           topic="Only passages about this, in a few words.")
    @app_commands.autocomplete(name=meeting_names)
    @search_cooldown(topic_cooldown)
    async def summit(self, interaction: discord.Interaction[SummitDesk],
                     name: app_commands.Range[str, 1, NAME_LIMIT],
                     topic: app_commands.Range[str, 1, TOPIC_LIMIT] | None = None) -> None:
        """What was said before and after one meeting."""
        if topic is not None:
            self.bot.service.validate_question(topic)
        # The meeting is looked up within `in_time` (a slow library could otherwise outlast
        # Discord's 3 s); an unknown or ambiguous name is still refused privately.
        commentary = await in_time(interaction, self.bot.service.run(
            self.meetings.commentary, name, topic, top=3, guild_id=viewer(interaction.guild_id)))
        if topic is not None and not (commentary.before or commentary.after
                                      or commentary.unplaced):
            # "no good match" is private (docs/discord.md)
            await answer_text(interaction, no_commentary_text(
                meeting_title(commentary.meeting), topic))
            return
        cited = [(f"{label} · {h.article.title or 'Untitled'}", h)
                 for label, _, hits in summit_halves(commentary) for h in hits]
        await answer(interaction, Reply(embeds=[summit_embed(commentary, topic)],
                                        view=read_menu(read_options(cited))))

    @app_commands.command(name="summits", description="Every meeting in the registry, with a "
                                                      "timeline.")
    async def list_summits(self, interaction: discord.Interaction[SummitDesk]) -> None:
        """The registry as a list, with the timeline picture attached."""
        guild_id = viewer(interaction.guild_id)
        meetings, png = await in_time(interaction, self._registry(guild_id))
        replies = pack(summits_embeds(meetings))
        # The picture goes with the message whose last embed shows it.
        replies[-1].files = [discord.File(io.BytesIO(png), filename=TIMELINE_FILE)]
        await answer(interaction, replies)

    async def _registry(self, guild_id: int | None) -> tuple[list[Meeting], bytes]:
        """The registry and its timeline picture, in worker threads."""
        meetings = await self.bot.service.run(self.meetings.list, guild_id=guild_id)
        png = await self.bot.service.run(self.meetings.timeline_png, guild_id=guild_id)
        return meetings, png


async def setup(bot: SummitDesk) -> None:
    """Extension entry point."""
    await bot.add_cog(Summits(bot))

"""/expert, /experts, /compare: who said what (knowledge.people via service.experts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import search_cooldown, topic_cooldown
from bot.exts._choices import NAME_LIMIT, TOPIC_LIMIT, autocompleter, choices
from bot.exts._render import (
    compare_embed,
    compare_options,
    expert_embed,
    experts_embeds,
    read_menu,
    read_view,
)
from bot.replies import Reply, clean_cut
from bot.respond import answer, answer_text, in_time
from knowledge.people.service import ExpertsService
from knowledge.visibility import viewer

if TYPE_CHECKING:
    from bot.client import SummitDesk

EXPERTS_SOURCE = "experts"


def no_view_text(topic: str) -> str:
    """The private /compare reply when no expert addressed the topic: what to try next."""
    return (f"No expert in the library addressed “{clean_cut(topic, 300)}”. Try other words "
            "(a place, a meeting, a policy), /ask with a filter (expert, publisher, since, "
            "until), or see /help for examples.")


def no_passage_text(expert: str, topic: str) -> str:
    """The private /expert reply when none of the expert's passages matches the topic."""
    return (f"Nothing {clean_cut(expert, 100)} said in the library matches "
            f"“{clean_cut(topic, 300)}”. Try other words, leave the topic out to see their "
            "newest passages, or /ask with a filter; /help shows examples.")


class Experts(commands.Cog):
    """The people whose views the library carries."""

    def __init__(self, bot: SummitDesk) -> None:
        self.bot = bot

    @property
    def experts(self) -> ExpertsService:
        """service.experts (knowledge.people.service.ExpertsService)."""
        return self.bot.service.experts

    async def cog_load(self) -> None:
        """Make the expert list pageable."""
        self.bot.paginator.register(EXPERTS_SOURCE, self.expert_pages)

    async def cog_unload(self) -> None:
        """Undo cog_load (a reload registers this cog's own pages again)."""
        self.bot.paginator.unregister(EXPERTS_SOURCE)

    @autocompleter
    async def expert_names(self, interaction: discord.Interaction[SummitDesk], current: str
                           ) -> list[app_commands.Choice[str]]:
        """Autocomplete: expert names starting with what was typed."""
        names = await self.bot.service.run(self.experts.autocomplete, current, limit=25,
                                           guild_id=viewer(interaction.guild_id))
        return choices((name, name) for name in names)

    @app_commands.command(name="expert", description="An expert: who they are and what they "
                                                     "said, optionally on a topic.")
    @app_commands.describe(name="The expert's name (suggestions appear as you type).",
                           topic="Only their passages about this, in a few words.")
    @app_commands.autocomplete(name=expert_names)
    @search_cooldown(topic_cooldown)
    async def expert(self, interaction: discord.Interaction[SummitDesk],
                     name: app_commands.Range[str, 1, NAME_LIMIT],
                     topic: app_commands.Range[str, 1, TOPIC_LIMIT] | None = None) -> None:
        """Show an expert's card and their best passages."""
        if topic is not None:
            self.bot.service.validate_question(topic)
        # The name is looked up within `in_time` too: on a slow library the lookup alone can
        # outlast Discord's 3 s. An unknown name stays private either way (`answer_text`
        # removes a public "thinking…" placeholder first).
        expert, hits = await in_time(interaction, self.bot.service.run(
            self.experts.views, name, topic, top=3, guild_id=viewer(interaction.guild_id)))
        if topic is not None and not hits:  # "no good match" is private (docs/discord.md)
            await answer_text(interaction, no_passage_text(expert.name, topic))
            return
        await answer(interaction, Reply(embeds=[expert_embed(expert, hits, topic)],
                                        view=read_view(hits)))

    @app_commands.command(name="experts", description="Every expert in the library.")
    async def list_experts(self, interaction: discord.Interaction[SummitDesk]) -> None:
        """List experts with their roles and article counts."""
        pages = await in_time(interaction, self.expert_pages(interaction, "", None))
        await self.bot.paginator.send(interaction, EXPERTS_SOURCE, "", pages)

    async def expert_pages(self, interaction: discord.Interaction[Any], key: str,
                           message: discord.Message | None) -> list[Reply]:
        """Paginator source "experts": the list, an embed per page."""
        experts = await self.bot.service.run(self.experts.list,
                                             guild_id=viewer(interaction.guild_id))
        return [Reply(embeds=[embed]) for embed in experts_embeds(experts)]

    @app_commands.command(name="compare", description="What each expert said on one topic.")
    @app_commands.describe(topic="The topic, in a few words (each expert's best passage on it).")
    @search_cooldown()
    async def compare(self, interaction: discord.Interaction[SummitDesk],
                      topic: app_commands.Range[str, 1, TOPIC_LIMIT]) -> None:
        """Each expert's best passage on the topic, side by side."""
        topic = self.bot.service.validate_question(topic)
        views = await in_time(interaction, self.bot.service.run(
            self.experts.compare, topic, guild_id=viewer(interaction.guild_id)))
        if not views:  # "no good match" is private (docs/discord.md)
            await answer_text(interaction, no_view_text(topic))
            return
        embed = compare_embed(topic, views)
        menu = read_menu(compare_options(views[:len(embed.fields)]))
        await answer(interaction, Reply(embeds=[embed], view=menu))


async def setup(bot: SummitDesk) -> None:
    """Extension entry point."""
    await bot.add_cog(Experts(bot))

"""/source add|upload|list|remove|status: where articles come from (admins only)."""

from __future__ import annotations

import logging
import sys
import time
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import admin_check, is_admin
from bot.exts._choices import autocompleter, choices
from bot.exts._render import (
    add_results_reply,
    input_label,
    poll_line,
    result_lines,
    sources_embeds,
)
from bot.replies import NO_MENTIONS, Reply, clean_cut, code, counted, notice
from bot.respond import OUTCOME, STARTED, answer, defer, in_time
from knowledge.models import AddResult
from knowledge.sources.service import SourcesService

if TYPE_CHECKING:
    from bot.client import SummitDesk

log = logging.getLogger(__name__)

LIST_SOURCE, STATUS_SOURCE = "sources", "health"
URL_LIMIT = 2000  # longer links are not web addresses anyone can follow
NO_FEEDS = ("This server follows no feeds; add one with `/source add url: (the feed's address) "
            "kind: feed`, and /source poll can read it whenever you like.")


class ProgressNote:
    """Edits a deferred reply with how an add is going (which of several links, a feed's
    entries): at once, then at most every few seconds (edits are rate-limited). Shortly before
    the interaction's 15 minutes run out it says where the result will go instead, and stops;
    it also stops quietly when the reply cannot be edited any more."""

    EVERY_SECONDS = 2.0
    FINAL_NOTE_AFTER = 13 * 60.0  # seconds after the command; Discord allows edits for 15 min

    def __init__(self, interaction: discord.Interaction[SummitDesk], later: str) -> None:
        self.interaction = interaction
        self.later = later  # where the result goes when the reply cannot show it
        self.last = 0.0
        self.broken = False
        self.shown = False
        self.step = ""
        # when the interaction arrived (bot.respond marks it), as perf_counter time
        self.started = interaction.extras.get(STARTED, time.perf_counter())

    async def __call__(self, read: int, stored: int, total: int) -> None:
        """Show "entries read / stored" unless an edit went out moments ago."""
        await self._show(f"{self.step}Reading the feed: {read} of "
                         f"{counted(total, 'entry', 'entries')} read, {stored} stored…")

    async def each(self, number: int, total: int, item: str) -> None:
        """Show which of several links is being added."""
        self.step = f"Link {number} of {total}: {input_label(item)}\n"
        await self._show(f"Adding link {number} of {total}: {input_label(item)}…")

    async def _show(self, content: str) -> None:
        now = time.monotonic()
        if self.broken or now - self.last < self.EVERY_SECONDS:
            return
        self.last = now
        if time.perf_counter() - self.started >= self.FINAL_NOTE_AFTER:
            content = (f"Still working ({content.rstrip('…')}). This note cannot change after "
                       f"15 minutes: the result will be {self.later}.")
            self.broken = True  # the last edit
        try:
            await self.interaction.edit_original_response(content=content)
            self.shown = True
        except discord.HTTPException as exc:  # e.g. the 15-minute token ran out
            log.info("progress of a source add not shown: %s", exc)
            self.broken = True


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Sources(commands.GroupCog, group_name="source",
              group_description="Manage the library's sources (admins)."):
    """Article URLs, feeds and uploads."""

    def __init__(self, bot: SummitDesk) -> None:
        self.bot = bot
        super().__init__()

    @property
    def sources(self) -> SourcesService:
        """service.sources (knowledge.sources.service.SourcesService)."""
        return self.bot.service.sources

    async def cog_load(self) -> None:
        """Make the source lists pageable (they are private: only their admin turns them)."""
        self.bot.paginator.register(LIST_SOURCE, self.list_pages)
        self.bot.paginator.register(STATUS_SOURCE, self.status_pages)

    async def cog_unload(self) -> None:
        """Undo cog_load (a reload registers this cog's own pages again)."""
        self.bot.paginator.unregister(LIST_SOURCE, STATUS_SOURCE)

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        """Checked again at run time: Manage Server or the admin role."""
        return await admin_check(interaction)

    @autocompleter
    async def source_choices(self, interaction: discord.Interaction[SummitDesk], current: str
                             ) -> list[app_commands.Choice[int]]:
        """Autocomplete: sources matching what was typed (admins only)."""
        if not await is_admin(interaction):
            return []
        pairs = await self.bot.service.run(self.sources.autocomplete, current, limit=25,
                                           guild_id=interaction.guild_id)
        return choices((label, int(source_id)) for label, source_id in pairs)

    def feed_pairs(self, current: str, guild_id: int | None) -> list[tuple[str, int]]:
        """(in a worker thread) (label, id) of the server's feeds matching what was typed."""
        feeds = {status.id for status in self.sources.list(guild_id) if status.kind == "feed"}
        if not feeds:
            return []
        everything = self.sources.autocomplete(current, limit=sys.maxsize, guild_id=guild_id)
        return [(label, source_id) for label, source_id in everything if source_id in feeds]

    @autocompleter
    async def feed_choices(self, interaction: discord.Interaction[SummitDesk], current: str
                           ) -> list[app_commands.Choice[int]]:
        """Autocomplete: the server's feeds matching what was typed (admins only); only feeds
        are polled, so files and pages are not offered."""
        if not await is_admin(interaction):
            return []
        pairs = await self.bot.service.run(self.feed_pairs, current, interaction.guild_id)
        return choices(pairs)

    @app_commands.command(name="add", description="Add an article URL or a feed to follow.")
    @app_commands.describe(url="The article's or feed's address (https://...).",
                           kind="article or feed; leave empty to detect it.")
    async def add(self, interaction: discord.Interaction[SummitDesk],
                  url: app_commands.Range[str, 1, URL_LIMIT],
                  kind: Literal["article", "feed"] | None = None) -> None:
        """Fetch and store an article, or start following a feed (its progress shown as it
        goes)."""
        await defer(interaction, ephemeral=True)
        progress = ProgressNote(interaction, await self.result_later(interaction))
        results = await self.sources.add(url, kind=kind or "auto", guild_id=interaction.guild_id,
                                         added_by=str(interaction.user.id), progress=progress,
                                         each=progress.each)
        if results and all(r.status == "error" for r in results):
            interaction.extras[OUTCOME] = "refused"  # told as a user error is, not "ok"
        await self.report(interaction, results, over_progress=progress.shown)

    async def result_later(self, interaction: discord.Interaction[SummitDesk]) -> str:
        """Where `report` sends the results when the reply cannot show them any more."""
        config = await self.bot.guild_settings.get(interaction.guild_id) \
            if interaction.guild_id is not None else None
        if config is not None and config.alert_channel_id:
            return f"posted in <#{config.alert_channel_id}>"
        return "sent to you by direct message"

    async def report(self, interaction: discord.Interaction[SummitDesk],
                     results: list[AddResult], *, over_progress: bool = False) -> None:
        """The results privately to the admin who asked, and to the alert channel when there is
        one; when the interaction's 15 minutes ran out first, to the alert channel or by DM."""
        delivered = True
        try:
            reply = add_results_reply(results)
            if over_progress:  # the progress note becomes the result
                await interaction.edit_original_response(content="", embeds=reply.embeds,
                                                         allowed_mentions=NO_MENTIONS)
            else:
                await answer(interaction, reply, ephemeral=True)
        except discord.HTTPException as exc:  # the token expired during a slow add
            log.info("source add results could not be shown to user %s (%s); sending them "
                     "as an alert", interaction.user.id, exc)
            delivered = False
        guild_id = interaction.guild_id
        if guild_id is None:
            return
        inputs = ", ".join(dict.fromkeys(code(r.input, 200) for r in results))
        text = f"<@{interaction.user.id}> added a source ({inputs}):\n" + "\n".join(
            result_lines(results))
        config = await self.bot.guild_settings.get(guild_id)
        notifier = self.bot.notifier
        if config.alert_channel_id and await notifier.to_channel(config.alert_channel_id,
                                                                 guild_id, text):
            return
        if not delivered:
            guild = interaction.guild
            await notifier.direct(interaction.user.id, guild.name if guild else None, text)

    @app_commands.command(name="upload", description="Add a file (text, Markdown, HTML or PDF).")
    @app_commands.describe(file="The document to add to the library.")
    async def upload(self, interaction: discord.Interaction[SummitDesk],
                     file: discord.Attachment) -> None:
        """Store an uploaded document."""
        limit = self.bot.settings.upload_max_bytes
        if file.size > limit:  # refused like every other upload: the "Nothing added" card
            await answer(interaction, add_results_reply([AddResult(
                file.filename, "error", f"{clean_cut(file.filename, 100)} is "
                f"{file.size / 1e6:.1f} MB; the limit is {limit / 1e6:.1f} MB")]), ephemeral=True)
            return
        await defer(interaction, ephemeral=True)
        data = await file.read()
        result = await self.sources.add_upload(file.filename, data,
                                               guild_id=interaction.guild_id,
                                               added_by=str(interaction.user.id))
        await self.report(interaction, [result])

    @app_commands.command(name="list", description="The sources this server added.")
    async def list_sources(self, interaction: discord.Interaction[SummitDesk]) -> None:
        """List sources."""
        pages = await in_time(interaction, self.list_pages(interaction, "", None),
                              ephemeral=True)
        await self.bot.paginator.send(interaction, LIST_SOURCE, "", pages, ephemeral=True)

    async def list_pages(self, interaction: discord.Interaction[Any], key: str,
                         message: discord.Message | None) -> list[Reply]:
        """Paginator source "sources": the server's sources, an embed per page."""
        found = await self.bot.service.run(self.sources.list, guild_id=interaction.guild_id)
        return [Reply(embeds=[embed]) for embed in sources_embeds(found)]

    async def status_pages(self, interaction: discord.Interaction[Any], key: str,
                           message: discord.Message | None) -> list[Reply]:
        """Paginator source "health": the sources' fetch times and errors, an embed per page."""
        found = await self.bot.service.run(self.sources.status, guild_id=interaction.guild_id)
        return [Reply(embeds=[embed]) for embed in sources_embeds(found, detail=True)]

    @app_commands.command(name="remove", description="Stop following a source (its articles "
                                                     "stay).")
    @app_commands.describe(source="The source to stop (suggestions appear as you type).")
    @app_commands.autocomplete(source=source_choices)
    async def remove(self, interaction: discord.Interaction[SummitDesk], source: int) -> None:
        """Stop this server's following of a source (another server's is left alone: NotFound);
        stored articles are kept."""
        # a write: "thinking…" first when the database is slow to give its lock
        removed = await in_time(interaction, self.bot.service.run(
            self.sources.remove, source, guild_id=interaction.guild_id), ephemeral=True)
        label = clean_cut(removed.title or removed.url or f"source {removed.id}", 200)
        stay = "stays" if removed.articles == 1 else "stay"
        await answer(interaction, notice(
            f"Stopped #{removed.id} {label}. Its {counted(removed.articles, 'article')} {stay} "
            "in the library."), ephemeral=True)

    @app_commands.command(name="poll", description="Read a followed feed now, without waiting "
                                                   "for its next poll.")
    @app_commands.describe(source="The feed (suggestions appear as you type).")
    @app_commands.autocomplete(source=feed_choices)
    async def poll(self, interaction: discord.Interaction[SummitDesk], source: int) -> None:
        """Poll one of this server's feeds now (after fixing a failing feed's server, say: its
        backoff would otherwise wait up to a day); what it found, or why it could not (a
        server that follows no feed is told how to add one)."""
        await defer(interaction, ephemeral=True)
        if not await self.bot.service.run(self.feed_pairs, "", interaction.guild_id):
            interaction.extras[OUTCOME] = "refused"
            await answer(interaction, notice(NO_FEEDS), ephemeral=True)
            return
        outcome = await self.sources.poll(source, guild_id=interaction.guild_id)
        await answer(interaction, notice(poll_line(outcome)), ephemeral=True)

    @app_commands.command(name="status", description="Health of each source: last fetch, "
                                                     "errors, next poll.")
    async def status(self, interaction: discord.Interaction[SummitDesk]) -> None:
        """Sources with fetch times, failures and next poll."""
        pages = await in_time(interaction, self.status_pages(interaction, "", None),
                              ephemeral=True)
        await self.bot.paginator.send(interaction, STATUS_SOURCE, "", pages, ephemeral=True)


async def setup(bot: SummitDesk) -> None:
    """Extension entry point."""
    await bot.add_cog(Sources(bot))

"""/digest set|off|now|preview: scheduled digests of new articles (service.digests). Admins only."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import admin_check, guild_id_of, missing_permissions
from bot.exts._choices import autocompleter, choices, timezone_names
from bot.posting import ChannelDigestPoster
from bot.replies import (
    ADMIN_COLOUR,
    EmbedBuilder,
    Reply,
    clean_cut,
    code,
    digest_replies,
    notice,
)
from bot.respond import answer, defer
from knowledge.digests.service import DigestService
from knowledge.digests.types import RunOutcome, Subscription
from knowledge.errors import BadInput

if TYPE_CHECKING:
    from bot.client import SummitDesk

log = logging.getLogger(__name__)


# Name -> cron; "weekly mon 09:00" takes a weekday, the others a time only.
PRESETS = {"daily": "{m} {h} * * *", "weekdays": "{m} {h} * * 1-5", "weekly": "{m} {h} * * {d}"}
PRESET_EXAMPLES = ("daily 09:00", "weekdays 08:30", "weekly mon 09:00", "0 9 * * 1")
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
PRESET = re.compile(r"(?P<name>daily|weekdays|weekly)(?:\s+(?P<day>[a-z]{3})[a-z]*)?"
                    r"\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})", re.IGNORECASE)
PREVIEW_SOURCE = "preview"
SCHEDULE_LIMIT = 120  # the stored schedule's length
TIMEZONE_LIMIT = 64   # the stored time zone's length
DIGEST_NEEDS = (("view_channel", "View Channel"), ("send_messages", "Send Messages"),
                ("embed_links", "Embed Links"), ("read_message_history", "Read Message History"))


def cron_of(schedule: str) -> str:
    """A preset (daily 09:00, weekdays 08:30, weekly mon 09:00) as cron; anything else as is
    (the library validates it)."""
    match = PRESET.fullmatch(" ".join(schedule.split()))
    if match is None:
        return schedule
    name, day = match["name"].lower(), (match["day"] or "").lower()
    hour, minute = int(match["hour"]), int(match["minute"])
    if hour > 23 or minute > 59:
        raise BadInput(f"{hour:02d}:{minute:02d} is not a time of day: use 00:00 to 23:59")
    if name == "weekly" and day not in WEEKDAYS:
        raise BadInput("a weekly schedule needs a weekday, e.g. weekly mon 09:00")
    if name != "weekly" and day:
        raise BadInput(f"{name} takes a time only, e.g. {name} 09:00")
    return PRESETS[name].format(m=minute, h=hour, d=WEEKDAYS.index(day) if day else 0)


def describe_schedule(schedule: str) -> str:
    """"every day at 09:00" for a preset; empty for raw cron."""
    match = PRESET.fullmatch(" ".join(schedule.split()))
    if match is None:
        return ""
    at = f"{int(match['hour']):02d}:{match['minute']}"
    name = match["name"].lower()
    if name == "daily":
        return f"every day at {at}"
    if name == "weekdays":
        return f"Monday to Friday at {at}"
    day = (match["day"] or "").lower()
    full = {"sun": "Sunday", "mon": "Monday", "tue": "Tuesday", "wed": "Wednesday",
            "thu": "Thursday", "fri": "Friday", "sat": "Saturday"}.get(day, day)
    return f"every {full} at {at}"


def next_time(moment: dt.datetime | None) -> str:
    """When the next digest goes out, in the reader's own time zone."""
    if moment is None:
        return "is not scheduled"
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return (f"is due {discord.utils.format_dt(moment, 'F')} "
            f"({discord.utils.format_dt(moment, 'R')})")


def digest_list_embed(subscriptions: Sequence[Subscription]) -> discord.Embed:
    """/digest list: channel, schedule, time zone and next post, one line each."""
    builder = EmbedBuilder(title="Digest channels", colour=ADMIN_COLOUR)
    lines = [f"<#{sub.channel_id}> · {code(sub.schedule)} · "
             f"{clean_cut(sub.timezone, 64)} · next "
             f"{next_time(sub.next_digest_at).removeprefix('is due ')}"
             for sub in subscriptions]
    builder.set_description("\n".join(lines) if lines else
                            "No digest channel yet. Start one with /digest set, e.g. "
                            "`schedule: weekly mon 09:00`.")
    return builder.build()


class ConfirmOff(discord.ui.View):
    """"Stop every digest?" with Stop all / Keep them; private, so only the asker sees it."""

    def __init__(self, cog: Digests, guild_id: int, count: int) -> None:
        super().__init__(timeout=120)
        self.cog, self.guild_id, self.count = cog, guild_id, count
        self.asked: discord.Interaction[SummitDesk] | None = None

    @discord.ui.button(label="Stop all", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction[SummitDesk],
                      button: discord.ui.Button[ConfirmOff]) -> None:
        """Unsubscribe every channel."""
        text = await self.cog.stop(self.guild_id, None)
        self.stop()
        await interaction.response.edit_message(content=text, view=None)

    @discord.ui.button(label="Keep them", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction[SummitDesk],
                     button: discord.ui.Button[ConfirmOff]) -> None:
        """Change nothing."""
        self.stop()
        await interaction.response.edit_message(content="Nothing changed: the digests go on.",
                                                view=None)

    async def on_timeout(self) -> None:
        """Unanswered: the buttons go away."""
        if self.asked is not None:
            try:
                await self.asked.edit_original_response(
                    content="No answer, so nothing changed. Run /digest off again to stop "
                            "them.", view=None)
            except discord.HTTPException as exc:
                log.info("could not close the /digest off question: %s", exc)


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
    def digests(self) -> DigestService:
        """service.digests (knowledge.digests.service.DigestService)."""
        return self.bot.service.digests

    async def cog_load(self) -> None:
        """Make previews pageable (private: only their admin turns them)."""
        self.bot.paginator.register(PREVIEW_SOURCE, self.preview_pages)

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        """Checked again at run time: Manage Server or the admin role."""
        return await admin_check(interaction)

    @autocompleter
    async def timezones(self, interaction: discord.Interaction[SummitDesk], current: str
                        ) -> list[app_commands.Choice[str]]:
        """Autocomplete: IANA timezones containing what was typed."""
        needle = current.casefold().replace(" ", "_")
        return choices((name, name) for name in timezone_names() if needle in name.casefold())

    @autocompleter
    async def schedules(self, interaction: discord.Interaction[SummitDesk], current: str
                        ) -> list[app_commands.Choice[str]]:
        """Autocomplete: presets (and what was typed, when it reads as a schedule)."""
        typed = " ".join(current.split())
        options = [typed] if typed and typed not in PRESET_EXAMPLES else []
        options += [p for p in PRESET_EXAMPLES if typed.casefold() in p.casefold()]
        return choices((f"{o} ({describe_schedule(o)})" if describe_schedule(o) else o, o)
                       for o in options)

    @app_commands.command(name="set", description="Post digests of new articles to a channel "
                                                  "on a schedule.")
    @app_commands.describe(
        channel="Where digests go.",
        schedule="daily 09:00, weekly mon 09:00, weekdays 08:30, or cron: '0 9 * * 1'.",
        timezone="The schedule's time zone, e.g. Europe/Berlin (default: the server's).")
    @app_commands.autocomplete(schedule=schedules, timezone=timezones)
    async def set_digest(self, interaction: discord.Interaction[SummitDesk],
                         channel: discord.TextChannel,
                         schedule: app_commands.Range[str, 1, SCHEDULE_LIMIT],
                         timezone: app_commands.Range[str, 1, TIMEZONE_LIMIT] | None = None
                         ) -> None:
        """Subscribe a channel, after checking the bot can read and post there."""
        guild_id = guild_id_of(interaction)
        guild = interaction.guild
        missing = missing_permissions(channel, guild.me if guild else None, DIGEST_NEEDS)
        if missing:
            await answer(interaction, notice(
                f"I cannot post digests in {channel.mention}: I am missing "
                f"{', '.join(missing)} there. Grant them in the channel's settings "
                "(Permissions → Summit Desk) and run /digest set again."), ephemeral=True)
            return
        settings = self.bot.guild_settings
        zone = timezone or settings.timezone(await settings.get(guild_id))
        cron = cron_of(schedule)
        sub = await self.bot.service.run(self.digests.subscribe, guild_id, channel.id, cron,
                                         zone)
        shown = describe_schedule(schedule) or f"on {code(sub.schedule)}"
        await answer(interaction, notice(
            f"Digests will be posted in {channel.mention} {shown} ({clean_cut(sub.timezone, 64)})"
            f"; the next one {next_time(sub.next_digest_at)}."), ephemeral=True)

    @app_commands.command(name="list", description="This server's digest channels, schedules "
                                                   "and next post times.")
    async def list_digests(self, interaction: discord.Interaction[SummitDesk]) -> None:
        """Every digest subscription of the server."""
        subs = await self.bot.service.run(self.digests.subscriptions, guild_id_of(interaction))
        await answer(interaction, Reply(embeds=[digest_list_embed(subs)]), ephemeral=True)

    @app_commands.command(name="off", description="Stop digests in this server (or one "
                                                  "channel).")
    @app_commands.describe(channel="Only this channel; leave empty for every channel (you "
                                   "confirm first).")
    async def off(self, interaction: discord.Interaction[SummitDesk],
                  channel: discord.TextChannel | None = None) -> None:
        """Unsubscribe one channel, or every channel after a confirmation."""
        guild_id = guild_id_of(interaction)
        if channel is None:
            subs = await self.bot.service.run(self.digests.subscriptions, guild_id)
            if subs:
                view = ConfirmOff(self, guild_id, len(subs))
                await answer(interaction, Reply(
                    content=f"Stop all {len(subs)} digest subscription{'s' * (len(subs) != 1)} "
                            f"of this server ({', '.join(f'<#{s.channel_id}>' for s in subs)})?"
                            " Nothing is deleted; /digest set starts one again.",
                    view=view), ephemeral=True)
                view.asked = interaction
                return
        await answer(interaction, notice(await self.stop(guild_id, channel.id if channel
                                                          else None)), ephemeral=True)

    async def stop(self, guild_id: int, channel_id: int | None) -> str:
        """Unsubscribe; the sentence saying what happened."""
        count = await self.bot.service.run(self.digests.unsubscribe, guild_id, channel_id)
        return (f"Stopped {count} digest subscription{'s' * (count != 1)}." if count
                else "There was no digest subscription to stop. /digest list shows them.")

    @app_commands.command(name="now", description="Post the digest now (covers everything "
                                                  "since the last one).")
    async def now(self, interaction: discord.Interaction[SummitDesk]) -> None:
        """Claim a period ending now for each of the server's digest channels and post it."""
        await defer(interaction, ephemeral=True)
        outcomes = await self.digests.run_now(guild_id_of(interaction), self.poster)
        if not outcomes:
            await answer(interaction, notice("Nothing to post now: the previous digest is "
                                             "still being posted or waits to be retried."),
                         ephemeral=True)
            return
        await answer(interaction, notice("\n".join(_outcome_line(o) for o in outcomes)),
                     ephemeral=True)

    @app_commands.command(name="preview", description="See the next digest privately, without "
                                                      "posting it.")
    async def preview(self, interaction: discord.Interaction[SummitDesk]) -> None:
        """The digest as it would look now (nothing is claimed)."""
        await defer(interaction, ephemeral=True)
        await self.bot.paginator.send(interaction, PREVIEW_SOURCE, "",
                                      await self.preview_pages(interaction, "", None),
                                      ephemeral=True)

    async def preview_pages(self, interaction: discord.Interaction[Any], key: str,
                            message: discord.Message | None) -> list[Reply]:
        """Paginator source "preview": the next digest, a message's worth per page."""
        digest = await self.bot.service.run(self.digests.preview, guild_id_of(interaction))
        return digest_replies(digest, title="Digest preview")


async def setup(bot: SummitDesk) -> None:
    """Extension entry point."""
    await bot.add_cog(Digests(bot))


def _outcome_line(outcome: RunOutcome) -> str:
    """One line per channel for /digest now."""
    where = f"<#{outcome.subscription.channel_id}>"
    if outcome.status == "empty":
        return f"{where}: nothing new since the last digest."
    if outcome.status == "failed":
        return (f"{where}: could not post ({clean_cut(outcome.error or 'unknown error', 200)}); "
                "it will be retried.")
    count = len(outcome.message_ids)
    return f"{where}: posted ({count} message{'s' * (count != 1)})."

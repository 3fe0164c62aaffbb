"""/digest set|off|now|preview: scheduled digests of new articles (service.digests). Admins only."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import admin_check, guild_id_of, missing_permissions
from bot.exts._choices import autocompleter, choices, timezone_names
from bot.posting import DIGEST_NEEDS, PlainDelivery, missing_text
from bot.replies import (
    ADMIN_COLOUR,
    CONTENT_LIMIT,
    Reply,
    clean_cut,
    code,
    digest_replies,
    notice,
    paged_list,
    period_text,
)
from bot.respond import (
    answer,
    answer_text,
    defer,
    edit_in_time,
    in_time,
    mark_started,
)
from bot.tree import run_component
from knowledge.digests.service import DigestService
from knowledge.digests.types import RunOutcome, Subscription
from knowledge.errors import BadInput
from knowledge.models import Digest

if TYPE_CHECKING:
    from bot.client import SummitDesk

log = logging.getLogger(__name__)


# Name -> cron; "weekly mon 09:00" takes a weekday, the others a time only.
PRESETS = {"daily": "{m} {h} * * *", "weekdays": "{m} {h} * * 1-5", "weekly": "{m} {h} * * {d}"}
PRESET_EXAMPLES = ("daily 09:00", "weekdays 08:30", "weekly mon 09:00", "0 9 * * 1")
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
PRESET = re.compile(r"(?P<name>daily|weekdays|weekly)(?:\s+(?P<day>[a-z]{3})[a-z]*)?"
                    r"\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})", re.IGNORECASE)
CRON_TIME = re.compile(r"[\d*?,/-]+")  # a cron minute or hour field's characters
PREVIEW_SOURCE = "preview"
LIST_SOURCE = "digests"  # the paginator's name for /digest list pages
SCHEDULE_LIMIT = 120  # the stored schedule's length
TIMEZONE_LIMIT = 64   # the stored time zone's length
# /digest off's question: its buttons carry the server, so a click is understood after a
# restart too; unanswered for this long, it is closed (and a later click says it expired).
OFF_ID = re.compile(r"digest:off:(?P<answer>stop|keep):(?P<guild>\d+)")
CONFIRM_SECONDS = 120
NO_ANSWER = "No answer, so nothing changed. Run /digest off again to stop them."
EXPIRED = ("This question expired (it stands for two minutes), so nothing changed. Run "
           "/digest off again to stop them.")
KEPT = "Nothing changed: the digests go on."
# A click must be acknowledged within Discord's 3 s. Acknowledging it first (a deferred
# update) shows the clicker nothing, so unlike REPLY_WITHIN_MS ("thinking…" or not) this is
# only about the deadline: wait this long for the work, acknowledge if it is not done.
UPDATE_WITHIN_SECONDS = 1.5


def unreadable_schedule(schedule: str) -> str:
    """The refusal of a schedule that is neither a preset nor cron: every form /digest set
    accepts, with examples (the weekly one and the cron one on a weekday it names, if any)."""
    day = next((d for d in WEEKDAYS if re.search(rf"\b{d}", schedule, re.IGNORECASE)), "mon")
    full = {"sun": "Sunday", "mon": "Monday", "tue": "Tuesday", "wed": "Wednesday",
            "thu": "Thursday", "fri": "Friday", "sat": "Saturday"}[day]
    shown = " ".join(schedule.split())
    shown = shown if len(shown) <= 60 else f"{shown[:59]}…"
    return (f"“{shown}” is not a schedule I can read. Write one of: daily 09:00, weekdays "
            f"08:30, weekly {day} 09:00 (any weekday, mon to sun), or cron's five fields "
            f"(minute hour day month weekday), e.g. 0 9 * * {WEEKDAYS.index(day)} for "
            f"{full}s at 09:00")


def cron_of(schedule: str) -> str:
    """A preset (daily 09:00, weekdays 08:30, weekly mon 09:00) as cron; what reads as cron
    (five fields, minute and hour in cron's characters) as is (the library validates it);
    BadInput naming the accepted forms for anything else."""
    match = PRESET.fullmatch(" ".join(schedule.split()))
    if match is None:
        fields = schedule.split()
        if len(fields) != 5 or not all(CRON_TIME.fullmatch(f) for f in fields[:2]):
            raise BadInput(unreadable_schedule(schedule))
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


def digest_list_embeds(subscriptions: Sequence[Subscription]) -> list[discord.Embed]:
    """/digest list: channel, schedule, time zone and next post, one line each; as many
    embeds (pages) as the lines need, so no channel is left out."""
    lines = [f"<#{sub.channel_id}> · {code(sub.schedule)} · "
             f"{clean_cut(sub.timezone, 64)} · next "
             f"{next_time(sub.next_digest_at).removeprefix('is due ')}{failing(sub)}"
             for sub in subscriptions]
    if not lines:
        lines = ["No digest channel yet. Start one with /digest set, e.g. "
                 "`schedule: weekly mon 09:00`."]
    return paged_list("Digest channels", lines, colour=ADMIN_COLOUR)


def failing(sub: Subscription) -> str:
    """For /digest list: that the channel's last digest failed, why, and when it is retried
    (empty while nothing fails)."""
    if not sub.last_error:
        return ""
    return (f"\n⚠️ The last digest failed and is retried {_when(sub.retry_at)} (or now with "
            f"/digest now): {clean_cut(sub.last_error, 300)}")


class OffButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=OFF_ID.pattern):
    """"Stop all" or "Keep them" under /digest off's question (private, so only the asker
    sees it). The server is in the custom_id: a click is answered after a restart too."""

    def __init__(self, choice: str, guild_id: int) -> None:
        stop = choice == "stop"
        super().__init__(discord.ui.Button(
            label="Stop all" if stop else "Keep them",
            style=discord.ButtonStyle.danger if stop else discord.ButtonStyle.secondary,
            custom_id=f"digest:off:{choice}:{guild_id}"))
        self.choice, self.guild_id = choice, guild_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str], /
                             ) -> OffButton:
        """Rebuild the button from a click on any message."""
        return cls(match["answer"], int(match["guild"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Stop every digest of the server, or change nothing."""
        bot = cast("SummitDesk", interaction.client)
        cog = bot.get_cog(Digests.__cog_name__)
        if not isinstance(cog, Digests):  # the extension is being reloaded
            mark_started(interaction)
            await answer_text(interaction, "This question cannot be answered right now: run "
                                           "/digest off again in a moment.")
            return
        await cog.on_off_answer(interaction, self.choice, self.guild_id)


def off_question(guild_id: int, subs: Sequence[Subscription]) -> Reply:
    """/digest off without a channel: stop them all? (Stop all / Keep them)."""
    view = discord.ui.View(timeout=None)
    view.add_item(OffButton("stop", guild_id))
    view.add_item(OffButton("keep", guild_id))
    count = len(subs)
    head = f"Stop all {count} digest subscription{'s' * (count != 1)} of this server ("
    tail = ")? Nothing is deleted; /digest set starts one again."
    channels = mention_list([f"<#{s.channel_id}>" for s in subs],
                            CONTENT_LIMIT - len(head) - len(tail))
    return Reply(content=f"{head}{channels}{tail}", view=view)


def mention_list(mentions: Sequence[str], limit: int) -> str:
    """"<#1>, <#2> and 3 more": as many whole mentions as fit in `limit` characters with the
    count of the rest (a mention cut in the middle would show as raw text)."""
    for shown in range(len(mentions), -1, -1):
        text = ", ".join(mentions[:shown])
        if hidden := len(mentions) - shown:
            text = f"{text} and {hidden} more" if shown else f"{hidden} channels"
        if len(text) <= limit:
            return text
    return ""


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Digests(commands.GroupCog, group_name="digest",
              group_description="Scheduled digests of new articles (admins)."):
    """Digest subscriptions and on-demand digests."""

    def __init__(self, bot: SummitDesk) -> None:
        self.bot = bot
        self.delivery = PlainDelivery(bot)
        # /digest off questions still open in this process: the asking interaction's id ->
        # the timer that closes the question (its token edits the message).
        self._questions: dict[int, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        super().__init__()

    @property
    def digests(self) -> DigestService:
        """service.digests (knowledge.digests.service.DigestService)."""
        return self.bot.service.digests

    async def cog_load(self) -> None:
        """Make previews and the channel list pageable (private: only their admin turns them);
        route /digest off's buttons here, also on questions asked before a restart."""
        self.bot.paginator.register(PREVIEW_SOURCE, self.preview_pages)
        self.bot.paginator.register(LIST_SOURCE, self.list_pages)
        self.bot.add_dynamic_items(OffButton)

    async def cog_unload(self) -> None:
        """Stop routing the buttons and pages here; forget the open questions' timers."""
        self.bot.remove_dynamic_items(OffButton)
        self.bot.paginator.unregister(PREVIEW_SOURCE, LIST_SOURCE)
        for timer in self._questions.values():
            timer.cancel()
        self._questions.clear()

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
            await answer(interaction, notice(missing_text(
                f"I cannot post digests in {channel.mention}", missing, "/digest set")),
                ephemeral=True)
            return
        settings = self.bot.guild_settings
        cron = cron_of(schedule)

        async def subscribe() -> tuple[Subscription, str]:
            server_zone = settings.timezone(await settings.get(guild_id))
            # Without timezone: a channel already subscribed keeps its own zone.
            sub = await self.bot.service.run(
                functools.partial(self.digests.subscribe, guild_id, channel.id, cron, timezone,
                                  default_timezone=server_zone))
            return sub, server_zone

        # The server's time zone and the write: the database may be busy (another process
        # writing) for longer than Discord waits for an answer.
        sub, server_zone = await in_time(interaction, subscribe(), ephemeral=True)
        shown = describe_schedule(schedule) or f"on {code(sub.schedule)}"
        zone = clean_cut(sub.timezone, 64)
        if timezone is None and sub.timezone != server_zone:
            zone += ", the channel's own time zone, kept; timezone: changes it"
        await answer(interaction, notice(
            f"Digests will be posted in {channel.mention} {shown} ({zone}); the next one "
            f"{next_time(sub.next_digest_at)}."), ephemeral=True)

    @app_commands.command(name="list", description="This server's digest channels, schedules "
                                                   "and next post times.")
    async def list_digests(self, interaction: discord.Interaction[SummitDesk]) -> None:
        """Every digest subscription of the server, paged when they are many."""
        pages = await in_time(interaction, self.list_pages(interaction, "", None),
                              ephemeral=True)
        await self.bot.paginator.send(interaction, LIST_SOURCE, "", pages, ephemeral=True)

    async def list_pages(self, interaction: discord.Interaction[Any], key: str,
                         message: discord.Message | None) -> list[Reply]:
        """Paginator source "digests": the server's digest channels, an embed per page."""
        subs = await self.bot.service.run(self.digests.subscriptions, guild_id_of(interaction))
        return [Reply(embeds=[embed]) for embed in digest_list_embeds(subs)]

    @app_commands.command(name="off", description="Stop digests in this server (or one "
                                                  "channel).")
    @app_commands.describe(channel="Only this channel; leave empty for every channel (you "
                                   "confirm first).")
    async def off(self, interaction: discord.Interaction[SummitDesk],
                  channel: discord.TextChannel | None = None) -> None:
        """Unsubscribe one channel, or every channel after a confirmation."""
        guild_id = guild_id_of(interaction)
        if channel is None:
            subs = await in_time(interaction, self.bot.service.run(
                self.digests.subscriptions, guild_id), ephemeral=True)
            if subs:
                await answer(interaction, off_question(guild_id, subs), ephemeral=True)
                self._arm_question(interaction)
                return
        text = await in_time(interaction, self.stop(guild_id, channel.id if channel else None),
                             ephemeral=True)
        await answer(interaction, notice(text), ephemeral=True)

    async def stop(self, guild_id: int, channel_id: int | None) -> str:
        """Unsubscribe; the sentence saying what happened."""
        count = await self.bot.service.run(self.digests.unsubscribe, guild_id, channel_id)
        return (f"Stopped {count} digest subscription{'s' * (count != 1)}." if count
                else "There was no digest subscription to stop. /digest list shows them.")

    # ----- /digest off's question ---------------------------------------------------------------
    def _arm_question(self, asked: discord.Interaction[SummitDesk]) -> None:
        """Close the question after CONFIRM_SECONDS unless it is answered first."""
        loop = asyncio.get_running_loop()
        self._questions[asked.id] = loop.call_later(CONFIRM_SECONDS, self._close_question,
                                                    asked)

    def _close_question(self, asked: discord.Interaction[SummitDesk]) -> None:
        self._questions.pop(asked.id, None)
        task = asyncio.create_task(self._say_no_answer(asked))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _say_no_answer(asked: discord.Interaction[SummitDesk]) -> None:
        try:
            await asked.edit_original_response(content=NO_ANSWER, view=None)
        except discord.HTTPException as exc:  # dismissed meanwhile, or the token ran out
            log.info("could not close the /digest off question: %s", exc)
        except Exception:
            log.exception("closing the /digest off question failed")

    def _answered(self, message: discord.Message | None) -> None:
        """The question on `message` got its answer: its timer (if this process has it) stops."""
        metadata = message.interaction_metadata if message is not None else None
        timer = self._questions.pop(metadata.id, None) if metadata is not None else None
        if timer is not None:
            timer.cancel()

    @staticmethod
    def _expired(message: discord.Message | None) -> bool:
        """Asked more than CONFIRM_SECONDS ago (its timer went with a restart)."""
        if message is None:
            return False
        age = dt.datetime.now(dt.UTC) - message.created_at
        return age.total_seconds() > CONFIRM_SECONDS

    async def on_off_answer(self, interaction: discord.Interaction[SummitDesk], choice: str,
                            guild_id: int) -> None:
        """A click on Stop all / Keep them; failures become a short private reply."""
        command = "digest off (stop all)" if choice == "stop" else "digest off (keep)"
        await run_component(interaction, command,
                            self._off_answer(interaction, choice, guild_id))

    async def _off_answer(self, interaction: discord.Interaction[SummitDesk], choice: str,
                          guild_id: int) -> str:
        message = interaction.message
        if choice == "keep" or self._expired(message):
            self._answered(message)
            await interaction.response.edit_message(
                content=KEPT if choice == "keep" else EXPIRED, view=None)
            return "ok" if choice == "keep" else "expired"
        if interaction.guild_id != guild_id:
            await answer_text(interaction, "This question is about another server: run "
                                           "/digest off there.")
            return "refused"
        # Anyone may click by the time this runs: the clicker must be an admin now.
        await admin_check(interaction)
        self._answered(message)
        await edit_in_time(interaction, self.stop(guild_id, None), within=UPDATE_WITHIN_SECONDS)
        return "ok"

    @app_commands.command(name="now", description="Post the digest now (covers everything "
                                                  "since the last one).")
    async def now(self, interaction: discord.Interaction[SummitDesk]) -> None:
        """Retry a failed digest and claim a period ending now, for each of the server's
        digest channels, and post it."""
        await defer(interaction, ephemeral=True)
        outcomes = await self.digests.run_now(guild_id_of(interaction), self.delivery.post,
                                              find_posted=self.delivery.find)
        openings = await self.bot.service.run(self.openings, outcomes)
        lines = outcome_lines(outcomes, openings)
        await answer(interaction, notice("\n".join(lines) if lines else
                                         "Nothing to post now: every digest channel is up to "
                                         "date. /digest list shows when the next one is due."),
                     ephemeral=True)

    @app_commands.command(name="preview", description="See the next digest privately, without "
                                                      "posting it.")
    async def preview(self, interaction: discord.Interaction[SummitDesk]) -> None:
        """The digest as it would look now (nothing is claimed)."""
        await defer(interaction, ephemeral=True)
        await self.bot.paginator.send(interaction, PREVIEW_SOURCE, "",
                                      await self.preview_pages(interaction, "", None),
                                      ephemeral=True)

    def openings(self, outcomes: Sequence[RunOutcome]) -> dict[int, str | None]:
        """(in a worker thread) For each "nothing new" outcome (by run id), what ended where
        its period starts (`DigestService.opened_by`)."""
        return {o.run_id: self.digests.opened_by(o.subscription.id, o.digest.period_start)
                for o in outcomes if o.status == "empty" and o.digest is not None}

    def _preview(self, guild_id: int) -> tuple[Digest, str | None]:
        """(in a worker thread) The next digest and, when it is a channel's next period, what
        its header says about where that period starts (None: its period, from–to)."""
        digest = self.digests.preview(guild_id)
        sub = next((s for s in self.digests.subscriptions(guild_id)
                    if s.covered_until == digest.period_start), None)
        if sub is None:  # no channel gets digests: the last days, as the library shows them
            return digest, None
        opened = self.digests.opened_by(sub.id, digest.period_start)
        if digest.empty:
            return digest, sentence_start(nothing_new(digest.period_start, opened,
                                                      sub.next_digest_at))
        if opened is None:
            return digest, (f"{period_text(digest.period_start, digest.period_end)}\n"
                            f"{FIRST_PERIOD_NOTE}")
        return digest, None

    async def preview_pages(self, interaction: discord.Interaction[Any], key: str,
                            message: discord.Message | None) -> list[Reply]:
        """Paginator source "preview": the next digest, a message's worth per page."""
        digest, description = await self.bot.service.run(self._preview,
                                                         guild_id_of(interaction))
        return digest_replies(digest, title="Digest preview", description=description)


async def setup(bot: SummitDesk) -> None:
    """Extension entry point."""
    await bot.add_cog(Digests(bot))


# A channel's first period starts when it subscribed (or resumed): deliberately, what was added
# before is in no digest (docs/digests.md).
FIRST_PERIOD_NOTE = "Articles added before digests started here are in no digest."


def nothing_new(start: dt.datetime, opened: str | None, next_at: dt.datetime | None) -> str:
    """"nothing new since …; the next one is due …", since digests started here (`opened`
    None: with FIRST_PERIOD_NOTE), since the last digest ("posted"), or since a period that
    had nothing to post ("empty")."""
    when = discord.utils.format_dt(start if start.tzinfo else start.replace(tzinfo=dt.UTC), "f")
    since = (f"since digests started here ({when})" if opened is None else
             f"since the last digest ({when})" if opened == "posted" else f"since {when}")
    due = "" if next_at is None else "; the next one is due " + discord.utils.format_dt(
        next_at if next_at.tzinfo else next_at.replace(tzinfo=dt.UTC), "f")
    note = f" {FIRST_PERIOD_NOTE}" if opened is None else ""
    return f"nothing new {since}{due}.{note}"


def sentence_start(text: str) -> str:
    """The text with a capital first letter."""
    return text[:1].upper() + text[1:]


def outcome_lines(outcomes: Sequence[RunOutcome], openings: dict[int, str | None] | None = None
                  ) -> list[str]:
    """/digest now's answer, a line per outcome; "nothing new" is left out for a channel that
    just got the digest that had failed. `openings`: `Digests.openings` (without it, a
    "nothing new" line says since when, not since what)."""
    posted = {o.subscription.id for o in outcomes if o.status in ("posted", "recovered")}
    return [_outcome_line(o, (openings or {}).get(o.run_id, "empty")) for o in outcomes
            if not (o.status == "empty" and o.subscription.id in posted)]


def _when(moment: dt.datetime | None) -> str:
    if moment is None:
        return "later"
    return discord.utils.format_dt(moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC),
                                   "R")


def _outcome_line(outcome: RunOutcome, opened: str | None = "empty") -> str:
    """One line per channel for /digest now (`opened`: `DigestService.opened_by` for its
    period, for "nothing new")."""
    where = f"<#{outcome.subscription.channel_id}>"
    if outcome.status == "empty" and outcome.digest is not None:
        return f"{where}: " + nothing_new(outcome.digest.period_start, opened,
                                          outcome.subscription.next_digest_at)
    if outcome.status == "empty":
        return f"{where}: nothing new."
    if outcome.status == "busy":
        return (f"{where}: the previous digest is still being posted, so nothing more is posted "
                f"now. If it stalls, it is retried automatically {_when(outcome.retry_at)}.")
    if outcome.status == "interrupted":
        return (f"{where}: the bot is stopping, so the digest was not finished; it is posted "
                "whole when the bot starts again.")
    if outcome.status == "failed" and outcome.stopped:
        return clean_cut(outcome.error or f"{where}: the channel is gone; its digests stopped.",
                         600)
    if outcome.status == "failed":
        if outcome.unexpected or not outcome.error:
            problem = (f"I could not post the digest in {where}: something went wrong on my "
                       "side. The error is logged; tell the bot's operator if it keeps "
                       "happening.")
        else:
            problem = clean_cut(outcome.error, 600)
        return f"{problem} It is also retried automatically {_when(outcome.retry_at)}."
    count = len(outcome.message_ids)
    messages = f"{count} message{'s' * (count != 1)}"
    if outcome.retried:
        return f"{where}: posted the digest that had failed ({messages})."
    return f"{where}: posted ({messages})."

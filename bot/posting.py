"""The bot's side of scheduled work: posting digests (`PlainDelivery`, the one digest poster
of the scheduler and of /digest now), and admin notices (failing feeds and digests) to the
alert channel or by DM."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, TypeVar

import discord

from bot.checks import missing_permissions
from bot.replies import alert, clean_cut, digest_part_of, digest_replies, digest_run_of
from knowledge.errors import ChannelGone, DeliveryFailed, DeliveryInterrupted
from knowledge.models import Digest

if TYPE_CHECKING:
    from bot.client import SummitDesk

log = logging.getLogger(__name__)

T = TypeVar("T")

# What digests need in their channel: the API name, and the label Discord shows admins.
DIGEST_NEEDS = (("view_channel", "View Channel"), ("send_messages", "Send Messages"),
                ("embed_links", "Embed Links"), ("read_message_history", "Read Message History"))
UNKNOWN_CHANNEL = 10003  # Discord's JSON error code for a deleted (or never existing) channel


async def resolve_channel(bot: SummitDesk, channel_id: int) -> discord.abc.Messageable:
    """A channel from the cache, else from the API."""
    channel = bot.get_channel(channel_id)
    if channel is None:
        channel = await bot.fetch_channel(channel_id)
    if not isinstance(channel, discord.abc.Messageable):
        raise TypeError(f"channel {channel_id} cannot hold messages")
    return channel


class ChannelDigestPoster:
    """DigestPoster: posts a digest to a channel as messages within limits; returns their ids."""

    def __init__(self, bot: SummitDesk) -> None:
        self.bot = bot

    async def __call__(self, channel_id: int, digest: Digest, run_id: int) -> list[int]:
        """Post every message of the digest in order."""
        await self.bot.wait_until_ready()
        channel = await resolve_channel(self.bot, channel_id)
        sent: list[discord.Message] = []
        try:
            for reply in digest_replies(digest, run_id=run_id):
                sent.append(await channel.send(**reply.kwargs()))
        except discord.HTTPException as refused:
            # The run is retried as a whole: take back the part already posted so the
            # channel does not show it twice.
            for message in sent:
                try:
                    await message.delete()
                except discord.HTTPException as exc:
                    log.warning("could not delete partial digest message %s: %s", message.id, exc)
            # An expected failure (permissions, an outage): one line in the log, no traceback.
            raise DeliveryFailed(f"Discord refused the post: {refused}") from refused
        except Exception as exc:
            if not self.bot.is_closed():
                raise
            # The bot is stopping (its HTTP session closed under the post): the next start
            # takes the run over and completes the digest (bot.posting.ChannelPostedFinder).
            raise DeliveryInterrupted(f"the bot stopped after {len(sent)} of the digest's "
                                      "messages") from exc
        ids = [message.id for message in sent]
        log.info("posted digest run %s to channel %s in %d messages", run_id, channel_id,
                 len(ids))
        return ids


class ChannelPostedFinder:
    """PostedFinder: the ids of a digest run's messages if the channel shows every part of it;
    an incomplete copy (a post interrupted between parts) is deleted so the run is posted again
    whole."""

    def __init__(self, bot: SummitDesk) -> None:
        self.bot = bot

    async def __call__(self, channel_id: int, run_id: int, since: dt.datetime
                       ) -> list[int] | None:
        """Read every message posted after `since` (oldest first, however busy the channel)
        for the run's parts."""
        await self.bot.wait_until_ready()
        channel = await resolve_channel(self.bot, channel_id)
        me = self.bot.user
        parts: dict[int, discord.Message] = {}
        extra: list[discord.Message] = []
        total: int | None = None
        async for message in channel.history(limit=None, after=since, oldest_first=True):
            if me is None or message.author.id != me.id:
                continue
            footers = [e.footer.text for e in message.embeds]
            if digest_run_of(footers, custom_ids(message)) != run_id:
                continue
            part = digest_part_of(footers)
            number, total = part if part is not None else (1, 1)  # digests before parts: whole
            if number in parts:
                extra.append(message)
            else:
                parts[number] = message
            if total is not None and len(parts) == total:
                break
        if not parts:
            return None
        if total is not None and sorted(parts) == list(range(1, total + 1)):
            return [parts[n].id for n in sorted(parts)]
        log.warning("digest run %s: channel %s shows %d of its %s messages; taking them back to "
                    "post the digest again whole", run_id, channel_id, len(parts), total)
        for message in [*parts.values(), *extra]:
            with contextlib.suppress(discord.NotFound):  # already gone
                await message.delete()
        return None


def custom_ids(message: discord.Message) -> list[str]:
    """The custom_ids of a message's components (rows and their children)."""
    found: list[str] = []
    for row in message.components:
        for child in getattr(row, "children", [row]):
            custom_id = getattr(child, "custom_id", None)
            if custom_id:
                found.append(custom_id)
    return found


def missing_text(opening: str, missing: Sequence[str], command: str) -> str:
    """`opening` ("I cannot post digests in #news"), then which permissions the bot lacks
    there, where to grant them and what to run next (/digest set before subscribing,
    /digest now after a refused post)."""
    return (f"{opening}: I am missing {', '.join(missing)} there. Grant them in the channel's "
            f"settings (Permissions → Summit Desk) and run {command} again.")


class PlainDelivery:
    """The one digest poster and finder, of the scheduler and of /digest now: it posts through
    ChannelDigestPoster and finds through ChannelPostedFinder, and Discord's refusals become
    sentences an admin can act on (the permissions missing and where to grant them, a channel
    gone)."""

    def __init__(self, bot: SummitDesk) -> None:
        self.bot = bot
        self.poster = ChannelDigestPoster(bot)
        self.finder = ChannelPostedFinder(bot)

    async def post(self, channel_id: int, digest: Digest, run_id: int) -> list[int]:
        """DigestPoster: post the digest's messages, unless the bot lacks a permission there
        (a request bound to be refused is not made: Discord limits invalid requests)."""
        missing = self.missing(channel_id)
        if missing:
            raise DeliveryFailed(missing_text(self.opening(channel_id), missing,
                                              "/digest now"))
        return await self._plainly(channel_id, self.poster(channel_id, digest, run_id))

    async def find(self, channel_id: int, run_id: int, since: dt.datetime) -> list[int] | None:
        """PostedFinder: the run's messages, if the channel shows all of them already."""
        return await self._plainly(channel_id, self.finder(channel_id, run_id, since))

    async def _plainly(self, channel_id: int, work: Awaitable[T]) -> T:
        try:
            return await work
        except (discord.HTTPException, DeliveryFailed) as exc:
            refused = exc.__cause__ if isinstance(exc, DeliveryFailed) else exc
            if not isinstance(refused, discord.HTTPException):
                raise
            if isinstance(refused, discord.NotFound) and refused.code == UNKNOWN_CHANNEL:
                # Deleted: no retry can succeed, so the service stops the subscription.
                raise ChannelGone(f"The digest channel <#{channel_id}> no longer exists, so I "
                                  "stopped its digests. To get them in another channel, choose "
                                  "it with /digest set.") from exc
            raise DeliveryFailed(self.explain(channel_id, refused)) from exc

    def missing(self, channel_id: int) -> list[str]:
        """The permissions digests need that the bot lacks in the channel, as far as it knows."""
        channel = self.bot.get_channel(channel_id)
        if not isinstance(channel, discord.abc.GuildChannel):
            return []
        return missing_permissions(channel, channel.guild.me, DIGEST_NEEDS)

    @staticmethod
    def opening(channel_id: int) -> str:
        """How every explanation starts."""
        return f"I could not post the digest in <#{channel_id}>"

    def explain(self, channel_id: int, refused: discord.HTTPException) -> str:
        """What went wrong posting in the channel, and what to do about it."""
        opening = self.opening(channel_id)
        if isinstance(refused, discord.NotFound):
            return (f"{opening}: Discord says it does not know it (error {refused.code}). Run "
                    "/digest now again in a few minutes.")
        if isinstance(refused, discord.Forbidden):
            missing = self.missing(channel_id)
            if missing:
                return missing_text(opening, missing, "/digest now")
            # What the bot knows of the channel may lag behind Discord: name all it needs.
            return (f"{opening}: Discord refused it for lack of a permission. I need "
                    f"{', '.join(label for _, label in DIGEST_NEEDS)} there; grant them in "
                    "the channel's settings (Permissions → Summit Desk) and run /digest now "
                    "again.")
        return (f"{opening}: Discord did not take it (error {refused.status}, a problem on its "
                "side). Run /digest now again in a few minutes.")


class GuildAdminNotifier:
    """AdminNotifier: a notice goes to the server's alert channel (/config alerts); without
    one, by DM to whoever added the source it is about, else to the server's owner. Never to a
    public channel by default. Notices about the operator's own sources (no guild) go to the
    application's owner by DM."""

    def __init__(self, bot: SummitDesk) -> None:
        self.bot = bot

    async def __call__(self, guild_id: int | None, message: str, *,
                       added_by: str | None = None) -> None:
        """Deliver one notice; a notice nobody could receive is logged, not raised."""
        await self.bot.wait_until_ready()
        if guild_id is None:
            owner = (await self.bot.application_info()).owner
            if not await self.direct(owner.id, None, message):
                log.warning("admin notice not delivered (the owner's DMs are closed): %s",
                            message)
            return
        config = await self.bot.guild_settings.get(guild_id)
        if config.alert_channel_id and await self.to_channel(config.alert_channel_id, guild_id,
                                                             message):
            return
        recipients = [int(added_by)] if added_by and added_by.isdigit() else []
        guild = self.bot.get_guild(guild_id)
        try:
            # A guild on another shard's process is not cached: ask Discord for its owner.
            owner_id = guild.owner_id if guild is not None else \
                (await self.bot.fetch_guild(guild_id)).owner_id
        except discord.HTTPException as exc:
            log.warning("owner of guild %s unknown: %s", guild_id, exc)
            owner_id = None
        for user_id in dict.fromkeys([*recipients, *([owner_id] if owner_id else [])]):
            if await self.direct(user_id, guild.name if guild else None, message):
                return
        log.warning("admin notice for guild %s not delivered (no alert channel, DMs closed): "
                    "%s", guild_id, message)

    async def to_channel(self, channel_id: int, guild_id: int, message: str) -> bool:
        """Post in the alert channel; False when that is impossible."""
        try:
            channel = await resolve_channel(self.bot, channel_id)
            await channel.send(**alert(message).kwargs())
        except (discord.HTTPException, TypeError) as exc:
            log.warning("could not post an admin notice in channel %s of guild %s: %s",
                        channel_id, guild_id, exc)
            return False
        return True

    async def direct(self, user_id: int, server: str | None, message: str) -> bool:
        """DM one admin; False when their DMs are closed or the user is unknown."""
        try:
            user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
            where = f"From {clean_cut(server, 100)}: " if server else ""
            await user.send(**alert(where + message).kwargs())
        except discord.HTTPException as exc:
            log.info("could not DM admin notice to user %s: %s", user_id, exc)
            return False
        return True

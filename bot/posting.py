"""The bot's side of scheduled work: posting digests and telling admins about failing sources."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord

from bot.replies import digest_replies, digest_run_of, notice
from knowledge.errors import KnowledgeError
from knowledge.models import Digest

if TYPE_CHECKING:
    from bot.client import SummitDesk

log = logging.getLogger(__name__)


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
        except discord.HTTPException:
            # The run is retried as a whole: take back the part already posted so the
            # channel does not show it twice.
            for message in sent:
                try:
                    await message.delete()
                except discord.HTTPException as exc:
                    log.warning("could not delete partial digest message %s: %s", message.id, exc)
            raise
        ids = [message.id for message in sent]
        log.info("posted digest run %s to channel %s in %d messages", run_id, channel_id,
                 len(ids))
        return ids


class ChannelPostedFinder:
    """PostedFinder: the ids of a digest run's messages if the channel already shows them."""

    def __init__(self, bot: SummitDesk, history: int = 100) -> None:
        self.bot = bot
        self.history = history

    async def __call__(self, channel_id: int, run_id: int) -> list[int] | None:
        """Look through the channel's recent messages for the run's marker."""
        await self.bot.wait_until_ready()
        channel = await resolve_channel(self.bot, channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            return None
        me = self.bot.user
        found = [message.id async for message in channel.history(limit=self.history)
                 if me is not None and message.author.id == me.id
                 and digest_run_of(e.footer.text for e in message.embeds) == run_id]
        return sorted(found) or None


class GuildAdminNotifier:
    """AdminNotifier: posts a notice to the guild's digest channel, else its system channel
    (else the first channel the bot may write in)."""

    def __init__(self, bot: SummitDesk) -> None:
        self.bot = bot

    async def __call__(self, guild_id: int | None, message: str) -> None:
        """Notify one guild's admins, or every guild's when guild_id is None."""
        await self.bot.wait_until_ready()
        guild = self.bot.get_guild(guild_id) if guild_id else None
        if guild_id and guild is None:
            # The guild is on another shard's process: reach its digest channel over REST.
            await self.notify_uncached(guild_id, message)
            return
        guilds = [guild] if guild is not None else list(self.bot.guilds)
        for target in guilds:
            channel = admin_channel(target, await self.digest_channel_ids(target.id))
            if channel is None:
                log.warning("no channel to notify admins of guild %s: %s", target.id, message)
                continue
            try:
                await channel.send(**notice(message).kwargs())
            except discord.HTTPException as exc:
                log.warning("could not notify guild %s: %s", target.id, exc)

    async def notify_uncached(self, guild_id: int, message: str) -> None:
        """Post to the digest channel of a guild this process does not hold (another shard)."""
        for channel_id in await self.digest_channel_ids(guild_id):
            try:
                channel = await self.bot.fetch_channel(channel_id)
                if isinstance(channel, discord.abc.Messageable):
                    await channel.send(**notice(message).kwargs())
                    return
            except discord.HTTPException as exc:
                log.warning("could not notify guild %s in channel %s: %s", guild_id,
                            channel_id, exc)
        log.warning("guild %s is not served by this process and has no reachable digest "
                    "channel; admin notice not delivered: %s", guild_id, message)

    async def digest_channel_ids(self, guild_id: int) -> list[int]:
        """The guild's digest channels."""
        try:
            subscriptions = await self.bot.service.run(self.bot.service.digests.subscriptions, guild_id)
        except KnowledgeError as exc:
            log.warning("digest channels of guild %s unknown: %s", guild_id, exc)
            return []
        return [int(s.channel_id) for s in subscriptions]


def admin_channel(guild: discord.Guild, preferred: Sequence[int] = ()
                  ) -> discord.TextChannel | None:
    """The first channel the bot may post in: preferred ones, the system channel, the rest."""
    me = guild.me
    candidates: list[object] = [guild.get_channel(i) for i in preferred]
    candidates += [guild.system_channel] if guild.system_channel else []
    by_position = sorted(guild.text_channels, key=lambda c: c.position)
    candidates += by_position
    for channel in candidates:
        if not isinstance(channel, discord.TextChannel):
            continue
        if me is None or channel.permissions_for(me).send_messages:
            return channel
    return None

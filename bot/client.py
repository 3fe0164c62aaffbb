"""The bot: one KnowledgeService, cogs from bot/exts, commands synced at start-up."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.guild_settings import GuildSettings
from bot.paginator import DeleteButton, Paginator, TurnButton
from bot.posting import GuildAdminNotifier, PlainDelivery
from bot.respond import OUTCOME, log_interaction
from bot.settings import BotSettings
from bot.tree import SummitTree
from knowledge.scheduler import JobScheduler
from knowledge.service import KnowledgeService

log = logging.getLogger(__name__)

EXTENSIONS = (
    "bot.exts.ask",
    "bot.exts.article",
    "bot.exts.help",
    "bot.exts.library",
    "bot.exts.experts",
    "bot.exts.summits",
    "bot.exts.sources",
    "bot.exts.digest",
    "bot.exts.config",
    "bot.exts.admin",
)
DEFAULT_API_BASE = "https://discord.com/api/v10"
DEFAULT_GATEWAY = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY


def configure_endpoints(settings: BotSettings) -> None:
    """Point discord.py at the configured REST and gateway endpoints (empty = Discord's own).

    Call after anything that calls `discord.http._set_api_version`, which resets Route.BASE.
    """
    discord.http.Route.BASE = settings.discord_api_base_url.rstrip("/") or DEFAULT_API_BASE
    gateway = settings.discord_gateway_url.strip()
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway) if gateway \
        else DEFAULT_GATEWAY


def gateway_refusal(code: int | None, settings: BotSettings) -> str:
    """One line for a gateway close Discord does not let the bot recover from (discord.py stops
    instead of reconnecting), naming what the operator must change."""
    count = settings.discord_shard_count
    shards = (f"DISCORD_SHARD_COUNT is {count}" if count is not None
              else "DISCORD_SHARD_COUNT is empty") + \
        (f", DISCORD_SHARD_IDS {','.join(map(str, settings.discord_shard_ids))}"
         if settings.discord_shard_ids else "")
    sharded = count is not None or bool(settings.discord_shard_ids)
    reasons = {
        4004: "authentication failed, Discord's gateway rejected DISCORD_TOKEN: copy the bot "
              "token again from the Developer Portal (Bot > Reset Token)",
        4010: (f"invalid shard ({shards}): every DISCORD_SHARD_IDS entry must be below "
               "DISCORD_SHARD_COUNT, with the same count in every process") if sharded else
              ("invalid shard: with DISCORD_SHARD_COUNT and DISCORD_SHARD_IDS empty the bot "
               "asked for the shards Discord recommends; if DISCORD_GATEWAY_URL points at a "
               "proxy, set the count it expects"),
        4011: (f"sharding required, the bot is in more servers than its shards may hold "
               f"(Discord allows 2,500 a shard; {shards}): set DISCORD_SHARD_COUNT higher "
               "(with several processes, DISCORD_SHARD_IDS in each), or leave both empty for "
               "Discord's recommended count") if sharded else
              ("sharding required, the bot is in more servers than one shard may hold "
               "(Discord allows 2,500 a shard; DISCORD_SHARD_COUNT is empty"
               + (", which means one shard with DISCORD_GATEWAY_URL set"
                  if settings.discord_gateway_url else "")
               + "): set DISCORD_SHARD_COUNT (a shard per 2,500 servers)"),
        4012: "invalid API version, this version of discord.py is too old for Discord: "
              "upgrade Summit Desk",
        4013: "invalid intents, this version of Summit Desk asks for gateway intents Discord "
              "does not know: upgrade it",
        4014: "disallowed intents, Discord refused a gateway intent for this application "
              "(this version of Summit Desk asks for no privileged one: guilds and guild "
              "messages only); check the application in the Developer Portal (Bot > Privileged "
              "Gateway Intents) and that DISCORD_TOKEN is this bot's",
    }
    reason = reasons.get(code or 0, "the bot cannot reconnect after it")
    return f"Discord closed the gateway connection with code {code}: {reason}"


class OpeningStopped(Exception):
    """The library's opening was stopped at a safe point because the bot is stopping."""


class SummitDesk(commands.AutoShardedBot):
    """A thin adapter: slash commands in, KnowledgeService calls, embeds out."""

    def __init__(self, settings: BotSettings) -> None:
        # The bot never joins voice: skip discord.py's start-up warnings about voice libraries.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        intents = discord.Intents.none()
        intents.guilds = True
        # Only for the owner's "@bot resync" text command; message content is not needed.
        intents.guild_messages = True
        sharding: dict[str, Any] = {"shard_count": settings.effective_shard_count}
        if settings.discord_shard_ids:
            sharding["shard_ids"] = settings.discord_shard_ids
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            tree_cls=SummitTree,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=settings.discord_guild_ready_timeout,
            **sharding,
        )
        self.settings = settings
        self._service: KnowledgeService | None = None
        self.scheduler: JobScheduler | None = None
        self.started_at = time.time()
        self.notifier = GuildAdminNotifier(self)
        self.paginator = Paginator(settings.page_timeout_seconds)
        self.guild_settings = GuildSettings(self)
        # Set when a stop comes while the library opens (read by the worker thread).
        self._stop_opening = threading.Event()

    @property
    def service(self) -> KnowledgeService:
        """The knowledge service (open once setup_hook has run)."""
        if self._service is None:
            raise RuntimeError("the knowledge service is not open yet")
        return self._service

    async def setup_hook(self) -> None:
        """Open the library and warm the model in a worker thread while the cogs load (they
        do not use the library until a command runs), then sync and start jobs. A library
        that cannot open stops the start before anything is synced, as before."""
        self._stop_opening.clear()
        opening = asyncio.ensure_future(asyncio.to_thread(self._open_service))
        stopping = False
        try:
            # Page buttons on any message, also one sent before a restart, reach the paginator.
            self.add_dynamic_items(TurnButton, DeleteButton)
            for name in EXTENSIONS:
                await self.load_extension(name)
        except asyncio.CancelledError:  # SIGINT/SIGTERM during the start (bot/__main__.py)
            stopping = True
            raise
        finally:
            # Wait for the library whatever happened: a failed start still closes it.
            self._service = await self._library_opened(opening, stopping=stopping)
        if self._syncs_commands():
            await self.sync_commands()
        # Failing (and recovered) feeds are reported to the guild's admins.
        self._service.sources.set_notifier(self.notifier)
        await self._start_scheduler()

    async def _library_opened(self, opening: asyncio.Future[KnowledgeService], *,
                              stopping: bool) -> KnowledgeService:
        """The opened library. Asked to stop meanwhile (the start-up is cancelled), it still
        waits for the worker thread, which cannot be interrupted mid-write (migrations,
        storing the founding corpus); a re-embedding stops at its next batch, where the next
        start resumes it. Only then does the cancellation go on, so "stopped" is logged when
        the process really stops, and the library is closed."""
        if not stopping:
            try:
                return await asyncio.shield(opening)
            except asyncio.CancelledError:
                if opening.done() and not opening.cancelled() and opening.exception() is None:
                    opening.result().close()  # opened at the moment the stop came
                    raise
        self._stop_opening.set()
        if not opening.done():
            log.info("stopping: waiting for the library to finish opening (it cannot be "
                     "interrupted safely; a re-embedding stops after its current batch)")
        while not opening.done():
            try:
                await asyncio.wait({opening})
            except asyncio.CancelledError:  # another signal: the thread still cannot stop
                log.info("stopping: still waiting for the library to finish opening")
        if not opening.cancelled():
            if opening.exception() is None:
                opening.result().close()
            elif not isinstance(opening.exception(), OpeningStopped):
                log.warning("the library failed while the bot was stopping: %s",
                            opening.exception())
        raise asyncio.CancelledError

    def _open_service(self) -> KnowledgeService:
        """(in a worker thread) Open the library and load the model now, not on the first
        question. A stop asked meanwhile ends a re-embedding after its current batch (each is
        committed with its progress: the next start resumes it)."""
        def progress(done: int, total: int) -> None:
            if self._stop_opening.is_set():
                log.info("re-embedding stopped after %d of %d passages; the next start "
                         "resumes it", done, total)
                raise OpeningStopped

        service = KnowledgeService.open(self.settings, progress=progress)
        try:
            service.warm_up()
        except BaseException:
            service.close()
            raise
        return service

    def _syncs_commands(self) -> bool:
        # With several processes (one per shard range) only the one running shard 0 syncs.
        ids = self.settings.discord_shard_ids
        return not ids or 0 in ids

    async def sync_commands(self) -> list[app_commands.AppCommand]:
        """Register the command tree with Discord: the dev guild (instant) or globally, with
        the owner's commands in the owner's guild only."""
        guild_id = self.settings.discord_dev_guild_id
        if guild_id:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to guild %s", len(synced), guild_id)
            return synced
        owner_guild = self.settings.discord_owner_guild_id
        if owner_guild:
            self._move_owner_commands(discord.Object(id=owner_guild))
            owned = await self.tree.sync(guild=discord.Object(id=owner_guild))
            log.info("synced %d owner commands to guild %s", len(owned), owner_guild)
        synced = await self.tree.sync()
        log.info("synced %d global commands (may take up to an hour to appear)", len(synced))
        return synced

    def _move_owner_commands(self, guild: discord.abc.Snowflake) -> None:
        """Owner-only commands leave the global tree for the owner's guild, so no other
        server's admins see a command that would refuse them."""
        for command in self.tree.get_commands():
            if command.extras.get("owner_only"):
                kind = command.type if isinstance(command, app_commands.ContextMenu) \
                    else discord.AppCommandType.chat_input
                self.tree.remove_command(command.name, type=kind)
                self.tree.add_command(command, guild=guild, override=True)

    async def _start_scheduler(self) -> None:
        # Discord's refusals become sentences an admin can act on, as for /digest now.
        delivery = PlainDelivery(self)
        self.scheduler = JobScheduler(self.service, delivery.post, self.notifier,
                                      find_posted=delivery.find)
        await self.scheduler.start()

    async def close(self) -> None:
        """Stop background jobs and page timers, disconnect, release the database."""
        self.paginator.close()
        if self.scheduler is not None:
            try:
                await self.scheduler.shutdown()
            finally:
                self.scheduler = None
        await super().close()
        if self._service is not None:
            self._service.close()

    async def on_ready(self) -> None:
        """Log who we are and where."""
        log.info("ready as %s (id %s) in %d guilds, shards %s of %s", self.user,
                 self.user.id if self.user else "?", len(self.guilds),
                 self.shard_ids or "all", self.shard_count)

    async def on_app_command_completion(self, interaction: discord.Interaction[Any],
                                        command: app_commands.Command[Any, ..., Any]
                                        | app_commands.ContextMenu) -> None:
        """One structured log line per completed command ("ok", or what the command set)."""
        log_interaction(interaction, interaction.extras.get(OUTCOME, "ok"),
                        command=command.qualified_name)

    async def on_command_error(self, context: commands.Context[Any],  # type: ignore[override]
                               exception: commands.CommandError) -> None:
        """Text commands exist only for the owner. Anyone else gets no reply: /resync refuses
        privately, which a channel message cannot, and the owner's commands stay out of other
        people's sight. The refusal is logged at debug level; other text is ignored."""
        if isinstance(exception, commands.CommandNotFound):
            return
        if isinstance(exception, commands.CheckFailure):  # NotOwner included
            log.debug("text command %s refused for user %s in guild %s: only the bot's owner "
                      "can use it", context.command, context.author.id,
                      context.guild.id if context.guild else None)
            return
        log.error("text command %s failed for user %s", context.command, context.author.id,
                  exc_info=exception)

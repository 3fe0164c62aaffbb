"""Per-server settings as the bot uses them: what a server's admins chose (/config), else the
deployment's setting.

Permission checks and cooldowns read them before the interaction is acknowledged, and Discord
drops an interaction left unacknowledged for 3 s, so a check never waits on the library for
long. A server's settings are cached for TTL_SECONDS: a change made through this process is
seen at once (it is written through), one made elsewhere (another shard's process, the
database itself) within the TTL. A server in use is read again in the background before its
copy expires; a check that finds no fresh copy waits at most CHECK_WAIT_SECONDS for the read,
then answers from what it may safely assume (bot/checks.py) while the read goes on and fills
the cache for the next one."""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import time
from typing import TYPE_CHECKING, Any

from knowledge.models import GuildConfig

if TYPE_CHECKING:
    from bot.client import SummitDesk

log = logging.getLogger(__name__)

TTL_SECONDS = 15.0
# What the checks before an acknowledgement may spend on a read in all: the command then still
# has 2 s to answer or show "thinking…" within Discord's 3 s.
CHECK_WAIT_SECONDS = 1.0
# A slow library makes every check fall back: one warning per server this often is enough.
WARN_EVERY_SECONDS = 60.0


class GuildSettings:
    """Effective settings per guild."""

    def __init__(self, bot: SummitDesk) -> None:
        self.bot = bot
        # guild id -> (monotonic time from which the value is known to hold, the value)
        self._cache: dict[int, tuple[float, GuildConfig]] = {}
        self._reads: dict[int, asyncio.Task[None]] = {}  # one read per guild at a time
        self._warned: dict[int, float] = {}

    async def get(self, guild_id: int) -> GuildConfig:
        """What the server changed (fresh within the TTL; read first when not)."""
        config = self.current(guild_id)
        if config is None:
            # Shielded: the read is shared, and it fills the cache even if this caller goes.
            await asyncio.shield(self._read(guild_id))
            config = self._cache[guild_id][1]
        return config

    def current(self, guild_id: int) -> GuildConfig | None:
        """The server's settings if read within the TTL, without waiting (None: not known).
        Starts a background read when the copy is missing, expired or past half its life, so
        a server in use keeps a fresh one."""
        known = self._cache.get(guild_id)
        age = time.monotonic() - known[0] if known is not None else math.inf
        if age >= TTL_SECONDS / 2:
            self._read(guild_id)
        return known[1] if known is not None and age < TTL_SECONDS else None

    async def for_check(self, guild_id: int, wait: float = CHECK_WAIT_SECONDS
                        ) -> GuildConfig | None:
        """Fresh settings for a check that runs before the interaction is acknowledged: the
        cached copy, else a read of at most `wait` seconds; None when the library did not
        answer in time or failed (the read goes on and fills the cache for the next check)."""
        config = self.current(guild_id)
        if config is None and wait > 0:
            await asyncio.wait({self._read(guild_id)}, timeout=wait)
            known = self._cache.get(guild_id)
            if known is not None and time.monotonic() - known[0] < TTL_SECONDS:
                config = known[1]
        return config

    def cached(self, guild_id: int | None) -> GuildConfig:
        """What is known without waiting, however old (defaults when never read)."""
        if guild_id is None:
            return GuildConfig(0)
        found = self._cache.get(guild_id)
        return found[1] if found is not None else GuildConfig(guild_id)

    async def update(self, guild_id: int, **changes: Any) -> GuildConfig:
        """Change some fields (None: back to the default) and remember the result."""
        service = self.bot.service
        config = await service.run(service.guilds.update, guild_id, **changes)
        self._remember(config, time.monotonic())
        return config

    def warn(self, guild_id: int, message: str, *args: object) -> None:
        """Tell the operator (WARNING) that a server's settings were not at hand, at most once
        per server every WARN_EVERY_SECONDS."""
        now = time.monotonic()
        if now - self._warned.get(guild_id, -math.inf) >= WARN_EVERY_SECONDS:
            self._warned[guild_id] = now
            log.warning(message, *args)

    def _read(self, guild_id: int) -> asyncio.Task[None]:
        """The read of the server's settings under way, started if there is none."""
        task = self._reads.get(guild_id)
        if task is None:
            task = asyncio.create_task(self._load(guild_id), name=f"guild-settings-{guild_id}")
            self._reads[guild_id] = task
            task.add_done_callback(functools.partial(self._loaded, guild_id))
        return task

    async def _load(self, guild_id: int) -> None:
        as_of = time.monotonic()  # the value read holds from here on, not from its arrival
        service = self.bot.service
        self._remember(await service.run(service.guilds.get, guild_id), as_of)

    def _loaded(self, guild_id: int, task: asyncio.Task[None]) -> None:
        if self._reads.get(guild_id) is task:
            del self._reads[guild_id]
        if not task.cancelled() and (error := task.exception()) is not None:
            self.warn(guild_id, "reading the settings of guild %s failed: %r", guild_id, error)

    def _remember(self, config: GuildConfig, as_of: float) -> None:
        # A read that began before a write through this process ended would bring back the
        # old value: the newer of the two is kept.
        known = self._cache.get(config.guild_id)
        if known is None or known[0] <= as_of:
            self._cache[config.guild_id] = (as_of, config)

    # ----- effective values ---------------------------------------------------------------------
    def admin_role(self, config: GuildConfig) -> str:
        """The role (name or id) that counts as admin besides Manage Server. A stored id equal
        to the server's (its @everyone role, which /config admin-role now refuses) counts as
        unset: it would make every member an admin."""
        chosen = config.admin_role
        if chosen is not None and chosen.strip() == str(config.guild_id):
            chosen = None
        return chosen or self.bot.settings.discord_admin_role

    def cooldown(self, config: GuildConfig) -> tuple[int, float]:
        """(questions, per seconds) for /ask; seconds 0 means no cooldown."""
        settings = self.bot.settings
        rate = config.ask_cooldown_rate or settings.ask_cooldown_rate
        seconds = config.ask_cooldown_seconds
        return rate, settings.ask_cooldown_seconds if seconds is None else seconds

    def timezone(self, config: GuildConfig) -> str:
        """The server's default time zone for digest schedules."""
        return config.timezone or self.bot.settings.digest_default_timezone

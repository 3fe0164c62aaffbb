"""Per-server settings as the bot uses them: what a server's admins chose (/config), else the
deployment's setting. Cached for a few seconds so permission checks and cooldowns stay cheap;
a change made through this process is seen at once, one made elsewhere within the TTL."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from knowledge.models import GuildConfig

if TYPE_CHECKING:
    from bot.client import SummitDesk

TTL_SECONDS = 15.0


class GuildSettings:
    """Effective settings per guild."""

    def __init__(self, bot: SummitDesk) -> None:
        self.bot = bot
        self._cache: dict[int, tuple[float, GuildConfig]] = {}

    async def get(self, guild_id: int) -> GuildConfig:
        """What the server changed (fresh within the TTL)."""
        cached = self._cache.get(guild_id)
        if cached is not None and time.monotonic() - cached[0] < TTL_SECONDS:
            return cached[1]
        service = self.bot.service
        config = await service.run(service.guilds.get, guild_id)
        self._cache[guild_id] = (time.monotonic(), config)
        return config

    def cached(self, guild_id: int | None) -> GuildConfig:
        """What is known without waiting (defaults when never read)."""
        if guild_id is None:
            return GuildConfig(0)
        found = self._cache.get(guild_id)
        return found[1] if found is not None else GuildConfig(guild_id)

    async def update(self, guild_id: int, **changes: Any) -> GuildConfig:
        """Change some fields (None: back to the default) and remember the result."""
        service = self.bot.service
        config = await service.run(service.guilds.update, guild_id, **changes)
        self._cache[guild_id] = (time.monotonic(), config)
        return config

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

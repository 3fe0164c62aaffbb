"""Per-server settings chosen by a server's admins (/config): the admin role, the /ask cooldown,
the default time zone and where admin alerts go. A field left unset falls back to the
deployment's setting, so a server only stores what it changed."""

from __future__ import annotations

import dataclasses
from typing import Any

from knowledge.digests.schedule import resolve_timezone
from knowledge.errors import BadInput
from knowledge.library import Library
from knowledge.models import GuildConfig
from knowledge.store.tables import GuildSettingsRow, utcnow

FIELDS = ("admin_role", "ask_cooldown_rate", "ask_cooldown_seconds", "timezone",
          "alert_channel_id")


def _config(guild_id: int, row: GuildSettingsRow | None) -> GuildConfig:
    if row is None:
        return GuildConfig(guild_id)
    return GuildConfig(guild_id, admin_role=row.admin_role,
                       ask_cooldown_rate=row.ask_cooldown_rate,
                       ask_cooldown_seconds=row.ask_cooldown_seconds, timezone=row.timezone,
                       alert_channel_id=row.alert_channel_id)


def _checked(field: str, value: Any) -> Any:
    """A value fit to store for `field`, or BadInput saying what is allowed."""
    if value is None:
        return None
    if field == "admin_role":
        text = " ".join(str(value).split())
        if not 1 <= len(text) <= 100:
            raise BadInput("the admin role must be a role name or id of 1 to 100 characters")
        return text
    if field == "ask_cooldown_rate":
        if not 1 <= int(value) <= 100:
            raise BadInput("the /ask cooldown allows 1 to 100 questions per window")
        return int(value)
    if field == "ask_cooldown_seconds":
        if not 0 <= float(value) <= 86400:
            raise BadInput("the /ask cooldown window is 0 (off) to 86400 seconds (a day)")
        return float(value)
    if field == "timezone":
        return resolve_timezone(str(value)).key
    if field == "alert_channel_id":
        return int(value)
    raise BadInput(f"unknown server setting {field!r}")


class GuildSettingsService:
    """Read and change one server's settings."""

    def __init__(self, library: Library) -> None:
        self.library = library

    def get(self, guild_id: int) -> GuildConfig:
        """The server's settings (every field None when it changed nothing)."""
        with self.library.read() as session:
            return _config(guild_id, session.get(GuildSettingsRow, guild_id))

    def update(self, guild_id: int, **changes: Any) -> GuildConfig:
        """Change some fields (None resets one to the default); returns the result."""
        unknown = sorted(set(changes) - set(FIELDS))
        if unknown:
            raise BadInput(f"unknown server setting {unknown[0]!r}")
        values = {field: _checked(field, value) for field, value in changes.items()}
        with self.library.write() as session:
            row = session.get(GuildSettingsRow, guild_id)
            if row is None:
                row = GuildSettingsRow(guild_id=guild_id)
                session.add(row)
            for field, value in values.items():
                setattr(row, field, value)
            row.updated_at = utcnow()
            session.flush()
            return _config(guild_id, row)

    def changed(self, guild_id: int) -> dict[str, Any]:
        """Only the fields the server set."""
        return {k: v for k, v in dataclasses.asdict(self.get(guild_id)).items()
                if k != "guild_id" and v is not None}

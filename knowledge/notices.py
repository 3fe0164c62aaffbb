"""Notices for a server's admins (a feed failing or recovering, a digest that could not be
posted): the one notifier type and the one way to send a notice, which never raises."""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger(__name__)


class AdminNotifier(Protocol):
    """Sends a notice to a guild's admins (guild_id None: the operator's own sources);
    `added_by` is who added the thing the notice is about, when known (a fallback recipient)."""

    async def __call__(self, guild_id: int | None, message: str, *,
                       added_by: str | None = None) -> None: ...


async def notify_admins(notifier: AdminNotifier | None, guild_id: int | None, message: str, *,
                        added_by: str | None = None) -> bool:
    """Send a notice; False (and a log line) when there is no notifier or it failed, so the
    caller can try again later. Never raises."""
    if notifier is None:
        log.warning("admin notice for guild %s not sent (no notifier): %s", guild_id, message)
        return False
    try:
        await notifier(guild_id, message, added_by=added_by)
    except Exception:
        log.exception("could not notify the admins of guild %s", guild_id)
        return False
    return True

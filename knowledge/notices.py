"""Notices for a server's admins (a feed failing or recovering, a digest that could not be
posted): the one notifier type and the one way to send a notice, which never raises."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

# async (guild_id, message) -> None; guild_id None means the operator's own sources.
AdminNotifier = Callable[[int | None, str], Awaitable[None]]


async def notify_admins(notifier: AdminNotifier | None, guild_id: int | None, message: str
                        ) -> bool:
    """Send a notice; False (and a log line) when there is no notifier or it failed, so the
    caller can try again later. Never raises."""
    if notifier is None:
        log.warning("admin notice for guild %s not sent (no notifier): %s", guild_id, message)
        return False
    try:
        await notifier(guild_id, message)
    except Exception:
        log.exception("could not notify the admins of guild %s", guild_id)
        return False
    return True

"""Plain data and callback types of the digest feature (what the bot and the CLI see)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from knowledge.models import Digest

# The bot posts a digest and returns the ids of the messages it sent. It should put a marker
# such as "digest #<run_id>" in the first message, so `PostedFinder` can recognise it later.
DigestPoster = Callable[[int, Digest, int], Awaitable[list[int]]]
# Asked before re-posting a run whose poster may have died or failed: (channel_id, run_id,
# since) -> the ids of that run's messages if the channel shows ALL of them (every part of a
# digest of several messages), looking at every message posted after `since` (not only the
# latest ones); else None, after taking back any part of an incomplete copy, so the run is
# posted again whole. Raising means "cannot tell now" (retried later).
PostedFinder = Callable[[int, int, dt.datetime], Awaitable[list[int] | None]]

# busy: an on-demand run found the channel's previous digest still being posted (run_now only).
# interrupted: the process stopped while posting; the run stays claimed for the next start.
RunStatus = Literal["posted", "empty", "failed", "recovered", "busy", "interrupted"]


@dataclasses.dataclass(frozen=True, slots=True)
class Subscription:
    """A channel that receives digests on a cron schedule in a timezone."""

    id: int
    guild_id: int
    channel_id: int
    schedule: str
    timezone: str
    active: bool
    post_when_empty: bool
    covered_until: dt.datetime  # articles added after this instant go in the next digest
    next_digest_at: dt.datetime | None
    # The last digest could not be posted: why (as the admins were told), and when it is
    # tried again without anyone asking. None while nothing is failing.
    last_error: str | None = None
    retry_at: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (CLI contract of `digest list --json`)."""
        out = dataclasses.asdict(self)
        out["covered_until"] = self.covered_until.isoformat()
        out["next_digest_at"] = self.next_digest_at.isoformat() if self.next_digest_at else None
        out["retry_at"] = self.retry_at.isoformat() if self.retry_at else None
        return out


@dataclasses.dataclass(frozen=True, slots=True)
class RunClaim:
    """A digest period this process owns: post it, then mark it posted (or failed)."""

    run_id: int
    subscription_id: int
    period_start: dt.datetime
    period_end: dt.datetime
    owner: str


@dataclasses.dataclass(frozen=True, slots=True)
class RunOutcome:
    """What happened to one digest period in a scheduler pass (or a /digest now)."""

    subscription: Subscription
    run_id: int
    status: RunStatus  # recovered = found already posted after a crash, not posted again
    digest: Digest | None
    message_ids: tuple[int, ...] = ()
    # failed: what went wrong; the message as is when the poster raised a KnowledgeError (a
    # sentence fit for a user), else errors.INTERNAL_ERROR (a bug: its text is only logged).
    error: str | None = None
    retried: bool = False  # a post that had failed, tried again (admins were told already)
    unexpected: bool = False  # failed with an exception that is not a KnowledgeError
    # failed because the channel is gone: the subscription was stopped, nothing is retried.
    stopped: bool = False
    # failed or busy: when the period is tried again without anyone asking (a failed post after
    # the retry delay; a post still running when its lease runs out, if it stalls).
    retry_at: dt.datetime | None = None

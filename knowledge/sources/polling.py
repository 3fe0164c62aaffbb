"""Feed polling state in the database: leases, conditional-GET validators, backoff, failing flags.

A lease is taken with one atomic UPDATE (``lease_until IS NULL OR lease_until < now``), so two
processes sharing a database never poll the same feed at once. Entries already handled are
remembered in ``Source.extra["entries"]`` ({entry id: {"article", "sig", "tries"}}).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Any

from sqlalchemy import and_, or_, select, update

from knowledge.errors import NotFound
from knowledge.library import Library
from knowledge.store.tables import Source

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=15)  # longer than the slowest poll (every entry page at its limit)
MAX_BACKOFF = dt.timedelta(hours=24)
FAILING_AFTER = 3  # consecutive failures before admins are told
MAX_ENTRY_TRIES = 3  # polls an unreadable entry is retried on before it is given up
MAX_REMEMBERED_ENTRIES = 1000


@dataclasses.dataclass
class FeedState:
    """A feed source as one poll sees it; ``entries`` is updated in place and saved after."""

    id: int
    url: str
    title: str | None
    guild_id: int | None
    poll_minutes: int
    etag: str | None
    last_modified: str | None
    entries: dict[str, dict[str, Any]]
    failures: int
    failing: bool
    failing_notified: bool
    # Never read successfully (a first add that crashed): new entries follow the no-flood rule.
    first: bool = False
    added_by: str | None = None  # who added it (a Discord user id from the bot), for notices


def due_feed_ids(library: Library, now: dt.datetime) -> list[int]:
    """Active feeds whose next poll is due (or never scheduled), soonest first."""
    with library.read() as session:
        return list(session.scalars(
            select(Source.id).where(Source.kind == "feed", Source.active.is_(True),
                                    or_(Source.next_poll_at.is_(None), Source.next_poll_at <= now))
            .order_by(Source.next_poll_at, Source.id)))


def try_lease(library: Library, source_id: int, owner: str, now: dt.datetime, *,
              due_only: bool) -> bool:
    """Take the feed's lease if nobody holds it (and, with ``due_only``, if it is still due)."""
    conditions = [Source.id == source_id, Source.active.is_(True),
                  or_(Source.lease_until.is_(None), Source.lease_until < now)]
    if due_only:
        # Re-checked here: another process may have polled it since we listed the due feeds.
        conditions.append(or_(Source.next_poll_at.is_(None), Source.next_poll_at <= now))
    with library.write() as session:
        taken = session.execute(update(Source).where(and_(*conditions))
                                .values(lease_owner=owner, lease_until=now + LEASE)
                                .execution_options(synchronize_session=False))
        return bool(taken.rowcount)  # type: ignore[attr-defined]


def release_lease(library: Library, source_id: int, owner: str) -> None:
    """Give the lease back (only if we still hold it)."""
    with library.write() as session:
        session.execute(update(Source).where(Source.id == source_id, Source.lease_owner == owner)
                        .values(lease_owner=None, lease_until=None)
                        .execution_options(synchronize_session=False))


def load_feed(library: Library, source_id: int) -> FeedState:
    """A snapshot of one feed's polling state."""
    with library.read() as session:
        row = session.get(Source, source_id)
        if row is None or row.url is None:
            raise NotFound(f"no feed source #{source_id}")
        extra = row.extra or {}
        return FeedState(
            id=row.id, url=row.url, title=row.title, guild_id=row.guild_id,
            poll_minutes=row.poll_minutes or library.settings.feed_poll_minutes,
            etag=row.etag, last_modified=row.last_modified,
            entries={k: dict(v) for k, v in (extra.get("entries") or {}).items()},
            failures=row.consecutive_failures or 0, failing=bool(row.failing),
            failing_notified=bool(row.failing_notified), first=row.last_success_at is None,
            added_by=row.added_by,
        )


def claim_feed_source(library: Library, urls: tuple[str, ...], owner: str,
                      now: dt.datetime, fields: dict[str, Any]) -> tuple[int, str]:
    """Find or create the feed source for ``urls`` and lease it; returns (id, what happened).

    What happened: "new" (created), "again" (a removed feed followed again) or "following"
    (already active: nothing was leased). One transaction, so two adds cannot both create it.
    """
    with library.write() as session:
        row = session.scalar(
            select(Source).where(Source.kind == "feed",
                                 or_(Source.canonical_url.in_(urls), Source.url.in_(urls)))
            .order_by(Source.active.desc(), Source.id).limit(1))
        if row is not None and row.active:
            return row.id, "following"
        if row is None:
            row = Source(kind="feed", active=True, consecutive_failures=0, failing=False,
                         failing_notified=False, extra={"entries": {}}, **fields)
            session.add(row)
            what = "new"
        else:
            row.active = True
            row.consecutive_failures = 0
            row.failing = row.failing_notified = False
            what = "again"
        row.lease_owner, row.lease_until = owner, now + LEASE
        session.flush()
        return row.id, what


def backoff(poll_minutes: int, failures: int) -> dt.timedelta:
    """Wait before the next try after ``failures`` failures in a row (doubling, at most a day)."""
    if failures <= 0:
        return dt.timedelta(minutes=poll_minutes)
    # Capped before exponentiation so a long outage cannot overflow timedelta.
    return min(dt.timedelta(minutes=poll_minutes * 2 ** min(failures, 16)), MAX_BACKOFF)


def save_success(library: Library, state: FeedState, now: dt.datetime, *,
                 etag: str | None, last_modified: str | None, new_articles: bool,
                 entry_error: str | None, title: str | None = None) -> bool:
    """Record a good fetch; returns True when the feed was failing and admins had been told."""
    with library.write() as session:
        row = session.get(Source, state.id)
        if row is None:
            return False
        told = bool(row.failing and row.failing_notified)
        row.etag, row.last_modified = etag, last_modified
        row.last_fetch_at = row.last_success_at = now
        if new_articles:
            row.last_new_article_at = now
        row.last_error = entry_error
        row.consecutive_failures = 0
        row.failing = row.failing_notified = False
        if row.active:
            row.next_poll_at = now + backoff(state.poll_minutes, 0)
        if title and not row.title:
            row.title = title
        row.extra = {**(row.extra or {}), "entries": _trimmed(state.entries)}
    return told


def save_failure(library: Library, state: FeedState, now: dt.datetime, error: str
                 ) -> tuple[int, bool]:
    """Record a failed fetch and schedule the retry; returns (failures in a row, tell admins)."""
    with library.write() as session:
        row = session.get(Source, state.id)
        if row is None:
            return 0, False
        failures = (row.consecutive_failures or 0) + 1
        row.consecutive_failures = failures
        row.last_error = error
        row.last_fetch_at = now
        if row.active:
            row.next_poll_at = now + backoff(state.poll_minutes, failures)
        if failures >= FAILING_AFTER:
            row.failing = True
        return failures, bool(row.failing and not row.failing_notified)


def mark_notified(library: Library, source_id: int) -> None:
    """Admins were told this source is failing: do not tell them again until it recovers."""
    with library.write() as session:
        row = session.get(Source, source_id)
        if row is not None and row.failing:
            row.failing_notified = True


def _trimmed(entries: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The most recently inserted entries, at most MAX_REMEMBERED_ENTRIES of them."""
    items = list(entries.items())[-MAX_REMEMBERED_ENTRIES:]
    return dict(items)

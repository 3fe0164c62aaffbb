"""Feed polling state in the database: leases, conditional-GET validators, backoff, failing flags.

A lease is taken with one atomic UPDATE (``lease_until IS NULL OR lease_until < now``), so two
processes sharing a database never poll the same feed at once. Entries already handled are
remembered in ``SourceRow.extra["entries"]`` ({entry id: {"article", "sig", "tries"}}): every
id the feed still carries, and at least the MAX_REMEMBERED_ENTRIES most recent others, so a
feed longer than that is never re-read from its start. The lease (FEED_LEASE_SECONDS) is renewed
while a poll works. A feed several servers follow is one row, polled once; its entries reach
every server subscribed to it (knowledge/visibility.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Any

from sqlalchemy import and_, or_, select, update

from knowledge.errors import NotFound
from knowledge.library import Library
from knowledge.owners import known_dead
from knowledge.sources.records import subscribe
from knowledge.store.tables import OPERATOR_GUILD, SourceRow, SourceSubscriptionRow
from knowledge.visibility import owner as owner_guild
from knowledge.visibility import subscribers

log = logging.getLogger(__name__)

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
    # Guilds actively following it (OPERATOR_GUILD: the operator): its entries reach them.
    guilds: tuple[int, ...] = (OPERATOR_GUILD,)
    # (guild, who subscribed it) of each active subscription: whom notices go to.
    followers: tuple[tuple[int, str | None], ...] = ()
    # Ids the feed carried on this poll: remembered whatever their number.
    carried: set[str] = dataclasses.field(default_factory=set)
    # New entries left for the next polls (FEED_MAX_ENTRIES_PER_POLL).
    backlog: int = 0

    @property
    def needs_whole_feed(self) -> bool:
        """True when the next poll must read the whole feed rather than accept a 304: new
        entries were left for later, or entries wait for another try (retry_pending)."""
        return bool(self.backlog) or any(retry_pending(e) for e in self.entries.values())


def retry_pending(entry: dict[str, Any]) -> bool:
    """True for a remembered entry that is not stored yet and has tries left: the next poll
    that reads the feed tries it again (its page could not be fetched, say)."""
    return not entry.get("article") and int(entry.get("tries", 0)) < MAX_ENTRY_TRIES


def lease_length(library: Library) -> dt.timedelta:
    """How long a feed's lease lasts (FEED_LEASE_SECONDS)."""
    return dt.timedelta(seconds=library.settings.feed_lease_seconds)


def due_feed_ids(library: Library, now: dt.datetime) -> list[int]:
    """Active feeds whose next poll is due (or never scheduled), soonest first."""
    with library.read() as session:
        return list(session.scalars(
            select(SourceRow.id).where(SourceRow.kind == "feed", SourceRow.active.is_(True),
                                    or_(SourceRow.next_poll_at.is_(None), SourceRow.next_poll_at <= now))
            .order_by(SourceRow.next_poll_at, SourceRow.id)))


def try_lease(library: Library, source_id: int, owner: str, now: dt.datetime, *,
              due_only: bool) -> bool:
    """Take the feed's lease if nobody holds it (and, with ``due_only``, if it is still due).

    A lease held by a process of this host that no longer exists (killed mid-poll) is free at
    once, as digest claims are, instead of blocking the feed for FEED_LEASE_SECONDS."""
    free = [SourceRow.lease_until.is_(None), SourceRow.lease_until < now]
    with library.read() as session:
        holder = session.scalar(select(SourceRow.lease_owner).where(SourceRow.id == source_id))
    if holder and known_dead(holder):
        log.info("feed #%d: its lease was held by a process that is gone (%s); taking it over",
                 source_id, holder)
        free.append(SourceRow.lease_owner == holder)
    conditions = [SourceRow.id == source_id, SourceRow.active.is_(True), or_(*free)]
    if due_only:
        # Re-checked here: another process may have polled it since we listed the due feeds.
        conditions.append(or_(SourceRow.next_poll_at.is_(None), SourceRow.next_poll_at <= now))
    with library.write() as session:
        taken = session.execute(update(SourceRow).where(and_(*conditions))
                                .values(lease_owner=owner, lease_until=now + lease_length(library))
                                .execution_options(synchronize_session=False))
        return bool(taken.rowcount)  # type: ignore[attr-defined]


def renew_lease(library: Library, source_id: int, owner: str, now: dt.datetime) -> bool:
    """Extend our lease on a feed while a poll works; False when it is no longer ours."""
    with library.write() as session:
        renewed = session.execute(
            update(SourceRow).where(SourceRow.id == source_id, SourceRow.lease_owner == owner)
            .values(lease_until=now + lease_length(library))
            .execution_options(synchronize_session=False))
        return bool(renewed.rowcount)  # type: ignore[attr-defined]


def release_lease(library: Library, source_id: int, owner: str) -> None:
    """Give the lease back (only if we still hold it)."""
    with library.write() as session:
        session.execute(update(SourceRow).where(SourceRow.id == source_id, SourceRow.lease_owner == owner)
                        .values(lease_owner=None, lease_until=None)
                        .execution_options(synchronize_session=False))


def load_feed(library: Library, source_id: int) -> FeedState:
    """A snapshot of one feed's polling state."""
    with library.read() as session:
        row = session.get(SourceRow, source_id)
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
            guilds=subscribers(session, row.id) or (owner_guild(row.guild_id),),
            followers=tuple(session.execute(
                select(SourceSubscriptionRow.guild_id, SourceSubscriptionRow.added_by)
                .where(SourceSubscriptionRow.source_id == row.id,
                       SourceSubscriptionRow.active.is_(True))
                .order_by(SourceSubscriptionRow.id)).tuples().all()),
        )


def claim_feed_source(library: Library, urls: tuple[str, ...], owner: str,
                      now: dt.datetime, fields: dict[str, Any]) -> tuple[int, str]:
    """Find or create the feed source for ``urls`` and lease it; returns (id, what happened).

    What happened: "new" (created), "again" (a removed feed followed again), "following"
    (this guild already follows it: nothing changed), or "subscribed" (another server follows
    it: this guild gets its own subscription to the same row, which is not fetched again). The
    guild is ``fields["guild_id"]`` (None: the operator). One transaction, so two adds cannot
    both create it; nothing is leased unless the feed is to be read now ("new", "again").
    """
    guild = owner_guild(fields.get("guild_id"))
    with library.write() as session:
        row = session.scalar(
            select(SourceRow).where(SourceRow.kind == "feed",
                                 or_(SourceRow.canonical_url.in_(urls), SourceRow.url.in_(urls)))
            .order_by(SourceRow.active.desc(), SourceRow.id).limit(1))
        if row is not None:
            mine = session.scalar(select(SourceSubscriptionRow.active).where(
                SourceSubscriptionRow.source_id == row.id, SourceSubscriptionRow.guild_id == guild))
            if mine and row.active:
                return row.id, "following"
            if row.active:
                subscribe(session, row.id, fields.get("guild_id"), fields.get("added_by"), now)
                return row.id, "subscribed"
        if row is None:
            row = SourceRow(kind="feed", active=True, consecutive_failures=0, failing=False,
                         failing_notified=False, extra={"entries": {}}, **fields)
            session.add(row)
            what = "new"
        else:
            row.active = True
            row.consecutive_failures = 0
            row.failing = row.failing_notified = False
            what = "again"
        row.lease_owner, row.lease_until = owner, now + lease_length(library)
        session.flush()
        subscribe(session, row.id, fields.get("guild_id"), fields.get("added_by"), now)
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
    """Record a good fetch; returns True when the feed was failing and admins had been told.

    ``etag`` and ``last_modified`` (the validators of the conditional GET) are dropped while
    ``state.needs_whole_feed``: a 304 would hide the entries still to handle.
    """
    if state.needs_whole_feed:
        etag = last_modified = None
    with library.write() as session:
        row = session.get(SourceRow, state.id)
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
        row.extra = {**(row.extra or {}), "entries": _trimmed(state.entries, state.carried)}
    return told


def save_failure(library: Library, state: FeedState, now: dt.datetime, error: str
                 ) -> tuple[int, bool]:
    """Record a failed fetch and schedule the retry; returns (failures in a row, tell admins)."""
    with library.write() as session:
        row = session.get(SourceRow, state.id)
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
        row = session.get(SourceRow, source_id)
        if row is not None and row.failing:
            row.failing_notified = True


def _trimmed(entries: dict[str, dict[str, Any]], carried: set[str]
             ) -> dict[str, dict[str, Any]]:
    """Every entry the feed still carries, and the MAX_REMEMBERED_ENTRIES most recently
    inserted others (an entry that left the feed may come back, briefly)."""
    others = [k for k in entries if k not in carried][-MAX_REMEMBERED_ENTRIES:]
    keep = carried.union(others)
    return {k: v for k, v in entries.items() if k in keep}

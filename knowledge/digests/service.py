"""Digests per channel on a cron schedule, each period posted exactly once.

A period (subscription.covered_until, fire time] is claimed in the database before posting (an
INSERT under the unique (subscription_id, period_end) constraint, with the subscription row
locked so two processes cannot claim overlapping periods) and marked posted after. A claim
whose owner died is taken over; the poster's channel is checked for the run's messages before
anything is posted again. See docs/digests.md.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from knowledge.digests import compose as composing
from knowledge.digests.schedule import (
    cron_trigger,
    ensure_fires,
    latest_fire,
    next_fire,
    normalise_schedule,
    resolve_timezone,
    same_wall_time,
)
from knowledge.digests.types import (
    DigestPoster,
    PostedFinder,
    RunClaim,
    RunOutcome,
    Subscription,
)
from knowledge.errors import (
    INTERNAL_ERROR,
    BadInput,
    ChannelGone,
    DeliveryInterrupted,
    KnowledgeError,
    NotFound,
)
from knowledge.library import Library
from knowledge.models import Digest
from knowledge.owners import known_dead, new_owner
from knowledge.store.tables import DigestRunRow, DigestSubscriptionRow, as_utc, utcnow

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
SubscriptionListener = Callable[[list[int]], None]
OPEN_STATUSES = ("claimed", "failed")
# What `digest preview` shows when no channel subscribes yet and no --since is given.
PREVIEW_DEFAULT_WINDOW = dt.timedelta(days=7)
# Channels one digest pass posts to at once (each waits for Discord on its own).
CHANNELS_AT_ONCE = 4
# A run's messages are posted after its period ends (the claim comes at or after the fire time);
# the finder looks from this much earlier, for a chat service whose clock differs from ours.
FINDER_CLOCK_MARGIN = dt.timedelta(minutes=10)
T = TypeVar("T")


def _plain(row: DigestSubscriptionRow, now: dt.datetime) -> Subscription:
    try:
        upcoming = next_fire(cron_trigger(row.schedule, row.timezone), now)
    except BadInput:
        upcoming = None
    return Subscription(id=row.id, guild_id=row.guild_id, channel_id=row.channel_id,
                        schedule=row.schedule, timezone=row.timezone, active=row.active,
                        post_when_empty=row.post_when_empty, covered_until=row.covered_until,
                        next_digest_at=upcoming)


class DigestService:
    """Subscriptions, previews and the claim/post/mark cycle that makes each digest exactly once."""

    def __init__(self, library: Library, *, clock: Clock | None = None,
                 lease: dt.timedelta | None = None, retry_after: dt.timedelta | None = None
                 ) -> None:
        self.library = library
        self.settings = library.settings
        self.clock: Clock = clock or utcnow
        self.lease = lease or dt.timedelta(minutes=self.settings.digest_claim_lease_minutes)
        self.retry_after = retry_after or dt.timedelta(minutes=self.settings.digest_retry_minutes)
        self.owner = new_owner()  # who this object's claims belong to
        self._listeners: list[SubscriptionListener] = []

    def _now(self, now: dt.datetime | None) -> dt.datetime:
        return as_utc(now) if now is not None else as_utc(self.clock())

    # ----- subscriptions -------------------------------------------------------------------
    def add_listener(self, listener: SubscriptionListener) -> None:
        """Call `listener(subscription_ids)` after subscriptions change (the scheduler's hook)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: SubscriptionListener) -> None:
        """Stop calling a listener added with `add_listener`."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _changed(self, ids: list[int]) -> None:
        for listener in list(self._listeners):
            try:
                listener(ids)
            except Exception:
                log.exception("subscription listener %r failed", listener)

    def subscribe(self, guild_id: int, channel_id: int, schedule: str | None = None,
                       timezone: str | None = None, *, post_when_empty: bool | None = None,
                       default_timezone: str | None = None, now: dt.datetime | None = None
                       ) -> Subscription:
        """Create or update a channel's digest schedule (validated; BadInput explains).

        Without `timezone` a channel that has a subscription keeps its own zone; a new one
        gets `default_timezone` (the server's), else DIGEST_DEFAULT_TIMEZONE.
        """
        schedule = normalise_schedule(schedule or self.settings.digest_default_schedule)
        now = self._now(now)
        if timezone is None:
            with self.library.read() as session:
                timezone = session.scalar(select(DigestSubscriptionRow.timezone).where(
                    DigestSubscriptionRow.guild_id == guild_id,
                    DigestSubscriptionRow.channel_id == channel_id))
        zone = resolve_timezone(timezone or default_timezone
                                or self.settings.digest_default_timezone)
        ensure_fires(cron_trigger(schedule, zone.key), schedule, now)
        for attempt in range(2):
            try:
                with self.library.write() as session:
                    row = session.scalar(select(DigestSubscriptionRow).where(
                        DigestSubscriptionRow.guild_id == guild_id,
                        DigestSubscriptionRow.channel_id == channel_id))
                    if row is None:
                        row = DigestSubscriptionRow(
                            guild_id=guild_id, channel_id=channel_id, created_at=now,
                            covered_until=now, active=True,
                            post_when_empty=self.settings.digest_post_when_empty
                            if post_when_empty is None else post_when_empty)
                        session.add(row)
                    elif not row.active:
                        # Back after a pause: the next digest starts now, not at the pause.
                        row.active = True
                        row.covered_until = max(row.covered_until, now)
                        self._drop_stale_runs(session, row)
                    row.schedule, row.timezone = schedule, zone.key
                    if post_when_empty is not None:
                        row.post_when_empty = post_when_empty
                    session.flush()
                    sub = _plain(row, now)
                break
            except IntegrityError:  # a concurrent subscribe of the same channel won
                if attempt:
                    raise
        log.info("digest subscription #%d: guild %d channel %d at %r (%s)", sub.id, guild_id,
                 channel_id, schedule, zone.key)
        self._changed([sub.id])
        return sub

    @staticmethod
    def _drop_stale_runs(session: Session, row: DigestSubscriptionRow) -> None:
        """Failed runs from before a pause are not posted after it."""
        session.execute(
            update(DigestRunRow).where(DigestRunRow.subscription_id == row.id,
                                    DigestRunRow.status == "failed")
            .values(status="dropped").execution_options(synchronize_session=False))


    def unsubscribe(self, guild_id: int, channel_id: int | None = None) -> int:
        """Stop a guild's digests (one channel or all); returns how many subscriptions stopped."""
        with self.library.write() as session:
            stmt = select(DigestSubscriptionRow.id).where(DigestSubscriptionRow.guild_id == guild_id,
                                                       DigestSubscriptionRow.active.is_(True))
            if channel_id is not None:
                stmt = stmt.where(DigestSubscriptionRow.channel_id == channel_id)
            ids = list(session.scalars(stmt))
            if ids:
                session.execute(update(DigestSubscriptionRow)
                                .where(DigestSubscriptionRow.id.in_(ids)).values(active=False)
                                .execution_options(synchronize_session=False))
        if ids:
            log.info("digest subscriptions stopped: %s", ids)
            self._changed(ids)
        return len(ids)


    def subscriptions(self, guild_id: int | None, *, include_inactive: bool = False,
                           now: dt.datetime | None = None) -> list[Subscription]:
        """Subscriptions (of one guild, or all), oldest first."""
        now = self._now(now)
        stmt = select(DigestSubscriptionRow).order_by(DigestSubscriptionRow.id)
        if guild_id is not None:
            stmt = stmt.where(DigestSubscriptionRow.guild_id == guild_id)
        if not include_inactive:
            stmt = stmt.where(DigestSubscriptionRow.active.is_(True))
        with self.library.read() as session:
            rows = list(session.scalars(stmt))
            failed = self._failed_runs(session, [row.id for row in rows])
            return [self._with_failure(_plain(row, now), failed.get(row.id)) for row in rows]

    @staticmethod
    def _failed_runs(session: Session, subscription_ids: list[int]) -> dict[int, DigestRunRow]:
        """The open failed run of each of these subscriptions that has one."""
        if not subscription_ids:
            return {}
        return {run.subscription_id: run for run in session.scalars(
            select(DigestRunRow).where(DigestRunRow.subscription_id.in_(subscription_ids),
                                       DigestRunRow.status == "failed"))}

    def _with_failure(self, sub: Subscription, run: DigestRunRow | None) -> Subscription:
        """The subscription saying its last digest failed (why, and when it is retried)."""
        if run is None:
            return sub
        return dataclasses.replace(sub, last_error=run.error or "unknown error",
                                   retry_at=self._retry_at(run))


    def get_subscription(self, subscription_id: int, now: dt.datetime | None = None
                              ) -> Subscription:
        """One subscription by id; NotFound otherwise."""
        with self.library.read() as session:
            row = session.get(DigestSubscriptionRow, subscription_id)
            if row is None:
                raise NotFound(f"no digest subscription #{subscription_id}")
            failed = self._failed_runs(session, [row.id])
            return self._with_failure(_plain(row, self._now(now)), failed.get(row.id))

    # ----- previews ------------------------------------------------------------------------
    def preview(self, guild_id: int | None, since: dt.datetime | None = None, *,
                     now: dt.datetime | None = None) -> Digest:
        """The next digest as it stands now, without claiming anything.

        Starts at `since`, else where the guild's (or any) subscription's last digest ended,
        else PREVIEW_DEFAULT_WINDOW ago.
        """
        now = self._now(now)
        with self.library.read() as session:
            stmt = select(DigestSubscriptionRow).where(DigestSubscriptionRow.active.is_(True)) \
                .order_by(DigestSubscriptionRow.covered_until, DigestSubscriptionRow.id).limit(1)
            if guild_id is not None:
                stmt = stmt.where(DigestSubscriptionRow.guild_id == guild_id)
            sub = session.scalar(stmt)
            if since is not None:
                start, sub_id = as_utc(since), None
            elif sub is not None:
                start, sub_id = sub.covered_until, sub.id
            else:
                start, sub_id = now - PREVIEW_DEFAULT_WINDOW, None
            if since is not None and start >= now:
                raise BadInput(f"the start date ({start:%Y-%m-%d %H:%M} UTC) is not in the past")
            start = min(start, now)
            ids = composing.new_article_ids(session, sub_id, start, now, guild_id=guild_id)
            return composing.compose(session, ids, start, now)


    def opened_by(self, subscription_id: int, start: dt.datetime) -> str | None:
        """What ended where a period of the subscription starts (`start`): "posted" (the last
        digest), "empty" (a period with nothing to post), or None: digests started there (the
        channel subscribed, or resumed, then; what was added before is in no digest)."""
        with self.library.read() as session:
            return session.scalar(
                select(DigestRunRow.status)
                .where(DigestRunRow.subscription_id == subscription_id,
                       DigestRunRow.period_end == as_utc(start),
                       DigestRunRow.status.in_(("posted", "empty")))
                .order_by(DigestRunRow.id.desc()).limit(1))

    # ----- claim / mark --------------------------------------------------------------------
    @staticmethod
    def _lock_subscription(session: Session, subscription_id: int) -> bool:
        """Write-lock an active subscription's row for this transaction (False if inactive).

        Writing first matters on SQLite: the transaction takes the database write lock
        before it reads, so the reads below cannot be stale. On PostgreSQL it locks the row.
        """
        result = session.execute(
            update(DigestSubscriptionRow)
            .where(DigestSubscriptionRow.id == subscription_id, DigestSubscriptionRow.active.is_(True))
            .values(covered_until=DigestSubscriptionRow.covered_until)
            .execution_options(synchronize_session=False))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def claim(self, subscription_id: int, period_end: dt.datetime, owner: str | None = None,
                   *, now: dt.datetime | None = None) -> RunClaim | None:
        """Own the period (covered_until, period_end] of a subscription, or None if another
        process claimed it (or an overlapping one) first, or there is nothing to claim."""
        owner = owner or self.owner
        now = self._now(now)
        period_end = as_utc(period_end)
        try:
            with self.library.write() as session:
                if not self._lock_subscription(session, subscription_id):
                    return None
                sub = session.get(DigestSubscriptionRow, subscription_id)
                if sub is None or period_end <= sub.covered_until:
                    return None
                if session.scalar(select(DigestRunRow.id).where(
                        DigestRunRow.subscription_id == subscription_id,
                        DigestRunRow.status.in_(OPEN_STATUSES)).limit(1)) is not None:
                    return None  # one open period at a time: resolve it first
                run = DigestRunRow(subscription_id=subscription_id, period_start=sub.covered_until,
                                period_end=period_end, status="claimed", claimed_by=owner,
                                claimed_at=now, article_ids=[], message_ids=[])
                session.add(run)
                session.flush()
                claim = RunClaim(run.id, subscription_id, run.period_start, period_end, owner)
        except IntegrityError:
            log.info("digest period ending %s of subscription #%d was claimed elsewhere",
                     period_end.isoformat(), subscription_id)
            return None
        log.info("claimed digest run #%d (subscription #%d, %s .. %s)", claim.run_id,
                 subscription_id, claim.period_start.isoformat(), period_end.isoformat())
        return claim


    def _finish(self, run_id: int, owner: str | None, status: str, **values: Any) -> bool:
        owner = owner or self.owner
        with self.library.write() as session:
            result = session.execute(
                update(DigestRunRow)
                .where(DigestRunRow.id == run_id, DigestRunRow.status == "claimed",
                       DigestRunRow.claimed_by == owner)
                .values(status=status, **values).execution_options(synchronize_session=False))
            if not result.rowcount:  # type: ignore[attr-defined]
                log.warning("digest run #%d is no longer claimed by %s: not marked %s", run_id,
                            owner, status)
                return False
            if status in ("posted", "empty"):
                run = session.get(DigestRunRow, run_id)
                assert run is not None
                session.execute(
                    update(DigestSubscriptionRow)
                    .where(DigestSubscriptionRow.id == run.subscription_id,
                           DigestSubscriptionRow.covered_until < run.period_end)
                    .values(covered_until=run.period_end)
                    .execution_options(synchronize_session=False))
        log.info("digest run #%d %s", run_id, status)
        return True

    def mark_posted(self, run_id: int, message_ids: Sequence[int], *,
                         article_ids: Sequence[int] | None = None, owner: str | None = None,
                         now: dt.datetime | None = None) -> bool:
        """Record the posted messages and advance the subscription past the period."""
        values: dict[str, Any] = {"message_ids": [int(m) for m in message_ids],
                                  "posted_at": self._now(now)}
        if article_ids is not None:
            values["article_ids"] = list(article_ids)
        return self._finish(run_id, owner, "posted", **values)


    def mark_empty(self, run_id: int, *, owner: str | None = None) -> bool:
        """Nothing new and nothing posted: advance the subscription past the period."""
        return self._finish(run_id, owner, "empty")


    def mark_failed(self, run_id: int, error: str, *, owner: str | None = None) -> bool:
        """Posting failed: the period stays open and is retried after `retry_after`."""
        return self._finish(run_id, owner, "failed", error=error[:2000])


    def compose_run(self, claim: RunClaim) -> Digest:
        """The digest of a claimed period; the run remembers which articles it announces."""
        with self.library.write() as session:
            ids = composing.new_article_ids(session, claim.subscription_id, claim.period_start,
                                            claim.period_end)
            digest = composing.compose(session, ids, claim.period_start, claim.period_end,
                                       run_id=claim.run_id)
            session.execute(update(DigestRunRow)
                            .where(DigestRunRow.id == claim.run_id,
                                   DigestRunRow.claimed_by == claim.owner)
                            .values(article_ids=ids)
                            .execution_options(synchronize_session=False))
        return digest

    # ----- the scheduler's pass ------------------------------------------------------------
    def _run_row(self, run_id: int) -> DigestRunRow | None:
        with self.library.read() as session:
            return session.get(DigestRunRow, run_id)

    def _open_run(self, subscription_id: int) -> DigestRunRow | None:
        with self.library.read() as session:
            return session.scalar(select(DigestRunRow).where(
                DigestRunRow.subscription_id == subscription_id,
                DigestRunRow.status.in_(OPEN_STATUSES)).order_by(DigestRunRow.id).limit(1))

    def _retry_at(self, run: DigestRunRow) -> dt.datetime:
        """When a pass may take the open run over: a failed post after the retry delay, a
        claimed one when its lease runs out (sooner if its owner is known dead)."""
        since = as_utc(run.claimed_at or run.period_end)
        return since + (self.retry_after if run.status == "failed" else self.lease)

    def _may_take_over(self, run: DigestRunRow, now: dt.datetime, *,
                       retry_failed_now: bool = False) -> bool:
        if run.status == "failed" and retry_failed_now:
            return True
        if run.status == "claimed" and known_dead(run.claimed_by):
            return True
        return now >= self._retry_at(run)

    def _take_over(self, run: DigestRunRow, now: dt.datetime) -> RunClaim | None:
        """Compare-and-set the run's owner to us; None if someone else got there first."""
        with self.library.write() as session:
            result = session.execute(
                update(DigestRunRow)
                .where(DigestRunRow.id == run.id, DigestRunRow.status == run.status,
                       DigestRunRow.claimed_by == run.claimed_by)
                .values(status="claimed", claimed_by=self.owner, claimed_at=now)
                .execution_options(synchronize_session=False))
            if not result.rowcount:  # type: ignore[attr-defined]
                return None
        log.warning("took over digest run #%d (%s by %s)", run.id, run.status, run.claimed_by)
        return RunClaim(run.id, run.subscription_id, run.period_start, run.period_end,
                        self.owner)

    def _due_period_end(self, subscription_id: int, now: dt.datetime) -> dt.datetime | None:
        with self.library.read() as session:
            row = session.get(DigestSubscriptionRow, subscription_id)
            if row is None or not row.active:
                return None
            try:
                trigger = cron_trigger(row.schedule, row.timezone)
            except BadInput as exc:
                log.error("digest subscription #%d has an unusable schedule: %s", row.id, exc)
                return None
            end = latest_fire(trigger, row.covered_until, now)
            if end is not None and same_wall_time(end, row.covered_until, row.timezone):
                # The hour clocks go back repeats a local time (02:30 twice): posted at the
                # first, the repeat is no new fire; the next period ends at the next one.
                return None
            return end

    def _active_ids(self, subscription_id: int | None) -> list[int]:
        stmt = select(DigestSubscriptionRow.id).where(DigestSubscriptionRow.active.is_(True)) \
            .order_by(DigestSubscriptionRow.id)
        if subscription_id is not None:
            stmt = stmt.where(DigestSubscriptionRow.id == subscription_id)
        with self.library.read() as session:
            return list(session.scalars(stmt))

    async def run_due(self, poster: DigestPoster, *, find_posted: PostedFinder | None = None,
                      now: dt.datetime | None = None, subscription_id: int | None = None
                      ) -> list[RunOutcome]:
        """Resolve open periods (stale claims, failed posts) and post every due period.

        A subscription that missed several fire times gets ONE digest up to the latest due one.
        Errors are logged per subscription and never stop the others; channels are posted to
        side by side (CHANNELS_AT_ONCE), so one channel Discord holds back (a rate limit, a
        slow request) does not delay every other server's digest.
        """
        now = self._now(now)
        limit = asyncio.Semaphore(CHANNELS_AT_ONCE)

        async def one(sub_id: int) -> list[RunOutcome]:
            async with limit:
                try:
                    return await self._run_subscription(sub_id, poster, find_posted, now)
                except Exception:
                    log.exception("digest pass for subscription #%d failed", sub_id)
                    return []

        ids = await self.library.run(self._active_ids, subscription_id)
        return [outcome for found in await asyncio.gather(*(one(s) for s in ids))
                for outcome in found]

    async def _run_subscription(self, sub_id: int, poster: DigestPoster,
                                find_posted: PostedFinder | None, now: dt.datetime, *,
                                on_demand: bool = False) -> list[RunOutcome]:
        """Settle the subscription's open run, then post its due period.

        `on_demand` (/digest now): a failed post is retried at once instead of after the retry
        delay, the period ends now instead of at the latest fire time, and a previous post
        still running is reported as a "busy" outcome instead of passed over in silence.
        """
        outcomes: list[RunOutcome] = []
        run = await self.library.run(self._open_run, sub_id)
        if run is not None:
            if not self._may_take_over(run, now, retry_failed_now=on_demand):
                return [await self._busy(run, now)] if on_demand else outcomes
            claim = await self.library.run(self._take_over, run, now)
            if claim is None:  # another process took it first: it is being posted now
                return [await self._busy(run, now, taken=True)] if on_demand else outcomes
            outcome = await self.deliver(claim, poster, find_posted=find_posted, recovering=True,
                                         retried=run.status == "failed", now=now)
            outcomes.append(outcome)
            if outcome.status == "failed":
                return outcomes
        period_end = now if on_demand else \
            await self.library.run(self._due_period_end, sub_id, now)
        if period_end is None:
            return outcomes
        claim = await self.library.run(self.claim, sub_id, period_end, now=now)
        if claim is not None:
            outcomes.append(await self.deliver(claim, poster, find_posted=find_posted, now=now))
        elif on_demand and not outcomes:
            # Another process claimed a period between our look and our claim.
            run = await self.library.run(self._open_run, sub_id)
            if run is not None:
                outcomes.append(await self._busy(run, now))
        return outcomes

    async def _busy(self, run: DigestRunRow, now: dt.datetime, *, taken: bool = False
                    ) -> RunOutcome:
        """The outcome saying the subscription's previous digest is still being posted;
        `taken`: another process has just taken the run over (its lease starts now)."""
        sub = await self.library.run(self.get_subscription, run.subscription_id, now)
        retry_at = now + self.lease if taken else self._retry_at(run)
        return RunOutcome(sub, run.id, "busy", None, retry_at=retry_at)

    async def deliver(self, claim: RunClaim, poster: DigestPoster, *,
                      find_posted: PostedFinder | None = None, recovering: bool = False,
                      retried: bool = False, now: dt.datetime | None = None) -> RunOutcome:
        """Compose a claimed period and post it (or mark it empty), then record the outcome.

        When `recovering` (the previous owner died or failed), the channel is asked first
        whether the run's messages are already there, and nothing is re-posted if so.
        `retried` (a failed post tried again) is passed through to the outcome.
        """
        now = self._now(now)
        sub = await self.library.run(self.get_subscription, claim.subscription_id, now)
        digest = await self.library.run(self.compose_run, claim)
        article_ids = [i.article_id for s in digest.sections for i in s.items]
        if digest.empty and not sub.post_when_empty:
            await self.library.run(self.mark_empty, claim.run_id, owner=claim.owner)
            return RunOutcome(sub, claim.run_id, "empty", digest, retried=retried)
        try:
            if recovering:
                found = await self._find_posted(find_posted, sub, claim)
                if found:
                    await self.library.run(self.mark_posted, claim.run_id, found, owner=claim.owner, now=now)
                    return RunOutcome(sub, claim.run_id, "recovered", digest, tuple(found),
                                      retried=retried)
            message_ids = await self._with_heartbeat(claim, now,
                                                     poster(sub.channel_id, digest, claim.run_id))
        except DeliveryInterrupted as exc:
            # A stop, not a failure: the run stays claimed by this (soon dead) owner, so the
            # next start takes it over at once and completes or re-posts it.
            log.info("digest run #%d to channel %d interrupted: %s", claim.run_id,
                     sub.channel_id, exc)
            return RunOutcome(sub, claim.run_id, "interrupted", digest, error=str(exc),
                              retried=retried)
        except ChannelGone as exc:
            # Every retry would fail the same way: stop the subscription, drop the run.
            log.warning("digest run #%d: channel %d is gone; subscription #%d stopped", claim.run_id,
                        sub.channel_id, sub.id)
            await self.library.run(self._stop_gone, claim, str(exc))
            return RunOutcome(sub, claim.run_id, "failed", digest, error=str(exc),
                              retried=retried, stopped=True)
        except KnowledgeError as exc:
            # Its message is meant for people (the poster says what to do): stored as is.
            log.warning("digest run #%d to channel %d failed: %s", claim.run_id, sub.channel_id,
                        exc)
            return await self._failed(claim, sub, digest, str(exc), retried=retried)
        except Exception:
            # A bug: /digest list and the CLI's listing show the stored error to server admins,
            # so the class, text and traceback (a host, a user, SQL) go to the operator's log.
            log.exception("digest run #%d to channel %d failed unexpectedly", claim.run_id,
                          sub.channel_id)
            return await self._failed(claim, sub, digest, INTERNAL_ERROR, retried=retried,
                                      unexpected=True)
        await self.library.run(self.mark_posted, claim.run_id, message_ids, article_ids=article_ids,
                               owner=claim.owner, now=now)
        return RunOutcome(sub, claim.run_id, "posted", digest, tuple(message_ids),
                          retried=retried)

    async def _failed(self, claim: RunClaim, sub: Subscription, digest: Digest, error: str, *,
                      retried: bool, unexpected: bool = False) -> RunOutcome:
        """Mark the run failed with `error` (retried after `retry_after`) and say so."""
        await self.library.run(self.mark_failed, claim.run_id, error, owner=claim.owner)
        run = await self.library.run(self._run_row, claim.run_id)
        return RunOutcome(sub, claim.run_id, "failed", digest, error=error, retried=retried,
                          unexpected=unexpected,
                          retry_at=self._retry_at(run) if run is not None else None)

    def _stop_gone(self, claim: RunClaim, error: str) -> None:
        """The channel is gone: the run is dropped (with why) and the subscription stopped."""
        with self.library.write() as session:
            session.execute(update(DigestRunRow)
                            .where(DigestRunRow.id == claim.run_id,
                                   DigestRunRow.claimed_by == claim.owner)
                            .values(status="dropped", error=error[:2000])
                            .execution_options(synchronize_session=False))
            session.execute(update(DigestSubscriptionRow)
                            .where(DigestSubscriptionRow.id == claim.subscription_id)
                            .values(active=False)
                            .execution_options(synchronize_session=False))
        self._changed([claim.subscription_id])

    @staticmethod
    async def _find_posted(find_posted: PostedFinder | None, sub: Subscription,
                           claim: RunClaim) -> list[int] | None:
        if find_posted is None:
            log.warning("digest run #%d: its owner died and no finder was given, so it is "
                        "posted again (it may appear twice)", claim.run_id)
            return None
        return await find_posted(sub.channel_id, claim.run_id,
                                 claim.period_end - FINDER_CLOCK_MARGIN)

    async def _with_heartbeat(self, claim: RunClaim, now: dt.datetime,
                              posting: Awaitable[list[int]]) -> list[int]:
        """Await the poster while renewing the claim, so a slow post is not taken over."""
        started = time.monotonic()

        async def beat() -> None:
            while True:
                await asyncio.sleep(max(self.lease.total_seconds() / 3, 0.05))
                renewed = now + dt.timedelta(seconds=time.monotonic() - started)
                try:
                    await self.library.run(self._renew, claim, renewed)
                except Exception:
                    log.warning("could not renew digest run #%d", claim.run_id, exc_info=True)

        task = asyncio.create_task(beat())
        try:
            return list(await posting)
        finally:
            task.cancel()

    def _renew(self, claim: RunClaim, at: dt.datetime) -> None:
        with self.library.write() as session:
            session.execute(update(DigestRunRow)
                            .where(DigestRunRow.id == claim.run_id, DigestRunRow.status == "claimed",
                                   DigestRunRow.claimed_by == claim.owner)
                            .values(claimed_at=at).execution_options(synchronize_session=False))

    async def run_now(self, guild_id: int, poster: DigestPoster, *,
                      find_posted: PostedFinder | None = None, now: dt.datetime | None = None
                      ) -> list[RunOutcome]:
        """/digest now: for each of the guild's channels, retry a failed post at once (an
        explicit request is the time to try again), then claim a period ending now and deliver
        it exactly as a scheduled digest is delivered (claim, heartbeat, mark). A channel whose
        previous digest is still being posted gets a "busy" outcome saying when it would be
        taken over. NotFound when the guild has no digest channel."""
        now = self._now(now)
        subs = await self.library.run(self.subscriptions, guild_id)
        if not subs:
            raise NotFound("this server has no digest channel yet (set one with /digest set)")
        outcomes: list[RunOutcome] = []
        for sub in subs:
            outcomes.extend(await self._run_subscription(sub.id, poster, find_posted, now,
                                                         on_demand=True))
        return outcomes

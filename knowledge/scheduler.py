"""Background jobs: digests on their cron schedules, feed polling and index refresh.

APScheduler 3 (AsyncIOScheduler). Digest jobs live in the project's database
(SQLAlchemyJobStore, table `apscheduler_jobs`, created by the Alembic migration), one per
subscription; per-process jobs (maintenance, feed polling, index refresh) live in memory, since
every process must run its own. Job functions are module-level and referenced as text
("knowledge.scheduler:digest_job"), so the persistent store can pickle them; they find the
running `JobScheduler` through `_active`. Duplicate or missed job runs are harmless: the
digest claim in the database decides who posts, and the maintenance job posts any due
period a crashed process left behind.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from knowledge.digests.schedule import cron_trigger
from knowledge.digests.types import DigestPoster, PostedFinder, RunOutcome
from knowledge.errors import BadInput
from knowledge.notices import AdminNotifier, notify_admins
from knowledge.store.tables import utcnow
from knowledge.visibility import EVERYTHING

if TYPE_CHECKING:
    from knowledge.service import KnowledgeService

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
DB_STORE = "db"
MEMORY_STORE = "default"
DIGEST_JOB_PREFIX = "digest:"
MAINTENANCE_JOB = "maintenance"
FEED_POLL_JOB = "feed-poll"
INDEX_REFRESH_JOB = "index-refresh"
# How long shutdown lets jobs already running finish before cancelling them.
SHUTDOWN_GRACE_SECONDS = 5.0

_active: JobScheduler | None = None  # the scheduler job functions act for (one per process)


class SharedJobStore(SQLAlchemyJobStore):
    """The SQLAlchemy job store, tolerant of other processes changing the same table.

    APScheduler 3 assumes it owns its store; with two bot processes a job can vanish between
    read and update, and an exception there would stop this scheduler's wake-ups.
    """

    def update_job(self, job: Any) -> None:
        """Update a job; a job removed meanwhile by another process is not an error."""
        try:
            super().update_job(job)
        except JobLookupError:
            log.debug("job %s was removed by another process", job.id)
        except SQLAlchemyError:
            log.warning("could not update job %s in the job store", job.id, exc_info=True)

    def get_next_run_time(self) -> dt.datetime | None:
        """Earliest next run time; None when the database cannot be read right now (the
        in-memory maintenance job wakes the scheduler again within a minute)."""
        try:
            return super().get_next_run_time()  # type: ignore[no-any-return]
        except SQLAlchemyError:
            log.warning("could not read the job store", exc_info=True)
            return None


class _AsyncIOScheduler(AsyncIOScheduler):
    """AsyncIOScheduler whose wake-ups are harmless once it has shut down.

    In APScheduler 3 a wake-up queued just before shutdown runs after the event loop reference
    was cleared and logs an AttributeError from asyncio; this version ignores it.
    """

    def wakeup(self) -> None:
        """Process due jobs soon (thread-safe); nothing once shut down."""
        loop = self._eventloop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._wakeup_now)

    def _wakeup_now(self) -> None:
        if self._eventloop is None or self.state == STATE_STOPPED:
            return
        self._stop_timer()
        self._start_timer(self._process_jobs())


class JobScheduler:
    """Runs the library's background jobs for one process; the bot starts and stops it."""

    def __init__(self, service: KnowledgeService, poster: DigestPoster,
                 notifier: AdminNotifier | None = None, clock: Clock = utcnow, *,
                 find_posted: PostedFinder | None = None, feed_poll_seconds: float = 60,
                 index_refresh_seconds: float | None = None,
                 maintenance_seconds: float | None = None) -> None:
        self.service = service
        self.poster = poster
        self.notifier = notifier
        self.find_posted = find_posted
        self.clock = clock
        self.feed_poll_seconds = feed_poll_seconds
        # Unset intervals come from SCHEDULER_REFRESH_SECONDS / SCHEDULER_MAINTENANCE_SECONDS.
        settings = service.settings
        self.index_refresh_seconds = index_refresh_seconds if index_refresh_seconds is not None \
            else settings.scheduler_refresh_seconds
        self.maintenance_seconds = maintenance_seconds if maintenance_seconds is not None \
            else settings.scheduler_maintenance_seconds
        self._scheduler: AsyncIOScheduler | None = None
        self._digest_lock = asyncio.Lock()
        self._catch_up_task: asyncio.Task[list[RunOutcome]] | None = None
        self._running_jobs: set[asyncio.Task[Any]] = set()

    @property
    def running(self) -> bool:
        """Whether `start` has run and `shutdown` has not."""
        return self._scheduler is not None

    @property
    def engine(self) -> Engine:
        """The service's database engine (the job store shares it)."""
        return self.service.library.engine

    # ----- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        """Start the jobs, and catch up in the background: recover stale claims and post each
        missed period once (`wait_caught_up` awaits it).

        The catch-up is not awaited here: the bot starts the scheduler in `setup_hook`, before
        the gateway is ready, and its poster waits for ready.
        """
        global _active
        if _active is not None and _active is not self:
            raise RuntimeError("another JobScheduler is already running in this process")
        _active = self
        scheduler = _AsyncIOScheduler(
            timezone=dt.UTC,
            jobstores={MEMORY_STORE: MemoryJobStore(),
                       DB_STORE: SharedJobStore(engine=self.engine, tablename="apscheduler_jobs")},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )
        scheduler.start(paused=True)
        self._scheduler = scheduler
        try:
            await self.service.run(self.sync_jobs)
        except Exception:
            log.exception("could not sync digest jobs at start-up (retried every %.0f s)",
                          self.maintenance_seconds)
        for job_id, func, seconds in (
                (MAINTENANCE_JOB, maintenance_job, self.maintenance_seconds),
                (FEED_POLL_JOB, feed_poll_job, self.feed_poll_seconds),
                (INDEX_REFRESH_JOB, index_refresh_job, self.index_refresh_seconds)):
            scheduler.add_job(_ref(func), IntervalTrigger(seconds=seconds, timezone=dt.UTC),
                              id=job_id, jobstore=MEMORY_STORE, replace_existing=True)
        self.service.digests.add_listener(self._on_subscriptions_changed)
        self._catch_up_task = asyncio.create_task(self.catch_up(), name="digest catch-up")
        scheduler.resume()
        log.info("scheduler started: %d digest jobs", len(self.digest_job_ids()))

    async def wait_caught_up(self) -> list[RunOutcome]:
        """What the start-up catch-up did, once it has finished."""
        if self._catch_up_task is None:
            return []
        return await asyncio.shield(self._catch_up_task)

    async def shutdown(self) -> None:
        """Stop the jobs (a digest interrupted mid-post is recovered at the next start)."""
        global _active
        scheduler, self._scheduler = self._scheduler, None
        self.service.digests.remove_listener(self._on_subscriptions_changed)
        task, self._catch_up_task = self._catch_up_task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler applies the shutdown on the next loop turn
        await self._settle_running_jobs()
        if _active is self:
            _active = None
        log.info("scheduler stopped")

    async def _settle_running_jobs(self) -> None:
        """Let jobs already running finish (briefly), then cancel the rest.

        APScheduler runs each job as a task nobody awaits; left running, the event loop's
        teardown cancels it and APScheduler logs the CancelledError as a failed job.
        """
        running = [task for task in self._running_jobs if not task.done()]
        if not running:
            return
        _, pending = await asyncio.wait(running, timeout=SHUTDOWN_GRACE_SECONDS)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    # ----- digest jobs ---------------------------------------------------------------------
    def digest_job_ids(self) -> list[str]:
        """Ids of the digest jobs in the persistent store."""
        if self._scheduler is None:
            return []
        return sorted(j.id for j in self._scheduler.get_jobs(jobstore=DB_STORE)
                      if j.id.startswith(DIGEST_JOB_PREFIX))

    def sync_jobs(self) -> None:
        """Make the stored digest jobs match the active subscriptions (any process's)."""
        scheduler = self._scheduler
        if scheduler is None:
            return
        wanted = {f"{DIGEST_JOB_PREFIX}{s.id}": s
                  for s in self.service.digests.subscriptions(EVERYTHING, now=self.clock())}
        existing = {j.id: j for j in scheduler.get_jobs(jobstore=DB_STORE)
                    if j.id.startswith(DIGEST_JOB_PREFIX)}
        for job_id in existing.keys() - wanted.keys():
            try:
                scheduler.remove_job(job_id, jobstore=DB_STORE)
                log.info("removed job %s", job_id)
            except JobLookupError:
                pass  # another process removed it first
        for job_id, sub in wanted.items():
            try:
                trigger = cron_trigger(sub.schedule, sub.timezone)
            except BadInput as exc:
                log.error("digest subscription #%d: %s", sub.id, exc)
                continue
            job = existing.get(job_id)
            if job is not None and _same_trigger(job.trigger, trigger):
                continue  # keep its next run time (a missed run still fires, coalesced)
            scheduler.add_job(_ref(digest_job), trigger, args=(sub.id,), id=job_id,
                              jobstore=DB_STORE, replace_existing=True, coalesce=True,
                              misfire_grace_time=None, max_instances=1,
                              name=f"digest for channel {sub.channel_id}")
            log.info("scheduled %s at %r (%s)", job_id, sub.schedule, sub.timezone)

    def _on_subscriptions_changed(self, subscription_ids: list[int]) -> None:
        try:
            self.sync_jobs()
        except Exception:
            log.exception("could not update digest jobs for subscriptions %s", subscription_ids)

    async def run_digests(self, subscription_id: int | None = None) -> list[RunOutcome]:
        """One digest pass (all subscriptions, or one); admins hear of failed posts once."""
        async with self._digest_lock:  # a pass at a time in this process
            outcomes = await self.service.digests.run_due(
                self.poster, find_posted=self.find_posted, now=self.clock(),
                subscription_id=subscription_id)
        for outcome in outcomes:
            if outcome.status == "failed" and (not outcome.retried or outcome.stopped):
                await self.notify(outcome.subscription.guild_id, self.failure_notice(outcome))
        return outcomes

    def failure_notice(self, outcome: RunOutcome) -> str:
        """What admins are told, once, of a digest that could not be posted: one message
        saying what happened and what to do, and a retry only when one can succeed."""
        where = f"<#{outcome.subscription.channel_id}>"
        if outcome.stopped and outcome.error:
            return outcome.error  # the channel is gone: the subscription is stopped
        minutes = self.service.digests.retry_after.total_seconds() / 60
        retry = f"I will also try again by myself every {minutes:g} minutes."
        if outcome.unexpected or not outcome.error:
            # A bug: its class and traceback are in the operator's log (digests.service).
            return (f"The digest for {where} could not be posted because of an internal error "
                    f"(see the bot's log). {retry}")
        # A KnowledgeError's message is meant for people; the bot's names the channel.
        error = outcome.error.rstrip()
        if where not in error:
            error = f"The digest for {where} could not be posted: {error}"
        return f"{error}{'' if error.endswith(('.', '!', '?')) else '.'} {retry}"

    async def catch_up(self) -> list[RunOutcome]:
        """Recover stale claims and post every missed period once (used at start-up)."""
        try:
            outcomes = await self.run_digests()
        except Exception:
            log.exception("digest catch-up failed (retried every %.0f s)",
                          self.maintenance_seconds)
            return []
        log.info("digest catch-up finished: %s", ", ".join(
            f"run #{o.run_id} {o.status}" for o in outcomes) or "nothing was due")
        return outcomes

    async def notify(self, guild_id: int | None, message: str) -> None:
        """Tell a guild's admins, if a notifier was given; never raises."""
        await notify_admins(self.notifier, guild_id, message)

    # ----- other jobs ----------------------------------------------------------------------
    async def poll_feeds(self) -> None:
        """Poll the feeds that are due (failures reach the admins through the sources' notifier)."""
        await self.service.sources.poll_due(now=self.clock())

    async def refresh_index(self) -> int:
        """Make articles other processes stored searchable here."""
        return await self.service.run(self.service.refresh)

    async def maintenance(self) -> None:
        """Safety net every `maintenance_seconds` (a minute by default): pick up subscriptions
        other processes made, and post any due period whose job ran nowhere (a crash after
        APScheduler advanced it)."""
        await self.service.run(self.sync_jobs)
        await self.run_digests()


def _same_trigger(a: Any, b: Any) -> bool:
    return str(a) == str(b) and str(getattr(a, "timezone", "")) == str(
        getattr(b, "timezone", ""))


def _ref(func: Callable[..., Any]) -> str:
    return f"{func.__module__}:{func.__qualname__}"


async def _in_scheduler(name: str, action: Callable[[JobScheduler], Any]) -> None:
    """Run a job's action on the active scheduler; log (never raise) any failure."""
    scheduler = _active
    if scheduler is None:
        log.warning("job %s ran with no active JobScheduler in this process", name)
        return
    task = asyncio.current_task()
    if task is not None:
        scheduler._running_jobs.add(task)
    try:
        await action(scheduler)
    except asyncio.CancelledError:
        if scheduler.running:
            raise
        # Cancelled by shutdown: an interrupted digest is recovered at the next start.
        log.info("job %s stopped by shutdown", name)
    except Exception:
        log.exception("job %s failed", name)
    finally:
        if task is not None:
            scheduler._running_jobs.discard(task)


async def digest_job(subscription_id: int) -> None:
    """Job: post a subscription's due digest (scheduled at its cron times)."""
    await _in_scheduler(f"{DIGEST_JOB_PREFIX}{subscription_id}",
                        lambda s: s.run_digests(subscription_id))


async def maintenance_job() -> None:
    """Job: sync digest jobs and post any period left due."""
    await _in_scheduler(MAINTENANCE_JOB, lambda s: s.maintenance())


async def feed_poll_job() -> None:
    """Job: poll due feeds."""
    await _in_scheduler(FEED_POLL_JOB, lambda s: s.poll_feeds())


async def index_refresh_job() -> None:
    """Job: load passages other processes stored."""
    await _in_scheduler(INDEX_REFRESH_JOB, lambda s: s.refresh_index())

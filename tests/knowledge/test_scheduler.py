"""JobScheduler: persistent digest jobs, catch-up at start, job functions, failure handling."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import text

from knowledge import scheduler as scheduling
from knowledge.errors import DeliveryFailed
from knowledge.scheduler import JobScheduler
from knowledge.service import KnowledgeService
from knowledge.sources import FetchSettings
from knowledge.store.tables import SourceRow
from tests.knowledge.digests.helpers import (
    DAILY_9,
    FakeChannels,
    FakeClock,
    add_article,
    at,
    covered_until,
)


class Notices:
    """An AdminNotifier that records what admins were told."""

    def __init__(self) -> None:
        self.sent: list[tuple[int | None, str]] = []

    async def __call__(self, guild_id: int | None, message: str, *,
                       added_by: str | None = None) -> None:
        self.sent.append((guild_id, message))


@pytest.fixture
def notices() -> Notices:
    """Recorded admin notices."""
    return Notices()


@pytest.fixture
async def make_scheduler(hashing_service: KnowledgeService, channels: FakeChannels,
                         clock: FakeClock, notices: Notices
                         ) -> AsyncIterator[Callable[..., JobScheduler]]:
    """Build JobSchedulers on the test service (shut down at the end)."""
    made: list[JobScheduler] = []

    def make(service: KnowledgeService = hashing_service, **kwargs: Any) -> JobScheduler:
        options: dict[str, Any] = {"find_posted": channels.find, **kwargs}
        scheduler = JobScheduler(service, channels.post, notices, clock, **options)
        made.append(scheduler)
        return scheduler

    yield make
    for scheduler in made:
        await scheduler.shutdown()


def stored_job_ids(service: KnowledgeService) -> list[str]:
    """Job ids in the apscheduler_jobs table."""
    with service.library.read() as session:
        return sorted(session.scalars(text("SELECT id FROM apscheduler_jobs")))


async def test_one_persistent_job_per_subscription(hashing_service: KnowledgeService,
                                                   make_scheduler: Callable[..., JobScheduler]
                                                   ) -> None:
    """Each subscription gets a cron job in apscheduler_jobs, referenced by text; the
    per-process jobs stay in memory."""
    one = hashing_service.digests.subscribe(1, 10, DAILY_9, "Asia/Tokyo")
    two = hashing_service.digests.subscribe(2, 20, "30 7 * * 1")
    scheduler = make_scheduler()
    await scheduler.start()
    assert stored_job_ids(hashing_service) == [f"digest:{one.id}", f"digest:{two.id}"]
    assert scheduler._scheduler is not None
    job = scheduler._scheduler.get_job(f"digest:{one.id}", jobstore=scheduling.DB_STORE)
    assert job.func_ref == "knowledge.scheduler:digest_job"
    assert job.args == (one.id,)
    assert str(job.trigger.timezone) == "Asia/Tokyo"
    assert (job.coalesce, job.misfire_grace_time, job.max_instances) == (True, None, 1)
    memory = {j.id for j in scheduler._scheduler.get_jobs(jobstore=scheduling.MEMORY_STORE)}
    assert memory == {scheduling.MAINTENANCE_JOB, scheduling.FEED_POLL_JOB,
                      scheduling.INDEX_REFRESH_JOB}


async def test_subscription_changes_update_the_jobs(hashing_service: KnowledgeService,
                                                    make_scheduler: Callable[..., JobScheduler]
                                                    ) -> None:
    """/digest set adds (or reschedules) the job at once; /digest off removes it."""
    scheduler = make_scheduler()
    await scheduler.start()
    sub = hashing_service.digests.subscribe(1, 10, DAILY_9)
    assert scheduler.digest_job_ids() == [f"digest:{sub.id}"]
    hashing_service.digests.subscribe(1, 10, "15 18 * * *", "Europe/Moscow")
    assert scheduler._scheduler is not None
    job = scheduler._scheduler.get_job(f"digest:{sub.id}", jobstore=scheduling.DB_STORE)
    assert "hour='18'" in str(job.trigger) and str(job.trigger.timezone) == "Europe/Moscow"
    hashing_service.digests.unsubscribe(1)
    assert scheduler.digest_job_ids() == []
    assert stored_job_ids(hashing_service) == []


async def test_start_posts_one_coalesced_digest_after_downtime(
        hashing_service: KnowledgeService, make_scheduler: Callable[..., JobScheduler],
        channels: FakeChannels, clock: FakeClock) -> None:
    """The bot was down over two 09:00s: on start it posts ONE digest with both days' news;
    restarting again posts nothing more."""
    service = hashing_service
    sub = service.digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    first = add_article(service, "Day one", at(1, 12))
    second = add_article(service, "Day two", at(2, 12))
    clock.set(at(3, 12))
    scheduler = make_scheduler()
    await scheduler.start()
    outcomes = await scheduler.wait_caught_up()
    assert [o.status for o in outcomes] == ["posted"]
    assert channels.article_ids() == [[first, second]]
    assert covered_until(service, sub.id) == at(3, 9)
    await scheduler.shutdown()
    again = make_scheduler()
    await again.start()
    assert await again.wait_caught_up() == []
    assert len(channels.posts) == 1


async def test_start_recovers_a_stale_claim_without_reposting(
        hashing_service: KnowledgeService, second_service: KnowledgeService,
        make_scheduler: Callable[..., JobScheduler], channels: FakeChannels,
        clock: FakeClock) -> None:
    """A claim left by a crashed process is settled at start: its message is found, not
    posted again."""
    crashed = second_service.digests
    sub = crashed.subscribe(1, 10, DAILY_9, now=at(1, 8))
    add_article(hashing_service, "Posted just before the crash", at(1, 8, 30))
    claim = crashed.claim(sub.id, at(1, 9), now=at(1, 9))
    assert claim is not None
    digest = await asyncio.to_thread(crashed.compose_run, claim)
    await channels.post(10, digest, claim.run_id)
    clock.set(at(1, 9) + crashed.lease + dt.timedelta(minutes=1))
    scheduler = make_scheduler()
    await scheduler.start()
    (outcome,) = await scheduler.wait_caught_up()
    assert outcome.status == "recovered"
    assert len(channels.posts) == 1


async def test_job_functions_act_through_the_running_scheduler(
        hashing_service: KnowledgeService, make_scheduler: Callable[..., JobScheduler],
        channels: FakeChannels, clock: FakeClock) -> None:
    """digest_job(sub_id), as APScheduler calls it from the store, posts the due digest."""
    sub = hashing_service.digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    scheduler = make_scheduler()
    await scheduler.start()
    await scheduler.wait_caught_up()
    article = add_article(hashing_service, "Posted by the job", at(1, 8, 30))
    clock.set(at(1, 9, 0, 1))
    await scheduling.digest_job(sub.id)
    assert channels.article_ids() == [[article]]


async def test_job_without_a_running_scheduler_only_logs(caplog: pytest.LogCaptureFixture
                                                         ) -> None:
    """A stored job firing in a process with no scheduler does nothing and says so."""
    with caplog.at_level(logging.WARNING, logger="knowledge.scheduler"):
        await scheduling.digest_job(1)
    assert "no active JobScheduler" in caplog.text


async def test_apscheduler_runs_the_maintenance_job(
        hashing_service: KnowledgeService, make_scheduler: Callable[..., JobScheduler],
        channels: FakeChannels, clock: FakeClock) -> None:
    """With a short interval, APScheduler itself fires the maintenance job, which posts a
    period that became due after start-up."""
    sub = hashing_service.digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    scheduler = make_scheduler(maintenance_seconds=0.05)
    await scheduler.start()
    await scheduler.wait_caught_up()
    article = add_article(hashing_service, "Found by maintenance", at(1, 8, 30))
    clock.set(at(1, 9, 1))
    async with asyncio.timeout(5):
        await channels.posted.wait()
    await scheduler.run_digests()  # waits for the job's pass to finish recording the post
    assert channels.article_ids() == [[article]]
    assert covered_until(hashing_service, sub.id) == at(1, 9)


async def test_failed_post_tells_admins_once_and_the_scheduler_keeps_running(
        hashing_service: KnowledgeService, make_scheduler: Callable[..., JobScheduler],
        clock: FakeClock, notices: Notices) -> None:
    """Discord refusing the post: admins hear once (not on every retry); jobs keep running."""
    sub = hashing_service.digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    add_article(hashing_service, "Undeliverable", at(1, 8, 30))
    down = FakeChannels(fail=True)
    scheduler = JobScheduler(hashing_service, down.post, notices, clock, find_posted=down.find)
    await scheduler.start()
    try:
        await scheduler.wait_caught_up()
        clock.set(at(1, 9, 0, 1))
        await scheduler.run_digests()
        clock.set(at(1, 9) + 3 * hashing_service.digests.retry_after)
        await scheduler.run_digests()
        assert len(notices.sent) == 1
        guild, message = notices.sent[0]
        # Not a KnowledgeError: a bug or an outage the operator reads about in the log.
        assert guild == 1 and "<#10>" in message and "see the bot's log" in message
        assert scheduler.running
        down.fail = False
        clock.set(at(1, 9) + 6 * hashing_service.digests.retry_after)
        await scheduler.run_digests()
        assert len(down.posts) == 1
        assert covered_until(hashing_service, sub.id) == at(1, 9)
    finally:
        await scheduler.shutdown()


async def test_failure_notices_keep_user_messages_and_hide_exception_classes(
        hashing_service: KnowledgeService, clock: FakeClock, notices: Notices,
        caplog: pytest.LogCaptureFixture) -> None:
    """A poster's DeliveryFailed reaches admins as written; an unexpected exception reaches
    them as "an internal error", its class and text only in the operator's log."""
    hashing_service.digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    hashing_service.digests.subscribe(2, 20, DAILY_9, now=at(1, 8))
    add_article(hashing_service, "Undeliverable", at(1, 8, 30))

    async def post(channel_id: int, digest: Any, run_id: int) -> list[int]:
        if channel_id == 10:
            raise DeliveryFailed("the bot may not post in that channel")
        raise AttributeError("'NoneType' object has no attribute 'send'")

    scheduler = JobScheduler(hashing_service, post, notices, clock,
                             find_posted=FakeChannels().find)
    await scheduler.start()
    try:
        await scheduler.wait_caught_up()
        clock.set(at(1, 9, 0, 1))
        with caplog.at_level(logging.WARNING, logger="knowledge.digests"):
            await scheduler.run_digests()
    finally:
        await scheduler.shutdown()
    assert sorted(notices.sent) == [
        (1, "The digest for <#10> could not be posted: the bot may not post in that channel. "
            "I will also try again by myself every 5 minutes."),
        (2, "The digest for <#20> could not be posted because of an internal error (see the "
            "bot's log). I will also try again by myself every 5 minutes."),
    ]
    assert "AttributeError: 'NoneType' object has no attribute 'send'" in caplog.text


async def test_a_failing_job_is_logged_not_raised(
        hashing_service: KnowledgeService, make_scheduler: Callable[..., JobScheduler],
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """An exception inside a job is logged with the job's name and never propagates."""
    scheduler = make_scheduler()
    await scheduler.start()
    await scheduler.wait_caught_up()

    def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(hashing_service, "refresh", broken)
    with caplog.at_level(logging.ERROR, logger="knowledge.scheduler"):
        await scheduling.index_refresh_job()
    assert "job index-refresh failed" in caplog.text and "database on fire" in caplog.text
    assert scheduler.running


async def test_index_refresh_job_picks_up_articles_from_other_processes(
        hashing_service: KnowledgeService, second_service: KnowledgeService,
        make_scheduler: Callable[..., JobScheduler]) -> None:
    """An article stored by another process becomes searchable here after the refresh job."""
    scheduler = make_scheduler()
    await scheduler.start()
    article = add_article(second_service, "Stored elsewhere", at(1, 9))
    assert article not in hashing_service.index.articles
    await scheduling.index_refresh_job()
    assert article in hashing_service.index.articles


async def test_feed_poll_job_polls_due_feeds_at_the_clock_time(
        hashing_service: KnowledgeService, make_scheduler: Callable[..., JobScheduler],
        clock: FakeClock) -> None:
    """The feed job polls every due feed through the real sources service, at the scheduler's
    clock time: an unreachable feed is recorded as failed and its next poll pushed back."""
    hashing_service.sources.fetch_settings = FetchSettings(
        connect_timeout=0.5, read_timeout=0.5, total_timeout=2.0, max_bytes=100_000,
        allowed_addresses=frozenset({"127.0.0.1"}))
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with hashing_service.library.write() as session:
        row = SourceRow(kind="feed", url=f"http://127.0.0.1:{port}/feed.xml", active=True,
                     added_at=clock(), next_poll_at=clock() - dt.timedelta(minutes=1))
        session.add(row)
        session.flush()
        source_id = row.id
    scheduler = make_scheduler()
    await scheduler.start()
    await scheduling.feed_poll_job()
    with hashing_service.library.read() as session:
        polled = session.get(SourceRow, source_id)
        assert polled is not None and polled.last_error and polled.consecutive_failures == 1
        assert polled.next_poll_at is not None and polled.next_poll_at > clock()


async def test_a_job_running_at_shutdown_is_settled_without_an_error(
        hashing_service: KnowledgeService, make_scheduler: Callable[..., JobScheduler],
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """shutdown() waits briefly for a job in flight, then cancels it; the job ends quietly
    instead of leaving a task the event loop's teardown cancels (which APScheduler logs as a
    failed job with a traceback)."""
    scheduler = make_scheduler()
    await scheduler.start()
    await scheduler.wait_caught_up()
    started = asyncio.Event()

    async def endless(*args: Any, **kwargs: Any) -> int:
        started.set()
        await asyncio.Event().wait()
        return 0

    monkeypatch.setattr(scheduler, "refresh_index", endless)
    monkeypatch.setattr(scheduling, "SHUTDOWN_GRACE_SECONDS", 0.05)
    job = asyncio.create_task(scheduling.index_refresh_job())  # as APScheduler runs it
    await started.wait()
    with caplog.at_level(logging.INFO, logger="knowledge.scheduler"):
        await scheduler.shutdown()
    assert job.done() and not job.cancelled() and job.exception() is None
    assert "job index-refresh stopped by shutdown" in caplog.text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []

"""Each digest period is posted exactly once: claims, races, crashes, outages, failures."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import update

from knowledge.errors import INTERNAL_ERROR
from knowledge.service import KnowledgeService
from knowledge.store.tables import DigestRunRow
from tests.knowledge.digests.helpers import (
    DAILY_9,
    FakeChannels,
    add_article,
    at,
    covered_until,
    runs,
)


async def test_a_period_is_claimed_once(hashing_service: KnowledgeService) -> None:
    """The second claim of the same period (or of any period while one is open) gets None."""
    digests = hashing_service.digests
    sub = digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    claim = digests.claim(sub.id, at(1, 9), "process-a", now=at(1, 9))
    assert claim is not None
    assert (claim.period_start, claim.period_end, claim.owner) == (at(1, 8), at(1, 9),
                                                                   "process-a")
    assert digests.claim(sub.id, at(1, 9), "process-b", now=at(1, 9)) is None
    assert digests.claim(sub.id, at(2, 9), "process-b", now=at(2, 9)) is None


async def test_claims_insert_under_the_unique_period_constraint(
        hashing_service: KnowledgeService) -> None:
    """A period already in digest_runs cannot be claimed again, even after it was resolved."""
    digests = hashing_service.digests
    sub = digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    claim = digests.claim(sub.id, at(1, 9), now=at(1, 9))
    assert claim is not None
    assert digests.mark_posted(claim.run_id, [77])
    assert covered_until(hashing_service, sub.id) == at(1, 9)
    assert digests.claim(sub.id, at(1, 9), now=at(1, 9)) is None
    (run,) = runs(hashing_service)
    assert (run.status, run.message_ids) == ("posted", [77])


async def test_due_digest_is_posted_then_not_again(hashing_service: KnowledgeService,
                                                   channels: FakeChannels) -> None:
    """At 09:00 the day's articles are posted once; later passes post nothing more."""
    service = hashing_service
    sub = service.digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    article = add_article(service, "Morning news", at(1, 8, 30))
    assert await service.digests.run_due(channels.post, now=at(1, 8, 59)) == []
    (outcome,) = await service.digests.run_due(channels.post, now=at(1, 9, 0, 1))
    assert outcome.status == "posted"
    assert channels.article_ids() == [[article]]
    assert channels.posts[0].channel_id == 10 and channels.posts[0].digest.run_id == \
        outcome.run_id
    assert await service.digests.run_due(channels.post, now=at(1, 9, 5)) == []
    assert await service.digests.run_due(channels.post, now=at(2, 9, 5)) != []  # empty run
    assert len(channels.posts) == 1
    assert covered_until(service, sub.id) == at(2, 9)


async def test_nothing_is_posted_when_nothing_is_new(hashing_service: KnowledgeService,
                                                     channels: FakeChannels) -> None:
    """An empty period is recorded as empty (so it is not retried) and nothing is posted."""
    service = hashing_service
    sub = service.digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    (outcome,) = await service.digests.run_due(channels.post, now=at(1, 9, 1))
    assert outcome.status == "empty"
    assert channels.posts == []
    assert [r.status for r in runs(service)] == ["empty"]
    assert covered_until(service, sub.id) == at(1, 9)


async def test_empty_digests_are_posted_when_the_channel_asks(
        hashing_service: KnowledgeService, channels: FakeChannels) -> None:
    """With post_when_empty, a 'nothing new' digest is posted."""
    service = hashing_service
    service.digests.subscribe(1, 10, DAILY_9, post_when_empty=True, now=at(1, 8))
    (outcome,) = await service.digests.run_due(channels.post, now=at(1, 9, 1))
    assert outcome.status == "posted"
    assert len(channels.posts) == 1 and channels.posts[0].digest.empty


async def test_two_services_racing_post_each_period_once(
        hashing_service: KnowledgeService, second_service: KnowledgeService,
        channels: FakeChannels) -> None:
    """Two processes' services on one database, both due at once: one post per period."""
    sub = hashing_service.digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    for day in range(1, 6):
        add_article(hashing_service, f"News of day {day}", at(day, 8, 30))
        now = at(day, 9, 0, 1)
        await asyncio.gather(hashing_service.digests.run_due(channels.post, now=now),
                             second_service.digests.run_due(channels.post, now=now))
    assert len(channels.posts) == 5
    assert [len(ids) for ids in channels.article_ids()] == [1, 1, 1, 1, 1]
    assert [r.status for r in runs(hashing_service)] == ["posted"] * 5
    assert covered_until(hashing_service, sub.id) == at(5, 9)


async def test_run_now_racing_the_schedule_never_overlaps(
        hashing_service: KnowledgeService, second_service: KnowledgeService,
        channels: FakeChannels) -> None:
    """/digest now in one process while the 09:00 job runs in another: each article once."""
    service = hashing_service
    service.digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    article = add_article(service, "Announced once", at(1, 8, 30))
    now = at(1, 9, 0, 1)
    await asyncio.gather(service.digests.run_now(1, channels.post, now=now),
                         second_service.digests.run_due(channels.post, now=now))
    await second_service.digests.run_due(channels.post, now=now)
    await service.digests.run_now(1, channels.post, now=now + dt.timedelta(minutes=1))
    announced = [aid for ids in channels.article_ids() for aid in ids]
    assert announced == [article]


async def test_bot_down_over_two_fire_times_posts_one_coalesced_digest(
        hashing_service: KnowledgeService, channels: FakeChannels) -> None:
    """Down from day 1 09:00 to day 3 12:00: one digest with both days' articles."""
    service = hashing_service
    sub = service.digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    await service.digests.run_due(channels.post, now=at(1, 9, 0, 1))  # empty, covers day 1
    first = add_article(service, "Missed on day 1", at(1, 12))
    second = add_article(service, "Missed on day 2", at(2, 12))
    later = add_article(service, "After day 3 09:00", at(3, 10))
    outcomes = await service.digests.run_due(channels.post, now=at(3, 12))
    assert [o.status for o in outcomes] == ["posted"]
    assert channels.article_ids() == [[first, second]]
    digest = channels.posts[0].digest
    assert (digest.period_start, digest.period_end) == (at(1, 9), at(3, 9))
    assert covered_until(service, sub.id) == at(3, 9)
    await service.digests.run_due(channels.post, now=at(4, 9, 0, 1))
    assert channels.article_ids() == [[first, second], [later]]


async def test_crash_after_posting_is_recovered_without_reposting(
        hashing_service: KnowledgeService, second_service: KnowledgeService,
        channels: FakeChannels) -> None:
    """Claimed, posted, then the process died before marking: the restart finds the message
    through find_posted and only records it."""
    crashed = hashing_service.digests
    sub = crashed.subscribe(1, 10, DAILY_9, now=at(1, 8))
    add_article(hashing_service, "Posted before the crash", at(1, 8, 30))
    claim = crashed.claim(sub.id, at(1, 9), now=at(1, 9))
    assert claim is not None
    digest = await asyncio.to_thread(crashed.compose_run, claim)
    (message_id,) = await channels.post(10, digest, claim.run_id)  # ...and then it died
    restarted = second_service.digests
    # Within the lease the claim is presumed alive (it is in this very process, PID alive).
    assert await restarted.run_due(channels.post, find_posted=channels.find,
                                   now=at(1, 9, 5)) == []
    after_lease = at(1, 9) + restarted.lease + dt.timedelta(seconds=1)
    (outcome,) = await restarted.run_due(channels.post, find_posted=channels.find,
                                         now=after_lease)
    assert outcome.status == "recovered" and outcome.message_ids == (message_id,)
    assert len(channels.posts) == 1
    (run,) = runs(hashing_service)
    assert (run.status, run.message_ids) == ("posted", [message_id])
    assert covered_until(hashing_service, sub.id) == at(1, 9)


async def test_crash_before_posting_is_posted_once_on_restart(
        hashing_service: KnowledgeService, second_service: KnowledgeService,
        channels: FakeChannels) -> None:
    """Claimed, then the process died before posting: the restart posts it, once."""
    crashed = hashing_service.digests
    sub = crashed.subscribe(1, 10, DAILY_9, now=at(1, 8))
    article = add_article(hashing_service, "Never posted before the crash", at(1, 8, 30))
    assert crashed.claim(sub.id, at(1, 9), now=at(1, 9)) is not None
    restarted = second_service.digests
    after_lease = at(1, 9) + restarted.lease + dt.timedelta(seconds=1)
    (outcome,) = await restarted.run_due(channels.post, find_posted=channels.find,
                                         now=after_lease)
    assert outcome.status == "posted"
    assert channels.finder_calls == [outcome.run_id]
    assert channels.article_ids() == [[article]]
    assert await restarted.run_due(channels.post, find_posted=channels.find,
                                   now=after_lease + dt.timedelta(minutes=1)) == []
    assert len(channels.posts) == 1
    assert covered_until(hashing_service, sub.id) == at(1, 9)


async def test_recovery_then_catch_up_skips_nothing(
        hashing_service: KnowledgeService, second_service: KnowledgeService,
        channels: FakeChannels) -> None:
    """A crash on day 1 and a restart on day 3: day 1's digest, then one for days 2-3."""
    crashed = hashing_service.digests
    sub = crashed.subscribe(1, 10, DAILY_9, now=at(1, 8))
    day1 = add_article(hashing_service, "Day one", at(1, 8, 30))
    day2 = add_article(hashing_service, "Day two", at(2, 8, 30))
    assert crashed.claim(sub.id, at(1, 9), now=at(1, 9)) is not None
    outcomes = await second_service.digests.run_due(channels.post, find_posted=channels.find,
                                                    now=at(3, 10))
    assert [o.status for o in outcomes] == ["posted", "posted"]
    assert channels.article_ids() == [[day1], [day2]]
    assert covered_until(hashing_service, sub.id) == at(3, 9)


async def test_failed_post_is_retried_later_and_posted_once(
        hashing_service: KnowledgeService) -> None:
    """Discord down at 09:00: the run is failed, retried after the delay, then posted once."""
    digests = hashing_service.digests
    sub = digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    add_article(hashing_service, "Waiting for Discord", at(1, 8, 30))
    down = FakeChannels(fail=True)
    (outcome,) = await digests.run_due(down.post, find_posted=down.find, now=at(1, 9))
    assert outcome.status == "failed" and outcome.unexpected  # ConnectionError: a bug's text
    assert outcome.error == INTERNAL_ERROR
    assert not outcome.retried
    up = FakeChannels()
    assert await digests.run_due(up.post, find_posted=up.find, now=at(1, 9, 1)) == []
    retry_at = at(1, 9) + digests.retry_after
    (retry,) = await digests.run_due(up.post, find_posted=up.find, now=retry_at)
    assert retry.status == "posted" and retry.retried
    assert len(up.posts) == 1
    assert await digests.run_due(up.post, find_posted=up.find, now=at(1, 12)) == []
    assert covered_until(hashing_service, sub.id) == at(1, 9)


async def test_an_article_committed_late_is_announced_next_time_not_lost(
        hashing_service: KnowledgeService, channels: FakeChannels) -> None:
    """An article stamped before 09:00 but visible only after the 09:00 digest was composed
    goes into the next digest; the ones already announced are not repeated."""
    service = hashing_service
    service.digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    on_time = add_article(service, "On time", at(1, 8, 50))
    await service.digests.run_due(channels.post, now=at(1, 9))
    late = add_article(service, "Committed late", at(1, 8, 59, 59))
    await service.digests.run_due(channels.post, now=at(2, 9))
    assert channels.article_ids() == [[on_time], [late]]


async def test_marking_a_run_someone_else_took_over_is_refused(
        hashing_service: KnowledgeService, second_service: KnowledgeService,
        channels: FakeChannels) -> None:
    """A slow poster whose claim was taken over cannot mark it posted or move the period."""
    slow = hashing_service.digests
    sub = slow.subscribe(1, 10, DAILY_9, now=at(1, 8))
    add_article(hashing_service, "Contested", at(1, 8, 30))
    claim = slow.claim(sub.id, at(1, 9), now=at(1, 9))
    assert claim is not None
    with hashing_service.library.write() as session:  # its lease ran out long ago
        session.execute(update(DigestRunRow).values(claimed_at=at(1, 9)))
    await second_service.digests.run_due(channels.post, find_posted=channels.find,
                                         now=at(1, 10))
    assert not slow.mark_posted(claim.run_id, [999])
    (run,) = runs(hashing_service)
    assert run.status == "posted" and run.message_ids != [999]


async def test_run_now_posts_a_period_ending_now(hashing_service: KnowledgeService,
                                                 channels: FakeChannels) -> None:
    """/digest now posts what is new so far; the scheduled digest then starts from there."""
    service = hashing_service
    sub = service.digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    early = add_article(service, "Before /digest now", at(1, 8, 10))
    results = await service.digests.run_now(1, channels.post, now=at(1, 8, 20))
    assert [(o.subscription.id, o.status) for o in results] == [(sub.id, "posted")]
    later = add_article(service, "After /digest now", at(1, 8, 30))
    await service.digests.run_due(channels.post, now=at(1, 9))
    assert channels.article_ids() == [[early], [later]]


async def test_recovery_waits_when_the_channel_cannot_be_checked(
        hashing_service: KnowledgeService, second_service: KnowledgeService,
        channels: FakeChannels) -> None:
    """If find_posted cannot tell (it raises), nothing is posted now; the run is retried."""
    crashed = hashing_service.digests
    sub = crashed.subscribe(1, 10, DAILY_9, now=at(1, 8))
    add_article(hashing_service, "Unknown fate", at(1, 8, 30))
    assert crashed.claim(sub.id, at(1, 9), now=at(1, 9)) is not None

    async def cannot_tell(channel_id: int, run_id: int, since: dt.datetime
                         ) -> list[int] | None:
        raise ConnectionError("history unavailable")

    restarted = second_service.digests
    after_lease = at(1, 9) + restarted.lease + dt.timedelta(seconds=1)
    (outcome,) = await restarted.run_due(channels.post, find_posted=cannot_tell, now=after_lease)
    assert outcome.status == "failed" and outcome.error == INTERNAL_ERROR
    assert channels.posts == []
    (retry,) = await restarted.run_due(channels.post, find_posted=channels.find,
                                       now=after_lease + restarted.retry_after)
    assert retry.status == "posted" and len(channels.posts) == 1


async def test_one_slow_channel_does_not_hold_up_the_others(
        hashing_service: KnowledgeService) -> None:
    """Two servers' digests fall due together and Discord holds back the first channel (a
    rate limit: an outside admin saw another server's digest arrive 60 s late): the second is
    posted while the first still waits, and both are posted once."""
    digests = hashing_service.digests
    slow = digests.subscribe(1, 10, DAILY_9, post_when_empty=True, now=at(1, 8))
    other = digests.subscribe(2, 20, DAILY_9, post_when_empty=True, now=at(1, 8))
    assert slow.id < other.id  # the slow one comes first in a pass
    other_posted = asyncio.Event()
    posted: list[int] = []

    async def post(channel_id: int, digest: object, run_id: int) -> list[int]:
        if channel_id == 10:  # held back until the other server's digest is out
            await asyncio.wait_for(other_posted.wait(), timeout=10)
        posted.append(channel_id)
        if channel_id == 20:
            other_posted.set()
        return [run_id * 100 + channel_id]

    outcomes = await digests.run_due(post, now=at(1, 9, 0, 1))  # type: ignore[arg-type]
    assert posted == [20, 10]
    assert sorted((o.subscription.channel_id, o.status) for o in outcomes) == [
        (10, "posted"), (20, "posted")]

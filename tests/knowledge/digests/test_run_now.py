"""/digest now (DigestService.run_now): an explicit request retries a failed post at once, says
when a post still running would be taken over, and keeps a poster's explanation as it is."""

from __future__ import annotations

from knowledge.errors import DeliveryFailed
from knowledge.models import Digest
from knowledge.service import KnowledgeService
from tests.knowledge.digests.helpers import (
    DAILY_9,
    FakeChannels,
    add_article,
    at,
    covered_until,
    runs,
)

REFUSAL = "I could not post the digest in #news: I am missing Send Messages there."


async def refused(channel_id: int, digest: Digest, run_id: int) -> list[int]:
    """A poster whose chat service refuses, explained in words for the admin."""
    raise DeliveryFailed(REFUSAL)


async def test_a_refusal_is_kept_as_the_poster_said_it_with_the_retry_time(
        hashing_service: KnowledgeService) -> None:
    """A poster's DeliveryFailed is the outcome's error word for word (no class name), and the
    outcome says when the period is tried again by itself."""
    digests = hashing_service.digests
    digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    add_article(hashing_service, "Refused once", at(1, 8, 10))
    (outcome,) = await digests.run_now(1, refused, now=at(1, 8, 20))
    assert outcome.status == "failed" and not outcome.unexpected
    assert outcome.error == REFUSAL
    assert outcome.retry_at == at(1, 8, 20) + digests.retry_after
    (run,) = runs(hashing_service)
    assert run.error == REFUSAL


async def test_digest_now_retries_a_failed_post_at_once(
        hashing_service: KnowledgeService, channels: FakeChannels) -> None:
    """After a refused post, a scheduled pass a minute later waits for the retry delay, but
    /digest now then posts the failed period at once, and nothing more; the schedule goes on
    from there."""
    digests = hashing_service.digests
    sub = digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    waiting = add_article(hashing_service, "Waiting for permission", at(1, 8, 10))
    await digests.run_now(1, refused, now=at(1, 8, 20))
    assert await digests.run_due(channels.post, now=at(1, 8, 21)) == []
    retried = await digests.run_now(1, channels.post, find_posted=channels.find,
                                    now=at(1, 8, 21))
    assert [(o.status, o.retried) for o in retried] == [("posted", True), ("empty", False)]
    assert channels.article_ids() == [[waiting]]
    assert [r.status for r in runs(hashing_service)] == ["posted", "empty"]
    assert covered_until(hashing_service, sub.id) == at(1, 8, 21)
    scheduled = await digests.run_due(channels.post, now=at(1, 9))
    assert [o.status for o in scheduled] == ["empty"] and len(channels.posts) == 1


async def test_digest_now_retries_and_then_posts_what_came_since(
        hashing_service: KnowledgeService, channels: FakeChannels) -> None:
    """An article added after the refused post follows in a digest of its own, once."""
    digests = hashing_service.digests
    digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    first = add_article(hashing_service, "Before the refusal", at(1, 8, 10))
    await digests.run_now(1, refused, now=at(1, 8, 20))
    second = add_article(hashing_service, "After the refusal", at(1, 8, 25))
    outcomes = await digests.run_now(1, channels.post, find_posted=channels.find,
                                     now=at(1, 8, 30))
    assert [o.status for o in outcomes] == ["posted", "posted"]
    assert channels.article_ids() == [[first], [second]]


async def test_a_post_still_running_elsewhere_is_reported_busy_with_its_takeover_time(
        hashing_service: KnowledgeService, second_service: KnowledgeService,
        channels: FakeChannels) -> None:
    """Another live process holds the period: /digest now posts nothing and says when that
    claim would be taken over if it stalls (its lease)."""
    digests = hashing_service.digests
    sub = digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    add_article(hashing_service, "Being posted", at(1, 8, 30))
    other = second_service.digests
    assert other.claim(sub.id, at(1, 9), now=at(1, 9)) is not None
    (outcome,) = await digests.run_now(1, channels.post, now=at(1, 9, 2))
    assert outcome.status == "busy" and outcome.subscription.id == sub.id
    assert outcome.retry_at == at(1, 9) + digests.lease
    assert channels.posts == []
    assert [r.status for r in runs(hashing_service)] == ["claimed"]

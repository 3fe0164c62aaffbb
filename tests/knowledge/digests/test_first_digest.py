"""A subscription's first digest: what it holds is what the preview showed, and articles added
before the subscription (or before it resumed) are in no digest, first or later."""

from __future__ import annotations

import datetime as dt

from knowledge.service import KnowledgeService
from tests.knowledge.digests.helpers import DAILY_9, FakeChannels, add_article, at

EVERY_MINUTE = "* * * * *"


def preview_ids(service: KnowledgeService, guild_id: int, now: dt.datetime) -> list[int]:
    """The article ids /digest preview would show at `now`."""
    digest = service.digests.preview(guild_id, now=now)
    return [i.article_id for s in digest.sections for i in s.items]


async def test_articles_added_just_before_subscribing_are_in_no_digest(
        hashing_service: KnowledgeService, channels: FakeChannels) -> None:
    """QA: three articles, then /digest set; preview, the first and the second /digest now all
    agree that they are not new (before: the second /digest now posted them)."""
    service = hashing_service
    for n in range(1, 4):
        add_article(service, f"Added before subscribing {n}", at(1, 8, 0, n))
    service.digests.subscribe(1, 10, EVERY_MINUTE, now=at(1, 8, 1))
    assert preview_ids(service, 1, at(1, 8, 1, 30)) == []
    (first,) = await service.digests.run_now(1, channels.post, now=at(1, 8, 1, 30))
    assert first.status == "empty"
    assert preview_ids(service, 1, at(1, 8, 1, 31)) == []
    (second,) = await service.digests.run_now(1, channels.post, now=at(1, 8, 1, 31))
    assert second.status == "empty", channels.article_ids()
    await service.digests.run_due(channels.post, now=at(1, 8, 5))  # the schedule fires
    assert channels.posts == []


async def test_the_first_digest_posts_what_the_preview_showed(
        hashing_service: KnowledgeService, channels: FakeChannels) -> None:
    """Articles added after /digest set: the preview lists them and the first digest posts
    exactly those, then nothing is posted twice."""
    service = hashing_service
    add_article(service, "Old news", at(1, 7, 59))
    service.digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    new = [add_article(service, f"New after subscribing {n}", at(1, 8, n)) for n in (1, 2)]
    shown = preview_ids(service, 1, at(1, 8, 5))
    (outcome,) = await service.digests.run_now(1, channels.post, now=at(1, 8, 5))
    assert outcome.status == "posted"
    assert shown == channels.article_ids()[0] and sorted(shown) == sorted(new)
    assert preview_ids(service, 1, at(1, 8, 6)) == []
    (again,) = await service.digests.run_now(1, channels.post, now=at(1, 8, 6))
    assert again.status == "empty" and len(channels.posts) == 1


async def test_a_resumed_subscription_does_not_reach_back_into_the_pause(
        hashing_service: KnowledgeService, channels: FakeChannels) -> None:
    """After /digest off and /digest set again, an article added during the pause is in no
    digest, not even in the one after the first digest since resuming."""
    service = hashing_service
    service.digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    service.digests.unsubscribe(1)
    paused = add_article(service, "Added while paused", at(1, 8, 55))
    service.digests.subscribe(1, 10, DAILY_9, now=at(1, 9, 0))
    assert preview_ids(service, 1, at(1, 9, 1)) == []
    await service.digests.run_now(1, channels.post, now=at(1, 9, 1))
    assert preview_ids(service, 1, at(1, 9, 2)) == []
    await service.digests.run_now(1, channels.post, now=at(1, 9, 2))
    assert paused not in [a for ids in channels.article_ids() for a in ids]


async def test_a_late_commit_is_still_caught_inside_covered_periods(
        hashing_service: KnowledgeService, channels: FakeChannels) -> None:
    """The look-back for late commits still works across back-to-back periods (and the
    preview shows the late article before it is posted)."""
    service = hashing_service
    service.digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    on_time = add_article(service, "On time", at(1, 8, 50))
    await service.digests.run_due(channels.post, now=at(1, 9))
    late = add_article(service, "Committed late", at(1, 8, 59, 59))
    assert preview_ids(service, 1, at(1, 9, 30)) == [late]
    await service.digests.run_due(channels.post, now=at(2, 9))
    assert channels.article_ids() == [[on_time], [late]]

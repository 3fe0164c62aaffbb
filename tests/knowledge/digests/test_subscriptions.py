"""Digest subscriptions: validation, updates, stopping and restarting."""

from __future__ import annotations

import pytest

from knowledge.errors import BadInput, NotFound
from knowledge.service import KnowledgeService
from tests.knowledge.digests.helpers import DAILY_9, FakeChannels, at, covered_until


async def test_subscribe_validates_the_schedule(hashing_service: KnowledgeService) -> None:
    """A malformed schedule is refused with the cron format, and nothing is stored."""
    with pytest.raises(BadInput, match="minute hour day month weekday"):
        hashing_service.digests.subscribe(1, 10, "every monday", "UTC")
    assert hashing_service.digests.subscriptions(guild_id=None) == []


async def test_subscribe_validates_the_timezone(hashing_service: KnowledgeService) -> None:
    """An unknown timezone is refused with a suggestion, and nothing is stored."""
    with pytest.raises(BadInput, match="Asia/Tokyo"):
        hashing_service.digests.subscribe(1, 10, DAILY_9, "Asia/Tokio")
    assert hashing_service.digests.subscriptions(guild_id=None) == []


async def test_subscription_starts_covering_at_creation(hashing_service: KnowledgeService
                                                       ) -> None:
    """A new channel's first digest covers what arrives after it subscribed."""
    sub = hashing_service.digests.subscribe(1, 10, "0  9 * * 1", "asia/tokyo",
                                                  now=at(1, 8))
    assert (sub.schedule, sub.timezone, sub.covered_until) == ("0 9 * * 1", "Asia/Tokyo",
                                                               at(1, 8))
    assert sub.next_digest_at == at(8, 0)  # next Monday 09:00 Tokyo = 00:00 UTC
    assert sub.post_when_empty is False


async def test_resubscribing_changes_the_schedule_but_keeps_the_period(
        hashing_service: KnowledgeService) -> None:
    """Changing a channel's schedule neither skips nor repeats articles: covered_until stays."""
    digests = hashing_service.digests
    first = digests.subscribe(1, 10, DAILY_9, "UTC", now=at(1, 8))
    second = digests.subscribe(1, 10, "30 18 * * *", "Europe/Moscow", now=at(3, 8))
    assert second.id == first.id
    assert (second.schedule, second.timezone) == ("30 18 * * *", "Europe/Moscow")
    assert second.covered_until == at(1, 8)
    assert len(digests.subscriptions(1)) == 1


async def test_unsubscribe_stops_one_channel_or_all(hashing_service: KnowledgeService) -> None:
    """unsubscribe(guild, channel) stops that channel; unsubscribe(guild) stops the rest."""
    digests = hashing_service.digests
    digests.subscribe(1, 10, DAILY_9)
    digests.subscribe(1, 11, DAILY_9)
    digests.subscribe(2, 20, DAILY_9)
    assert digests.unsubscribe(1, 10) == 1
    assert [s.channel_id for s in digests.subscriptions(1)] == [11]
    assert digests.unsubscribe(1) == 1
    assert digests.unsubscribe(1) == 0
    assert [s.guild_id for s in digests.subscriptions(guild_id=None)] == [2]
    assert len(digests.subscriptions(include_inactive=True, guild_id=None)) == 3


async def test_a_stopped_channel_gets_no_digest(hashing_service: KnowledgeService,
                                                channels: FakeChannels) -> None:
    """After unsubscribe, due periods are not claimed or posted."""
    digests = hashing_service.digests
    digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    digests.unsubscribe(1)
    assert await digests.run_due(channels.post, now=at(3, 10)) == []
    assert channels.posts == []


async def test_resuming_a_stopped_channel_starts_from_now(hashing_service: KnowledgeService
                                                         ) -> None:
    """A channel subscribed again after a pause does not receive the pause's backlog."""
    digests = hashing_service.digests
    sub = digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    digests.unsubscribe(1)
    again = digests.subscribe(1, 10, DAILY_9, now=at(5, 8))
    assert again.id == sub.id and again.active
    assert covered_until(hashing_service, sub.id) == at(5, 8)


async def test_run_now_without_a_channel_says_so(hashing_service: KnowledgeService,
                                                 channels: FakeChannels) -> None:
    """/digest now in a server without a digest channel is a clear NotFound."""
    with pytest.raises(NotFound, match="digest channel"):
        await hashing_service.digests.run_now(1, channels.post)


async def test_a_schedule_that_never_fires_is_refused(hashing_service: KnowledgeService) -> None:
    """'0 9 31 2 *' (31 February) is valid cron that never fires: refused in words, not stored."""
    with pytest.raises(BadInput, match=r"never fires.*31 February"):
        hashing_service.digests.subscribe(1, 10, "0 9 31 2 *", "UTC", now=at(1, 8))
    assert hashing_service.digests.subscriptions(guild_id=None) == []
    leap = hashing_service.digests.subscribe(1, 10, "0 9 29 2 *", "UTC", now=at(1, 8))
    assert leap.next_digest_at is not None  # rare, but it fires


async def test_resubscribing_without_a_timezone_keeps_the_channels_own(
        hashing_service: KnowledgeService) -> None:
    """A re-set that names no time zone keeps the channel's; the server default is only for a
    channel that has none yet."""
    digests = hashing_service.digests
    digests.subscribe(1, 10, DAILY_9, "Europe/Berlin", now=at(1, 8))
    again = digests.subscribe(1, 10, "0 8 * * *", None, default_timezone="Asia/Tokyo",
                              now=at(1, 9))
    assert (again.schedule, again.timezone) == ("0 8 * * *", "Europe/Berlin")
    new = digests.subscribe(1, 11, DAILY_9, None, default_timezone="Asia/Tokyo", now=at(1, 9))
    assert new.timezone == "Asia/Tokyo"

"""Fixtures shared by the library tests: a fake clock, fake digest channels and a second process on the same database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from knowledge.embedding import HashingEmbedder
from knowledge.service import KnowledgeService
from tests.knowledge.digests.helpers import DAY1_0800, FakeChannels, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock at day 1, 08:00 UTC."""
    return FakeClock(DAY1_0800)


@pytest.fixture
def channels() -> FakeChannels:
    """An in-memory Discord stand-in for posting digests."""
    return FakeChannels()


@pytest.fixture
def second_service(hashing_service: KnowledgeService) -> Iterator[KnowledgeService]:
    """Another process's worth of service on the same database file."""
    service = KnowledgeService.open(hashing_service.settings, embedder=HashingEmbedder())
    yield service
    service.close()

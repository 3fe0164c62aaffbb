"""Fixtures for SourcesService tests: a real library on the test embedder, a fake web and a clock."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from knowledge.service import KnowledgeService
from knowledge.sources import FetchSettings
from knowledge.sources.service import SourcesService
from knowledge.store.tables import ArticleRow, SourceRow
from tests.fakes.web_server import FIXTURES

# Private addresses stay refused: only the fake server's exact address is let through.
TEST_FETCH = FetchSettings(connect_timeout=2.0, read_timeout=1.0, total_timeout=5.0,
                           max_bytes=512_000, allowed_addresses=frozenset({"127.0.0.1"}))


@pytest.fixture
def library(hashing_service: KnowledgeService) -> Iterator[KnowledgeService]:
    """The core service on the fast test embedder, its sources fetching from the fake web only."""
    hashing_service.sources.fetch_settings = TEST_FETCH
    yield hashing_service


@pytest.fixture
def sources(library: KnowledgeService) -> SourcesService:
    """The library's SourcesService (``service.sources``)."""
    service: SourcesService = library.sources
    return service


class Notices:
    """An admin notifier that remembers what it was told."""

    def __init__(self) -> None:
        self.messages: list[tuple[int | None, str]] = []
        self.added_by: list[str | None] = []

    async def __call__(self, guild_id: int | None, message: str, *,
                       added_by: str | None = None) -> None:
        """Record one notice (and who added the source it is about)."""
        self.messages.append((guild_id, message))
        self.added_by.append(added_by)


@pytest.fixture
def notices(sources: SourcesService) -> Notices:
    """Notices the sources service sends to admins."""
    recorder = Notices()
    sources.set_notifier(recorder)
    return recorder


def source_row(library: KnowledgeService, source_id: int) -> SourceRow:
    """A fresh copy of one source row."""
    with library.library.read() as session:
        row = session.get(SourceRow, source_id)
        assert row is not None
        return row


def later(minutes: float) -> dt.datetime:
    """A moment ``minutes`` from now (UTC), for polls with controlled time."""
    return dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)


def article_row(library: KnowledgeService, article_id: int) -> ArticleRow:
    """A fresh copy of one article row."""
    with library.library.read() as session:
        row = session.get(ArticleRow, article_id)
        assert row is not None
        return row


def article_count(library: KnowledgeService) -> int:
    """How many articles the library holds."""
    with library.library.read() as session:
        return session.scalar(select(func.count()).select_from(ArticleRow)) or 0


def feed_articles(library: KnowledgeService, source_id: int) -> list[ArticleRow]:
    """Articles stored from one source, oldest first."""
    with library.library.read() as session:
        return list(session.scalars(select(ArticleRow).where(ArticleRow.source_id == source_id)
                                    .order_by(ArticleRow.id)))


def source_id_of(library: KnowledgeService, url: str) -> int:
    """The id of the source polled at ``url``."""
    with library.library.read() as session:
        found = session.scalar(select(SourceRow.id).where(SourceRow.url == url))
        assert found is not None, f"no source at {url}"
        return found


def rss_items(*keep: int) -> str:
    """tests/fixtures/web/rss.xml with only the items at the given positions (0-based)."""
    text = (FIXTURES / "rss.xml").read_text(encoding="utf-8")
    items = re.findall(r"\s*<item>.*?</item>", text, flags=re.DOTALL)
    head = text[: text.index(items[0])]
    tail = text[text.index(items[-1]) + len(items[-1]):]
    return head + "".join(items[i] for i in keep) + tail

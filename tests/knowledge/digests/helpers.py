"""Helpers for digest tests: a controllable clock, an in-memory channel, article factories."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import random

from sqlalchemy import select, update

from knowledge.ingest import Document
from knowledge.models import Digest
from knowledge.service import KnowledgeService
from knowledge.store.tables import ArticleRow, DigestRunRow, DigestSubscriptionRow

# A fixed day far from the real date, so nothing the real clock does can interfere.
DAY1_0800 = dt.datetime(2030, 1, 7, 8, 0, tzinfo=dt.UTC)  # a Monday
DAILY_9 = "0 9 * * *"


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """A UTC instant on day N (1 = 2030-01-07) of the test calendar."""
    return DAY1_0800.replace(hour=hour, minute=minute, second=second) + dt.timedelta(days=day - 1)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, now: dt.datetime) -> None:
        """Jump to an instant."""
        self.now = now


@dataclasses.dataclass
class Post:
    """One digest as a fake channel received it."""

    channel_id: int
    run_id: int
    digest: Digest
    message_id: int


class FakeChannels:
    """Posts digests into memory and finds them again by run id, like the bot's marker search."""

    def __init__(self, *, fail: bool = False) -> None:
        self.posts: list[Post] = []
        self.fail = fail
        self.finder_calls: list[int] = []
        self.posted = asyncio.Event()  # set at each post

    async def post(self, channel_id: int, digest: Digest, run_id: int) -> list[int]:
        """The DigestPoster."""
        if self.fail:
            raise ConnectionError("discord is down")
        message_id = 1000 + len(self.posts)
        self.posts.append(Post(channel_id, run_id, digest, message_id))
        self.posted.set()
        return [message_id]

    async def find(self, channel_id: int, run_id: int, since: dt.datetime
                   ) -> list[int] | None:
        """The PostedFinder."""
        self.finder_calls.append(run_id)
        found = [p.message_id for p in self.posts if p.channel_id == channel_id
                 and p.run_id == run_id]
        return found or None

    def article_ids(self) -> list[list[int]]:
        """The article ids of each post, in order."""
        return [[i.article_id for s in p.digest.sections for i in s.items] for p in self.posts]


def article_text(title: str) -> str:
    """A distinct body for a test article: two lead sentences, then filler unique to it."""
    rng = random.Random(title)
    filler = " ".join(f"token{rng.randrange(10**9)}" for _ in range(60))
    return (f"{title} opens with a first sentence about the talks. A second sentence adds "
            f"context.\n\nThe body continues with {filler}.")


def add_article(service: KnowledgeService, title: str, added_at: dt.datetime, *,
                publisher: str | None = "Valdai Club", announce: bool = True,
                url: str | None = None) -> int:
    """Store an article and stamp it as added at `added_at`; returns its id."""
    result = service.add_document(Document(text=article_text(title), title=title,
                                                publisher=publisher, announce=announce, url=url))
    assert result.status == "added", result
    assert result.article_id is not None
    with service.library.write() as session:
        session.execute(update(ArticleRow).where(ArticleRow.id == result.article_id)
                        .values(added_at=added_at))
    return result.article_id


def runs(service: KnowledgeService) -> list[DigestRunRow]:
    """Every digest run, oldest first."""
    with service.library.read() as session:
        return list(session.scalars(select(DigestRunRow).order_by(DigestRunRow.id)))


def covered_until(service: KnowledgeService, subscription_id: int) -> dt.datetime:
    """Where the subscription's next digest starts."""
    with service.library.read() as session:
        row = session.get(DigestSubscriptionRow, subscription_id)
        assert row is not None
        return row.covered_until

"""Sources belong to the server that added them; a feed several servers follow is fetched once;
an article and its source are stored together; big feeds are handled in bounded polls."""

from __future__ import annotations

import asyncio
import datetime as dt
import random

import pytest
from sqlalchemy import func, select

from knowledge.errors import NotFound
from knowledge.ingest import Origin, add_document
from knowledge.service import KnowledgeService
from knowledge.sources import polling, records
from knowledge.sources.documents import upload_document
from knowledge.sources.files import read_upload
from knowledge.sources.service import SourcesService
from knowledge.store.tables import ArticleReachRow, ArticleRow, SourceRow, SourceSubscriptionRow
from tests.fakes.web_server import FakeWeb
from tests.knowledge.sources.service.conftest import (
    Notices,
    later,
    rss_items,
    source_id_of,
    source_row,
)

GUILD_A, GUILD_B = 111_000_000_000_000_001, 222_000_000_000_000_002
_SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "su", "do", "ga", "hi",
              "ju", "ko", "ma", "ni", "po", "ri", "se")


def essay(seed: int) -> str:
    """A distinct article-length text (no near-duplicate of any other seed's)."""
    rng = random.Random(seed)
    words = ["".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
             for _ in range(400)]
    sentences = [" ".join(words[i:i + 12]).capitalize() + "." for i in range(0, 400, 12)]
    return " ".join(sentences)


def big_feed(count: int, *, summary_only: bool = False, link_path: str = "/entry") -> str:
    """An RSS feed of ``count`` entries, newest first, each with its own full text (or, with
    ``summary_only``, a teaser whose page is at ``link_path``)."""
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    items = []
    for n in range(count - 1, -1, -1):
        date = (start + dt.timedelta(hours=n)).strftime("%a, %d %b %Y %H:%M:%S GMT")
        body = "A short teaser…" if summary_only else f"<![CDATA[<p>{essay(n)}</p>]]>"
        items.append(f"<item><title>Entry {n}</title><link>http://127.0.0.1/{n}</link>"
                     f"<guid isPermaLink=\"false\">entry-{n}</guid><pubDate>{date}</pubDate>"
                     f"<description>{body}</description></item>")
    if summary_only:
        items = [i.replace("http://127.0.0.1/", f"{{base}}{link_path}?n=") for i in items]
    return ("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel>"
            f"<title>Big feed</title><link>http://127.0.0.1/</link><description>many"
            f"</description>{''.join(items)}</channel></rss>")


def count_rows(library: KnowledgeService, table: type) -> int:
    """Rows in one table."""
    with library.library.read() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


# ----- sources belong to servers --------------------------------------------------------------
async def test_a_server_sees_lists_and_removes_only_its_own_sources(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """Guild B neither lists, autocompletes, polls nor removes guild A's feed."""
    web.route("/feed.xml", rss_items(0, 1), "application/rss+xml")
    [added] = await sources.add(web.url("/feed.xml"), guild_id=GUILD_A, added_by="1")
    assert added.status == "added", added.message
    source_id = source_id_of(library, web.url("/feed.xml"))
    assert [s.id for s in sources.list(GUILD_A)] == [source_id]
    assert sources.list(GUILD_B) == [] and sources.status(GUILD_B) == []
    assert sources.autocomplete("", guild_id=GUILD_B) == []
    assert [i for _, i in sources.autocomplete("", guild_id=GUILD_A)] == [source_id]
    with pytest.raises(NotFound):
        sources.remove(source_id, guild_id=GUILD_B)
    with pytest.raises(NotFound):
        await sources.poll(source_id, guild_id=GUILD_B)
    assert source_row(library, source_id).active
    assert [s.id for s in sources.list(guild_id=None)] == [source_id]  # the operator sees every source


async def test_a_feed_two_servers_follow_is_one_source_with_two_subscriptions(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """B re-adding A's feed gets its own subscription (no second fetch, no "already following
    #N" leak); each removes only its own, and the feed is polled while one remains."""
    web.route("/feed.xml", rss_items(0, 1), "application/rss+xml")
    await sources.add(web.url("/feed.xml"), guild_id=GUILD_A, added_by="1")
    source_id = source_id_of(library, web.url("/feed.xml"))
    [again] = await sources.add(web.url("/feed.xml"), guild_id=GUILD_A, added_by="1")
    assert again.status == "duplicate" and f"#{source_id}" in again.message
    articles = count_rows(library, ArticleRow)
    [result] = await sources.add(web.url("/feed.xml"), guild_id=GUILD_B, added_by="2")
    assert result.status == "added", result.message
    assert "already following" not in result.message
    assert count_rows(library, ArticleRow) == articles
    assert count_rows(library, SourceRow) == 1 and count_rows(library, SourceSubscriptionRow) == 2
    assert [s.id for s in sources.list(GUILD_B)] == [source_id]
    # B now sees the feed's articles, though they were stored for A.
    with library.library.read() as session:
        reached = set(session.scalars(select(ArticleReachRow.guild_id)))
    assert {GUILD_A, GUILD_B} <= reached
    removed = sources.remove(source_id, guild_id=GUILD_A)
    assert not removed.active
    assert [s.id for s in sources.list(GUILD_B)] == [source_id]
    assert source_row(library, source_id).active  # still polled for B
    sources.remove(source_id, guild_id=GUILD_B)
    assert not source_row(library, source_id).active
    [outcome] = await sources.poll_due(now=later(120)) or [None]
    assert outcome is None  # nobody follows it: not polled


async def test_a_shared_feed_failing_is_told_to_every_server_following_it(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService,
        notices: Notices) -> None:
    """Both servers' admins hear that the feed they follow is failing, each once."""
    web.route("/feed.xml", rss_items(0), "application/rss+xml")
    await sources.add(web.url("/feed.xml"), guild_id=GUILD_A, added_by="1")
    await sources.add(web.url("/feed.xml"), guild_id=GUILD_B, added_by="2")
    source_id = source_id_of(library, web.url("/feed.xml"))
    web.route("/feed.xml", "<h1>down</h1>", status=500)
    now = later(61)
    for _ in range(polling.FAILING_AFTER + 1):
        [outcome] = await sources.poll_due(now=now)
        assert outcome.status == "failed"
        now = source_row(library, source_id).next_poll_at + dt.timedelta(seconds=1)
    assert sorted(guild for guild, _ in notices.messages) == [GUILD_A, GUILD_B]
    assert sorted(notices.added_by) == ["1", "2"]


# ----- one transaction for an article and its source --------------------------------------------
class Crash(Exception):
    """Stands for a kill between creating the source row and committing."""


def test_a_failure_between_article_and_source_leaves_neither(library: KnowledgeService) -> None:
    """The source row is created inside the article's transaction: when it fails after the
    source row exists, neither the article nor the source nor its reach is stored."""
    maker = records.source_maker(kind="file", url=None, canonical_url=None, title="Upload",
                                 guild_id=GUILD_A, added_by="1", active=True,
                                 added_at=dt.datetime.now(dt.UTC), extra={})

    def crashing(session, article):  # type: ignore[no-untyped-def]
        maker(session, article)
        session.flush()
        raise Crash

    upload = read_upload("note.md", essay(7).encode(), 100_000)
    before = (count_rows(library, ArticleRow), count_rows(library, SourceRow),
              count_rows(library, ArticleReachRow))
    with pytest.raises(Crash):
        add_document(library.library, upload_document(upload),
                     origin=Origin(guilds=(GUILD_A,), new_source=crashing))
    assert (count_rows(library, ArticleRow), count_rows(library, SourceRow),
            count_rows(library, ArticleReachRow)) == before
    # The same file added normally stores both, linked.
    result = add_document(library.library, upload_document(upload),
                          origin=Origin(guilds=(GUILD_A,), new_source=maker))
    assert result.status == "added"
    with library.library.read() as session:
        row = session.get(ArticleRow, result.article_id)
        assert row is not None and row.source_id is not None


async def test_an_upload_is_stored_with_its_source_and_reach(
        sources: SourcesService, library: KnowledgeService) -> None:
    """A server's upload: one article, one file source subscribed by that server, reach."""
    result = await sources.add_upload("note.md", essay(3).encode(), guild_id=GUILD_A,
                                      added_by="1")
    assert result.status == "added", result.message
    with library.library.read() as session:
        row = session.get(ArticleRow, result.article_id)
        assert row is not None and row.source_id is not None
        assert set(session.scalars(select(ArticleReachRow.guild_id).where(
            ArticleReachRow.article_id == row.id))) == {GUILD_A}
    assert [s.kind for s in sources.list(GUILD_A)] == ["file"]
    assert sources.list(GUILD_B) == []


# ----- big feeds ----------------------------------------------------------------------------------
async def test_a_big_feed_is_handled_a_capped_number_of_entries_per_poll(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """150 entries, 40 per poll: the newest 40 first, the rest over the next polls; every id
    the feed carries is remembered (more than MAX_REMEMBERED_ENTRIES), so nothing is read
    twice once all are in."""
    library.library.settings = library.settings.model_copy(
        update={"feed_max_entries_per_poll": 40})
    monkeypatch.setattr(polling, "MAX_REMEMBERED_ENTRIES", 10)
    web.route("/big.xml", big_feed(150), "application/rss+xml")
    [result] = await sources.add(web.url("/big.xml"), guild_id=None)
    assert result.status == "added", result.message
    assert "110 older entries follow" in result.message
    source_id = source_id_of(library, web.url("/big.xml"))
    with library.library.read() as session:
        titles = set(session.scalars(select(ArticleRow.title).where(
            ArticleRow.source_id == source_id)))
    assert titles == {f"Entry {n}" for n in range(110, 150)}  # the newest first
    now = later(0)
    for _ in range(3):
        now += dt.timedelta(minutes=61)
        [outcome] = await sources.poll_due(now=now)
        assert outcome.status == "new", outcome.message  # the backlog is not a 304
    assert count_rows(library, ArticleRow) - 0 >= 150
    with library.library.read() as session:
        stored = session.scalar(select(func.count()).select_from(ArticleRow).where(
            ArticleRow.source_id == source_id))
    assert stored == 150
    assert len(source_row(library, source_id).extra["entries"]) == 150
    now += dt.timedelta(minutes=61)
    [outcome] = await sources.poll_due(now=now)
    assert outcome.status in ("unchanged", "not_modified")
    assert outcome.seen_again == 0 and not outcome.new_article_ids


async def test_the_lease_is_renewed_while_a_poll_works(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """A poll that outlasts FEED_LEASE_SECONDS keeps its feed: another process cannot take the
    lease until the poll ends, then can."""
    library.library.settings = library.settings.model_copy(
        update={"feed_lease_seconds": 0.6})
    web.route("/feed.xml", rss_items(0), "application/rss+xml")
    await sources.add(web.url("/feed.xml"), guild_id=None)
    source_id = source_id_of(library, web.url("/feed.xml"))
    # Entries whose pages never answer: each waits for the read timeout (1 s), four at a time.
    web.route("/slow.xml", big_feed(12, summary_only=True, link_path="/stall")
              .replace("{base}", web.base_url), "application/rss+xml")
    with library.library.write() as session:
        row = session.get(SourceRow, source_id)
        assert row is not None
        row.url = web.url("/slow.xml")
        row.etag = row.last_modified = None
    poll = asyncio.create_task(sources.poll(source_id, guild_id=None))
    await asyncio.sleep(1.5)  # more than twice the lease
    assert not poll.done()
    taken = await library.run(polling.try_lease, library.library, source_id, "other-process",
                              dt.datetime.now(dt.UTC), due_only=False)
    assert not taken
    await poll
    assert await library.run(polling.try_lease, library.library, source_id, "other-process",
                             dt.datetime.now(dt.UTC), due_only=False)

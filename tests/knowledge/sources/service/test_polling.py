"""Feed polling: due feeds only, conditional GET, new entries announced, backoff, notices, leases."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import subprocess
import sys

import pytest

from knowledge.embedding import HashingEmbedder
from knowledge.errors import BadInput, NotFound
from knowledge.owners import new_owner
from knowledge.service import KnowledgeService
from knowledge.sources import polling
from knowledge.sources.service import SourcesService
from knowledge.store.tables import SourceRow
from tests.fakes.web_server import FakeWeb
from tests.knowledge.sources.service.conftest import (
    TEST_FETCH,
    Notices,
    article_row,
    feed_articles,
    later,
    rss_items,
    source_id_of,
    source_row,
)

HOUR = dt.timedelta(hours=1)


async def follow(sources: SourcesService, web: FakeWeb, library: KnowledgeService, path: str,
                 body: str) -> int:
    """Serve ``body`` as an RSS feed at ``path``, add it, and return its source id."""
    web.route(path, body, "application/rss+xml")
    [result] = await sources.add(web.url(path), guild_id=None)
    assert result.status == "added", result.message
    return source_id_of(library, web.url(path))


def feed_requests(web: FakeWeb, path: str) -> int:
    """How many times the fake web served ``path``."""
    return web.paths_requested().count(path)


async def test_only_due_feeds_are_polled(sources: SourcesService, web: FakeWeb,
                                         library: KnowledgeService) -> None:
    """A feed is polled once its interval has passed, not before."""
    source_id = await follow(sources, web, library, "/feed.xml", rss_items(0, 1, 2))
    assert await sources.poll_due() == []
    [outcome] = await sources.poll_due(now=later(61))
    assert (outcome.source_id, outcome.status) == (source_id, "not_modified")


async def test_conditional_get_answers_not_modified(sources: SourcesService, web: FakeWeb,
                                                    library: KnowledgeService) -> None:
    """The stored ETag is sent back; a 304 adds nothing and schedules the next poll."""
    source_id = await follow(sources, web, library, "/feed.xml", rss_items(0, 1))
    etag = source_row(library, source_id).etag
    now = later(61)
    [outcome] = await sources.poll_due(now=now)
    assert outcome.status == "not_modified"
    assert outcome.new_article_ids == ()
    assert web.requests[-1].headers.get("If-None-Match") == etag
    row = source_row(library, source_id)
    assert row.next_poll_at == now + HOUR
    assert row.last_fetch_at == now


async def test_new_entries_are_stored_and_announced(sources: SourcesService, web: FakeWeb,
                                                    library: KnowledgeService) -> None:
    """After the first add, an entry that appears in the feed is stored and announced."""
    library.library.settings = library.settings.model_copy(update={"feed_initial_announce": 0})
    source_id = await follow(sources, web, library, "/feed.xml", rss_items(0, 1))
    assert [a.announce for a in feed_articles(library, source_id)] == [False, False]
    web.route("/feed.xml", rss_items(0, 1, 2), "application/rss+xml")
    now = later(61)
    [outcome] = await sources.poll_due(now=now)
    assert outcome.status == "new"
    [new_id] = outcome.new_article_ids
    row = article_row(library, new_id)
    assert (row.title, row.announce, row.source_id) == (
        "An Energy Bridge to Hokkaido?", True, source_id)
    assert source_row(library, source_id).last_new_article_at == now
    [status] = sources.status(guild_id=None)
    assert (status.articles, status.last_new_article_at, status.next_poll_at) == (
        3, now, now + HOUR)


async def test_failures_back_off_notify_once_and_recovery_is_told(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService,
        notices: Notices) -> None:
    """Failures double the wait (capped at a day); failing is told once, recovery once."""
    source_id = await follow(sources, web, library, "/feed.xml", rss_items(0))
    good = web.routes["/feed.xml"]
    web.route("/feed.xml", "<h1>down</h1>", status=500)
    now = later(61)
    waits = []
    for attempt in range(1, 7):
        [outcome] = await sources.poll_due(now=now)
        assert outcome.status == "failed"
        assert outcome.message == "127.0.0.1 answered 500 Internal Server Error"
        row = source_row(library, source_id)
        assert row.consecutive_failures == attempt
        assert row.failing is (attempt >= 3)
        waits.append(row.next_poll_at - now)
        assert await sources.poll_due(now=now + dt.timedelta(minutes=1)) == []
        now = row.next_poll_at
    assert waits == [2 * HOUR, 4 * HOUR, 8 * HOUR, 16 * HOUR, 24 * HOUR, 24 * HOUR]
    assert len(notices.messages) == 1
    assert notices.messages[0][0] is None  # added from the CLI: every guild's admins
    assert notices.added_by == [None]
    assert "is failing: 127.0.0.1 answered 500" in notices.messages[0][1]
    [status] = sources.status(guild_id=None)
    assert status.failing and status.last_error == "127.0.0.1 answered 500 Internal Server Error"
    # "fetched" is the last attempt; the status also says when a fetch last worked (admin QA:
    # "fetched 1 minute ago" next to "last error: 500" read as a success)
    assert status.last_fetch_failed and status.last_success_at is not None
    assert status.last_success_at < status.last_fetch_at
    assert status.to_json()["last_success_at"] == status.last_success_at.isoformat()

    web.routes["/feed.xml"] = good
    [outcome] = await sources.poll_due(now=now)
    assert outcome.status in ("unchanged", "not_modified")
    assert len(notices.messages) == 2
    assert "is working again" in notices.messages[1][1]
    row = source_row(library, source_id)
    assert (row.failing, row.failing_notified, row.consecutive_failures, row.last_error) == (
        False, False, 0, None)
    assert row.next_poll_at == now + HOUR
    [status] = sources.status(guild_id=None)
    assert not status.last_fetch_failed and status.last_success_at == status.last_fetch_at


async def test_failing_notice_is_retried_when_the_notifier_failed(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """If telling the admins fails, the next failed poll tries again; then it stops."""
    told: list[str] = []

    async def flaky(guild_id: int | None, message: str, *, added_by: str | None = None) -> None:
        told.append(message)
        if len(told) == 1:
            raise ConnectionError("discord is down")

    sources.set_notifier(flaky)
    await follow(sources, web, library, "/feed.xml", rss_items(0))
    web.route("/feed.xml", "down", status=500)
    now = later(61)
    for _ in range(5):
        [outcome] = await sources.poll_due(now=now)
        assert outcome.status == "failed"
        now = now + dt.timedelta(days=1)
    assert len(told) == 2


async def test_a_failing_feed_does_not_stop_the_others(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """A stalled and a broken feed fail on their own while a healthy feed's news is stored."""
    healthy = await follow(sources, web, library, "/healthy.xml", rss_items(0))
    stalled = await follow(sources, web, library, "/stalled.xml", rss_items(1))
    broken = await follow(sources, web, library, "/broken.xml", rss_items(1))
    with library.library.write() as session:
        row = session.get(SourceRow, stalled)
        assert row is not None
        row.url = web.url("stall")
    web.route("/broken.xml", "<html><body>moved</body></html>")
    web.route("/healthy.xml", rss_items(0, 2), "application/rss+xml")
    outcomes = {o.source_id: o for o in await sources.poll_due(now=later(61))}
    assert outcomes[healthy].status == "new"
    assert outcomes[stalled].status == "failed" and "gave up after" in outcomes[stalled].message
    assert outcomes[broken].status == "failed"
    assert outcomes[broken].message == "the link no longer serves an RSS or Atom feed"


async def test_a_leased_feed_is_left_to_its_holder(sources: SourcesService, web: FakeWeb,
                                                   library: KnowledgeService) -> None:
    """While another process holds the lease the feed is not fetched; an expired lease is taken."""
    source_id = await follow(sources, web, library, "/feed.xml", rss_items(0))
    now = later(61)
    assert polling.try_lease(library.library, source_id, "other-host:1", now, due_only=True)
    fetched = feed_requests(web, "/feed.xml")
    [outcome] = await sources.poll_due(now=now)
    assert outcome.status == "busy"
    assert feed_requests(web, "/feed.xml") == fetched
    [outcome] = await sources.poll_due(now=now + polling.lease_length(sources.library) + dt.timedelta(seconds=1))
    assert outcome.status == "not_modified"
    assert feed_requests(web, "/feed.xml") == fetched + 1
    assert source_row(library, source_id).lease_owner is None


async def test_two_processes_poll_a_feed_once(sources: SourcesService, web: FakeWeb,
                                              library: KnowledgeService) -> None:
    """Two services on one database polling at the same moment fetch the feed exactly once."""
    await follow(sources, web, library, "/feed.xml", rss_items(0))
    web.route("/feed.xml", rss_items(0, 1), "application/rss+xml")
    other = KnowledgeService.open(library.settings, embedder=HashingEmbedder())
    try:
        other_sources: SourcesService = other.sources
        other_sources.fetch_settings = TEST_FETCH
        fetched = feed_requests(web, "/feed.xml")
        now = later(61)
        first, second = await asyncio.gather(sources.poll_due(now=now),
                                             other_sources.poll_due(now=now))
        assert feed_requests(web, "/feed.xml") == fetched + 1
        done = [o for o in first + second if o.status != "busy"]
        assert [o.status for o in done] == ["new"]
        assert len(done[0].new_article_ids) == 1
    finally:
        other.close()


async def test_remove_stops_polling_and_keeps_articles(sources: SourcesService, web: FakeWeb,
                                                       library: KnowledgeService) -> None:
    """A removed feed is no longer polled, its articles stay, and unknown ids are NotFound."""
    source_id = await follow(sources, web, library, "/feed.xml", rss_items(0, 1))
    status = sources.remove(source_id, guild_id=None)
    assert (status.active, status.articles, status.next_poll_at) == (False, 2, None)
    assert await sources.poll_due(now=later(6000)) == []
    assert sources.list(guild_id=None) == []
    assert [s.id for s in sources.status(guild_id=None)] == [source_id]
    with pytest.raises(BadInput, match="was removed"):
        await sources.poll(source_id, guild_id=None)
    with pytest.raises(NotFound, match="no source #999"):
        sources.remove(999, guild_id=None)


async def test_following_a_removed_feed_again_stores_only_news(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """Re-adding a removed feed revives the same source and adds only entries it had not seen."""
    source_id = await follow(sources, web, library, "/feed.xml", rss_items(0, 1))
    sources.remove(source_id, guild_id=None)
    web.route("/feed.xml", rss_items(0, 1, 2), "application/rss+xml")
    [result] = await sources.add(web.url("feed.xml"), guild_id=None)
    assert result.status == "added"
    assert result.message.startswith(f"following again feed #{source_id}")
    assert "1 new article" in result.message
    assert [s.active for s in sources.status(guild_id=None)] == [True]


async def test_poll_refuses_sources_that_are_not_feeds(sources: SourcesService,
                                                       web: FakeWeb) -> None:
    """Polling an article source is a clear error, and an unknown id is NotFound."""
    await sources.add(web.url("article.html"), guild_id=None)
    [status] = sources.status(guild_id=None)
    with pytest.raises(BadInput, match="not a feed"):
        await sources.poll(status.id, guild_id=None)
    with pytest.raises(NotFound):
        await sources.poll(12345, guild_id=None)


async def test_autocomplete_finds_sources_by_name_or_id(sources: SourcesService,
                                                        web: FakeWeb) -> None:
    """Autocomplete offers (label, id) for sources whose title, link or id matches."""
    await sources.add(web.url("rss.xml"), guild_id=None)
    await sources.add(web.url("posts/summit-1.html"), guild_id=None)
    [feed_status] = [s for s in sources.status(guild_id=None) if s.kind == "feed"]
    choices = sources.autocomplete("commentary", guild_id=None)
    assert choices == [(f"#{feed_status.id} Harbour Institute: Commentary (feed)",
                        feed_status.id)]
    assert len(sources.autocomplete("", guild_id=None)) == 2
    assert sources.autocomplete("no such source", guild_id=None) == []


async def test_a_first_add_cut_short_still_does_not_flood(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """A feed whose first add died before reading it gets the no-flood rule on its first poll."""
    library.library.settings = library.settings.model_copy(update={"feed_initial_announce": 1})
    web.route("/feed.xml", rss_items(0, 1, 2), "application/rss+xml")
    now = later(0)
    source_id, what = polling.claim_feed_source(  # the add's first step, then the process died
        library.library, (web.url("feed.xml"),), "dead-process", now,
        {"url": web.url("feed.xml"), "poll_minutes": 60})
    assert what == "new"
    [outcome] = await sources.poll_due(now=now + polling.lease_length(sources.library) + dt.timedelta(seconds=1))
    assert outcome.status == "new"
    assert sorted(a.announce for a in feed_articles(library, source_id)) == [False, False, True]


async def test_an_unexpected_error_fails_only_that_feed(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """A bug while polling one feed is logged (with its class) and recorded as its failure in
    plain words; poll_due returns."""
    source_id = await follow(sources, web, library, "/feed.xml", rss_items(0))
    web.route("/feed.xml", rss_items(0, 1), "application/rss+xml")

    def broken_parser(*args: object, **kwargs: object) -> None:
        raise RuntimeError("parser bug")

    monkeypatch.setattr("knowledge.sources.service.parse_feed", broken_parser)
    with caplog.at_level(logging.ERROR, logger="knowledge.sources.service"):
        [outcome] = await sources.poll_due(now=later(61))
    plain = "an internal error (details are in the operator's log)"
    assert (outcome.status, outcome.message) == ("failed", plain)
    row = source_row(library, source_id)
    assert (row.consecutive_failures, row.lease_owner, row.last_error) == (1, None, plain)
    assert "RuntimeError: parser bug" in caplog.text


async def test_a_failing_notice_names_who_added_the_feed(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService, notices: Notices
) -> None:
    """The notice carries the guild and the user who added the feed (the bot can DM them)."""
    web.route("/mine.xml", rss_items(0), "application/rss+xml")
    [result] = await sources.add(web.url("/mine.xml"), guild_id=5, added_by="42")
    assert result.status == "added", result.message
    source_id = source_id_of(library, web.url("/mine.xml"))
    web.route("/mine.xml", "<h1>down</h1>", status=500)
    now = later(61)
    for _ in range(3):
        await sources.poll_due(now=now)
        now = source_row(library, source_id).next_poll_at
    assert notices.messages and notices.messages[0][0] == 5
    assert notices.added_by == ["42"]


async def test_adding_a_feed_reports_its_progress(sources: SourcesService, web: FakeWeb) -> None:
    """A progress callback hears entries read, then stored, out of those to handle."""
    web.route("/progress.xml", rss_items(0, 1, 2), "application/rss+xml")
    seen: list[tuple[int, int, int]] = []

    async def progress(read: int, stored: int, total: int) -> None:
        seen.append((read, stored, total))

    [result] = await sources.add(web.url("/progress.xml"), progress=progress, guild_id=None)
    assert result.status == "added", result.message
    assert seen[0] == (1, 0, 3) and seen[-1] == (3, 3, 3)
    assert [s for _, s, _ in seen] == sorted(s for _, s, _ in seen)


async def test_a_feed_title_reaches_admins_as_plain_text(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService,
        notices: Notices) -> None:
    """A feed's own title is third-party text: in a failing notice it neither formats, links
    nor pings (Markdown escaped, links and mentions broken)."""
    hostile = "**URGENT** @everyone see https://evil.example/x [here](https://evil.example)"
    body = rss_items(0).replace("<title>Harbour Institute: Commentary</title>",
                                f"<title>{hostile}</title>", 1)
    source_id = await follow(sources, web, library, "/feed.xml", body)
    assert source_row(library, source_id).title == hostile
    web.route("/feed.xml", "<h1>down</h1>", status=500)
    now = later(61)
    for _ in range(3):
        await sources.poll_due(now=now)
        now = source_row(library, source_id).next_poll_at
    [(_, notice)] = notices.messages
    assert "is failing" in notice
    assert "\\*\\*URGENT\\*\\*" in notice and "@everyone" not in notice  # escaped, no ping
    assert "https://" not in notice.replace("https://127.0.0.1", "")  # links broken
    assert "\\[here\\]" in notice  # a Markdown link shows as text


def dead_owner() -> str:
    """A lease owner id naming a process of this host that has exited."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    host, namespace, _, token = new_owner().split("|")
    return f"{host}|{namespace}|{child.stdout.strip()}|{token}"


async def test_a_lease_held_by_a_process_that_is_gone_is_taken_over(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """A process killed mid-poll (kill -9) leaves its lease: the next poll takes it over at
    once instead of leaving the feed unread for FEED_LEASE_SECONDS (15 minutes), as digest
    claims are; a lease held by a live process (or one of another host) is still respected."""
    web.route("/feed.xml", rss_items(0, 1, 2), "application/rss+xml")
    now = later(0)
    source_id, what = polling.claim_feed_source(  # the add's first step, then kill -9
        library.library, (web.url("feed.xml"),), dead_owner(), now,
        {"url": web.url("feed.xml"), "poll_minutes": 60})
    assert what == "new"
    [outcome] = await sources.poll_due(now=now + dt.timedelta(seconds=1))
    assert outcome.status == "new", outcome
    assert len(feed_articles(library, source_id)) == 3

    alive = new_owner()  # this very process: alive
    elsewhere = "other-host|ns|1|token"  # another host: cannot be checked
    for holder in (alive, elsewhere):
        with library.library.write() as session:
            row = session.get(SourceRow, source_id)
            assert row is not None
            row.lease_owner, row.lease_until = holder, now + dt.timedelta(hours=1)
            row.next_poll_at = now
        [busy] = await sources.poll_due(now=now + dt.timedelta(minutes=2))
        assert busy.status == "busy", holder


async def test_adding_again_a_feed_whose_first_read_died_reads_it_now(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """`/source add` again of a feed whose first read was cut short (the process killed): it was
    "already following this feed" and stayed empty; now it is read at once."""
    web.route("/feed.xml", rss_items(0, 1, 2), "application/rss+xml")
    source_id, _ = polling.claim_feed_source(
        library.library, (web.url("feed.xml"),), dead_owner(), later(0),
        {"url": web.url("feed.xml"), "poll_minutes": 60, "guild_id": 5, "added_by": "1"})
    [again] = await sources.add(web.url("feed.xml"), guild_id=5, added_by="1")
    assert again.status == "added", again
    assert again.message.startswith(f"already following this feed (source #{source_id}); its "
                                    "first read had not finished, so it was read now: 3 new")
    assert len(feed_articles(library, source_id)) == 3
    [twice] = await sources.add(web.url("feed.xml"), guild_id=5, added_by="1")
    assert (twice.status, twice.message) == (
        "duplicate", f"already following this feed (source #{source_id})")

"""QA defects in adding, polling and removing sources, pinned through the real service and the
local fake web: deferred entries retried, malformed links refused, quiet failed polls, removing
twice."""

from __future__ import annotations

import logging

import pytest

from knowledge.errors import BadInput
from knowledge.service import KnowledgeService
from knowledge.sources import polling
from knowledge.sources.service import SourcesService
from tests.fakes.web_server import FIXTURES, FakeWeb
from tests.knowledge.sources.service.conftest import (
    feed_articles,
    later,
    source_id_of,
    source_row,
)

GUILD = 4242

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0">
  <channel>
    <title>Harbour Institute: Late Notes</title>
    <link>/</link>
    <description>Teasers; the full text is on each page.</description>
    <item>
      <title>Notes Written Late</title>
      <link>/{path}</link>
      <guid isPermaLink="true">/{path}</guid>
      <pubDate>Mon, 01 Jul 2019 06:00:00 GMT</pubDate>
      <description>A short teaser. Read more…</description>
    </item>
  </channel>
</rss>
"""


async def follow_late_feed(sources: SourcesService, web: FakeWeb, library: KnowledgeService,
                           page: str = "late.html") -> int:
    """Follow a feed whose one entry links to ``page``, which does not exist yet (404)."""
    web.route("feed.xml", FEED.format(path=page), "application/rss+xml")
    [result] = await sources.add(web.url("feed.xml"), guild_id=None)
    assert result.status == "added", result.message
    assert "404 Not Found (will retry)" in result.message
    return source_id_of(library, web.url("feed.xml"))


def conditional(web: FakeWeb) -> bool:
    """Whether the last request for the feed carried a validator (ETag or Last-Modified)."""
    feed = [r for r in web.requests if r.path == "/feed.xml"][-1]
    return "If-None-Match" in feed.headers or "If-Modified-Since" in feed.headers


async def test_a_deferred_entry_is_retried_while_the_feed_is_unchanged(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """An entry "(will retry)" is read on the next poll although the feed did not change; after
    that the polls are conditional again."""
    source_id = await follow_late_feed(sources, web, library)
    assert source_row(library, source_id).etag is None
    web.route("late.html", (FIXTURES / "posts" / "summit-2.html").read_bytes())

    retried = await sources.poll(source_id, now=later(61), guild_id=None)
    assert not conditional(web)
    assert (retried.status, len(retried.new_article_ids)) == ("new", 1), retried.message
    assert len(feed_articles(library, source_id)) == 1

    again = await sources.poll(source_id, now=later(122), guild_id=None)
    assert conditional(web)
    assert again.status == "not_modified"


async def test_a_permanently_broken_entry_is_given_up_after_its_tries(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService,
        caplog: pytest.LogCaptureFixture) -> None:
    """A link that never works keeps polls unconditional only for MAX_ENTRY_TRIES tries; then
    the entry is given up with a log line and the conditional GET resumes."""
    source_id = await follow_late_feed(sources, web, library)  # try 1
    caplog.set_level(logging.INFO, logger="knowledge.sources.entries")
    for n in range(2, polling.MAX_ENTRY_TRIES + 1):
        await sources.poll(source_id, now=later(61 * n), guild_id=None)
        assert not conditional(web)
    assert "given up" in caplog.text
    assert source_row(library, source_id).etag is not None

    last = await sources.poll(source_id, now=later(61 * (polling.MAX_ENTRY_TRIES + 1)), guild_id=None)
    assert conditional(web)
    assert last.status == "not_modified"


async def test_an_entry_gone_from_the_feed_stops_unconditional_polls(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """A deferred entry the feed no longer carries cannot be retried: it is given up at once,
    so it never keeps the polls of an unchanged feed unconditional."""
    source_id = await follow_late_feed(sources, web, library)
    web.route("feed.xml", FEED.format(path="other.html"), "application/rss+xml")
    web.route("other.html", (FIXTURES / "posts" / "summit-2.html").read_bytes())
    await sources.poll(source_id, now=later(61), guild_id=None)
    assert source_row(library, source_id).etag is not None
    assert (await sources.poll(source_id, now=later(122), guild_id=None)).status == "not_modified"


@pytest.mark.parametrize(("link", "reason"), [
    ("http://[::1", "not a valid link"),
    ("http://127.0.0.1:99999/", "not a valid link (port out of range)"),
    ("https://user:pw@127.0.0.1:0/x", "not a valid link (port out of range)"),
    (f"http://{'a' * 64}.com/", "not a valid link (bad host name)"),
    ("http://a..b/", "not a valid link (bad host name)"),
    ("http://.example/", "not a valid link (bad host name)"),
    ("http://xn--ls8h.la/", "not a valid link (bad host name)"),  # not valid IDNA
    (f"http://{'a.' * 127}a/", "not a valid link (bad host name)"),  # 255 characters
])
@pytest.mark.parametrize("guild_id", [None, GUILD])
async def test_a_malformed_link_is_a_clear_error(sources: SourcesService, link: str,
                                                 reason: str, guild_id: int | None) -> None:
    """A malformed link (unclosed IPv6 bracket, port out of range, a host name DNS cannot hold)
    is refused with a clear message, from the command line and from Discord alike, never an
    internal error."""
    added_by = None if guild_id is None else "1"
    [result] = await sources.add(link, guild_id=guild_id, added_by=added_by)
    assert result.status == "error"
    assert result.message.startswith(reason), result.message


async def test_a_failed_explicit_poll_logs_no_warning_without_a_notifier(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService,
        caplog: pytest.LogCaptureFixture) -> None:
    """Polling a broken feed on request (the CLI: no notifier) returns "failed" and logs no
    warning: neither about a notice that could not be sent nor the failure itself."""
    web.route("feed.xml", FEED.format(path="late.html"), "application/rss+xml")
    await sources.add(web.url("feed.xml"), guild_id=None)
    source_id = source_id_of(library, web.url("feed.xml"))
    web.route("feed.xml", "gone", status=404)
    caplog.set_level(logging.WARNING)
    for n in range(1, polling.FAILING_AFTER + 1):  # up to the failing notice
        outcome = await sources.poll(source_id, now=later(61 * n), guild_id=None)
        assert outcome.status == "failed"
    assert source_row(library, source_id).failing
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_a_failed_scheduled_poll_still_warns_the_operator(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService,
        caplog: pytest.LogCaptureFixture) -> None:
    """A due poll that fails has nobody to report to but the operator's log: a warning."""
    web.route("feed.xml", FEED.format(path="late.html"), "application/rss+xml")
    await sources.add(web.url("feed.xml"), guild_id=None)
    web.route("feed.xml", "gone", status=404)
    caplog.set_level(logging.WARNING)
    [outcome] = await sources.poll_due(now=later(61))
    assert outcome.status == "failed"
    assert "failed (1 in a row)" in caplog.text


async def test_removing_a_source_twice_says_it_was_already_stopped(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """The second removal of a source is a clear BadInput, for the operator and a server."""
    web.route("feed.xml", FEED.format(path="late.html"), "application/rss+xml")
    await sources.add(web.url("feed.xml"), guild_id=GUILD, added_by="1")
    source_id = source_id_of(library, web.url("feed.xml"))
    assert not sources.remove(source_id, guild_id=GUILD).active
    with pytest.raises(BadInput, match=f"source #{source_id} was already stopped"):
        sources.remove(source_id, guild_id=GUILD)
    with pytest.raises(BadInput, match="already stopped"):
        sources.remove(source_id, guild_id=None)


async def test_an_entry_linking_to_a_non_web_address_is_not_retried(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """An entry whose link can never be fetched (a file: link) is settled at once (the feed's
    own text, here too short to store, is what there is), not reported "(will retry)" as if a
    later poll could fetch it."""
    web.route("feed.xml", FEED.replace("/{path}", "file:///etc/passwd"),
              "application/rss+xml")
    [result] = await sources.add(web.url("feed.xml"), guild_id=None)
    assert result.status == "added" and "will retry" not in result.message, result.message
    source_id = source_id_of(library, web.url("feed.xml"))
    assert "almost no text" in result.message and feed_articles(library, source_id) == []

"""Outside QA's hostile input, pinned through the real service and the local fake web: overlong
feed and upload titles, whole-poll deadlines, pages with no words, mislabelled charsets,
impossible dates and entries that are no article."""

from __future__ import annotations

import datetime as dt
import logging
import random
import re
import time
from pathlib import Path

import pytest

from knowledge.ingest import MAX_TITLE_CHARS
from knowledge.service import KnowledgeService
from knowledge.sources.service import SourcesService
from tests.fakes.web_server import FIXTURES, FakeWeb
from tests.knowledge.sources.service.conftest import (
    feed_articles,
    later,
    source_id_of,
    source_row,
)

ARTICLE = (FIXTURES / "posts" / "summit-2.html").read_bytes()
FOUNDING = Path(__file__).resolve().parents[4] / "knowledge" / "corpus" / "founding"


def feed(title: str, items: str = "") -> str:
    """An RSS feed titled ``title`` with ``items`` (<item> elements)."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{title}</title><link>/</link>
<description>d</description>{items}</channel></rss>"""


def item(path: str, title: str = "An Entry", date: str = "Mon, 01 Jul 2019 06:00:00 GMT",
         description: str = "A short teaser. Read more…", guid: str | None = None) -> str:
    """One summary-only <item> linking to ``path`` on the fake web."""
    return (f"<item><title>{title}</title><link>/{path}</link><guid>{guid or '/' + path}</guid>"
            f"<pubDate>{date}</pubDate><description>{description}</description></item>")


async def test_a_huge_feed_title_is_capped_in_the_library_its_result_and_the_log(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService,
        caplog: pytest.LogCaptureFixture) -> None:
    """A feed whose <title> is 200,000 characters is stored with a title capped like an
    article's; the result names it in a short line and no log line quotes it whole."""
    web.route("feed.xml", feed("X" * 200_000, item("a.html")), "application/rss+xml")
    web.route("a.html", ARTICLE)
    with caplog.at_level(logging.DEBUG):
        [result] = await sources.add(web.url("feed.xml"), guild_id=None)
    assert result.status == "added", result.message[:300]
    stored = source_row(library, source_id_of(library, web.url("feed.xml"))).title
    assert stored is not None and 100 < len(stored) <= MAX_TITLE_CHARS
    assert len(result.message) < 1_000
    assert max(len(r.getMessage()) for r in caplog.records) < 2_000


async def test_an_uploads_huge_heading_is_capped_as_its_source_title(
        sources: SourcesService, library: KnowledgeService) -> None:
    """An uploaded Markdown file whose heading is 5,000 characters gets a source title capped
    like an article's."""
    text = "# " + "Heading " * 625 + "\n\n" + ARTICLE.decode("utf-8")
    result = await sources.add_upload("long.md", text.encode(), guild_id=None)
    assert result.status == "added", result.message[:300]
    [status] = [s for s in sources.list(None) if s.kind == "file"]
    assert status.title is not None and len(status.title) <= MAX_TITLE_CHARS


async def test_a_feed_add_stops_fetching_entry_pages_at_its_deadline(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """12 summary-only entries whose pages trickle for ever: the add ends at
    FEED_POLL_DEADLINE_SECONDS (not 3 rounds of the 5 s page limit), says how many entries
    were left for the next poll, counts none as a failed try, and the next poll reads them."""
    library.library.settings = library.settings.model_copy(
        update={"feed_poll_deadline_seconds": 1.0})
    def items(path: str) -> str:
        return "".join(item(f"{path}?n={n}", title=f"Entry {n}", guid=f"entry-{n}",
                            date=f"Mon, {n + 1:02d} Jul 2019 06:00:00 GMT") for n in range(12))

    web.route("feed.xml", feed("Slow Pages", items("trickle")), "application/rss+xml")
    started = time.monotonic()
    [result] = await sources.add(web.url("feed.xml"), kind="feed", guild_id=None)
    assert time.monotonic() - started < 4.0
    assert result.status == "added", result.message
    assert "12 left for the next poll" in result.message, result.message
    assert "could not be read" not in result.message
    source_id = source_id_of(library, web.url("feed.xml"))
    row = source_row(library, source_id)
    assert row.extra["entries"] == {} and row.etag is None  # nothing tried; no 304 next time

    web.route("page.html", ARTICLE)
    web.route("feed.xml", feed("Slow Pages", items("page.html")), "application/rss+xml")
    polled = await sources.poll(source_id, now=later(61), guild_id=None)
    assert polled.unreadable == 0 and "left for the next poll" not in polled.message
    assert polled.new_article_ids, polled.message  # the same entries (guids), read now


def prose(seed: int, words: int = 160) -> str:
    """Distinct ordinary prose (no near-duplicates of each other): founding-corpus words."""
    vocabulary = sorted(set(re.findall(r"[a-z]{4,}", next(FOUNDING.glob("*.txt")).read_text())))
    picked = random.Random(seed).sample(vocabulary, words)
    return ". ".join(" ".join(picked[i:i + 8]).capitalize() for i in range(0, words, 8)) + "."


async def test_impossible_feed_dates_are_unknown(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService,
        caplog: pytest.LogCaptureFixture) -> None:
    """Entries dated 9999-12-31, ten years ahead or 0001-01-01 are stored without a date
    (one log line each), so they neither top every list nor match every "since"; a real
    date, and one a few hours ahead (time zones), are kept."""
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=6)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    dates = {"far": "Fri, 31 Dec 9999 23:59:59 GMT", "ahead": "Mon, 01 Jan 2035 00:00:00 GMT",
             "early": "Mon, 01 Jan 0001 00:00:00 GMT", "real": "Mon, 01 Jul 2019 06:00:00 GMT",
             "soon": soon}
    items = "".join(item(f"{name}.html", title=f"Entry {name}", date=date, guid=name,
                         description=prose(n)) for n, (name, date) in enumerate(dates.items()))
    web.route("feed.xml", feed("Dated", items), "application/rss+xml")
    with caplog.at_level(logging.INFO, logger="knowledge.sources.documents"):
        [result] = await sources.add(web.url("feed.xml"), guild_id=None)
    assert result.message.startswith("following feed") and "5 new articles" in result.message, \
        result.message
    source_id = source_id_of(library, web.url("feed.xml"))
    published = {row.title: row.published_iso for row in feed_articles(library, source_id)}
    assert published["Entry far"] is None and published["Entry ahead"] is None
    assert published["Entry early"] is None and published["Entry real"] == "2019-07-01"
    assert published["Entry soon"] is not None
    assert len([r for r in caplog.records if "treated as unknown" in r.getMessage()]) == 3


async def test_an_entry_linking_to_no_article_is_settled_not_retried(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """Entries linking to the feed itself (a content type that is no article) are settled at
    once with the feed's own text, not "(will retry)" on three polls: nothing can change."""
    items = "".join(item("feed.xml", title=f"Self {n}", guid=f"self-{n}") for n in range(3))
    web.route("feed.xml", feed("Self", items), "application/rss+xml")
    [result] = await sources.add(web.url("feed.xml"), guild_id=None)
    assert result.status == "added" and "will retry" not in result.message, result.message
    source_id = source_id_of(library, web.url("feed.xml"))
    row = source_row(library, source_id)
    assert row.etag is not None  # nothing waits for another try: the next poll may be a 304
    polled = await sources.poll(source_id, now=later(61), guild_id=None)
    assert polled.status == "not_modified", polled.message

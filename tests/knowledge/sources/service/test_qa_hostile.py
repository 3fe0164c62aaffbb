"""Outside QA's hostile input, pinned through the real service and the local fake web: overlong
feed and upload titles, whole-poll deadlines, pages with no words, mislabelled charsets,
impossible dates and entries that are no article."""

from __future__ import annotations

import logging

import pytest

from knowledge.ingest import MAX_TITLE_CHARS
from knowledge.service import KnowledgeService
from knowledge.sources.service import SourcesService
from tests.fakes.web_server import FIXTURES, FakeWeb
from tests.knowledge.sources.service.conftest import source_id_of, source_row

ARTICLE = (FIXTURES / "posts" / "summit-2.html").read_bytes()


def feed(title: str, items: str = "") -> str:
    """An RSS feed titled ``title`` with ``items`` (<item> elements)."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{title}</title><link>/</link>
<description>d</description>{items}</channel></rss>"""


def item(path: str, title: str = "An Entry", date: str = "Mon, 01 Jul 2019 06:00:00 GMT",
         description: str = "A short teaser. Read more…") -> str:
    """One summary-only <item> linking to ``path`` on the fake web."""
    return (f"<item><title>{title}</title><link>/{path}</link><guid>/{path}</guid>"
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

"""SourcesService.add / add_upload: article links, feeds, pages advertising feeds, files, refusals."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from knowledge.models import Contributor
from knowledge.service import KnowledgeService
from knowledge.sources.service import SourcesService
from tests.fakes.web_server import FIXTURES, FakeWeb
from tests.knowledge.sources.service.conftest import (
    article_count,
    article_row,
    feed_articles,
    source_id_of,
    source_row,
)


async def test_article_link_is_stored_with_its_metadata(sources: SourcesService, web: FakeWeb,
                                                        library: KnowledgeService) -> None:
    """An article URL is fetched, extracted (title, author, date, canonical URL, site) and stored."""
    [result] = await sources.add(web.url("article.html"), guild_id=None)
    assert result.status == "added", result.message
    assert result.title == "After Nagato: What the Summit Did and Did Not Settle"
    assert result.article_id is not None
    article = (library.get_article(result.article_id, guild_id=None)).summary
    assert article.publisher == "Harbour Institute"
    assert article.published is not None and article.published.iso == "2016-12-20"
    assert article.contributors == (Contributor("Mira Kovalenko", "author"),)
    row = article_row(library, result.article_id)
    assert row.canonical_url == "https://analysis.example.org/commentary/after-nagato"
    assert row.announce is True
    [status] = sources.status(guild_id=None)
    assert (status.kind, status.articles, status.url) == ("article", 1, web.url("article.html"))
    assert row.source_id == status.id


async def test_rss_feed_is_followed_and_every_entry_stored(sources: SourcesService, web: FakeWeb,
                                                           library: KnowledgeService) -> None:
    """An RSS 2.0 link becomes a polled feed source and each of its three items an article."""
    [result] = await sources.add(web.url("rss.xml"), guild_id=None)
    assert result.status == "added", result.message
    assert result.message.startswith("following feed #")
    assert "3 new articles" in result.message
    source_id = source_id_of(library, web.url("rss.xml"))
    row = source_row(library, source_id)
    assert (row.kind, row.poll_minutes, row.title) == (
        "feed", library.settings.feed_poll_minutes, "Harbour Institute: Commentary")
    assert row.etag and row.next_poll_at is not None
    stored = feed_articles(library, source_id)
    assert sorted(a.title for a in stored) == [
        "After Nagato: What the Summit Did and Did Not Settle", "An Energy Bridge to Hokkaido?",
        "Why the 2+2 Format Matters"]
    nagato = next(a for a in stored if a.title.startswith("After Nagato"))
    summary = (library.get_article(nagato.id, guild_id=None)).summary
    assert summary.authors == ["Mira Kovalenko"]
    assert summary.published is not None and summary.published.iso == "2016-12-20"
    assert summary.publisher == "Harbour Institute"


async def test_atom_feed_is_followed_with_all_authors(sources: SourcesService, web: FakeWeb,
                                                      library: KnowledgeService) -> None:
    """An Atom 1.0 feed is followed; entries keep every author and their publication day."""
    [result] = await sources.add(web.url("atom.xml"), guild_id=None)
    assert result.status == "added", result.message
    stored = feed_articles(library, source_id_of(library, web.url("atom.xml")))
    assert len(stored) == 2
    two_plus_two = next(a for a in stored if a.title == "Why the 2+2 Format Matters")
    summary = (library.get_article(two_plus_two.id, guild_id=None)).summary
    assert summary.authors == ["Tomas Lindqvist", "Mira Kovalenko"]
    assert summary.published is not None and summary.published.iso == "2017-03-22"


async def test_summary_only_feed_gets_full_text_from_entry_pages(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """Entries that carry only a teaser are stored with the full text of their linked page."""
    [result] = await sources.add(web.url("summary-rss.xml"), guild_id=None)
    assert result.status == "added", result.message
    assert {"/posts/summit-1.html", "/posts/summit-2.html"} <= set(web.paths_requested())
    stored = feed_articles(library, source_id_of(library, web.url("summary-rss.xml")))
    feed_text = (FIXTURES / "summary-rss.xml").read_text(encoding="utf-8")
    osaka = next(a for a in stored if a.title == "Osaka and After")
    # The page's later paragraphs, which the feed's teaser does not carry.
    assert "Expectations were low" not in feed_text
    assert "Expectations were low, and the outcome matched them." in osaka.text
    assert (library.get_article(osaka.id, guild_id=None)).summary.authors == ["Tomas Lindqvist"]


async def test_first_add_announces_only_the_most_recent_entries(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """On a feed's first add every entry is indexed but only FEED_INITIAL_ANNOUNCE are announced."""
    library.library.settings = library.settings.model_copy(update={"feed_initial_announce": 1})
    library.digests.subscribe(7, 70)  # a channel that gets digests: the promise is true
    [result] = await sources.add(web.url("rss.xml"), guild_id=None)
    assert "1 of them in the next digest" in result.message
    stored = feed_articles(library, source_id_of(library, web.url("rss.xml")))
    announced = {a.title: a.announce for a in stored}
    assert announced == {"An Energy Bridge to Hokkaido?": True,  # May 2017, the newest
                         "Why the 2+2 Format Matters": False,
                         "After Nagato: What the Summit Did and Did Not Settle": False}


async def test_page_advertising_a_feed_is_followed_to_it(sources: SourcesService, web: FakeWeb,
                                                         library: KnowledgeService) -> None:
    """A page with no article text that links an RSS feed makes the feed the source."""
    [result] = await sources.add(web.url("blog-index.html"), guild_id=None)
    assert result.status == "added", result.message
    assert result.input == web.url("blog-index.html")
    [status] = sources.status(guild_id=None)
    assert (status.kind, status.url) == ("feed", web.url("rss.xml"))


async def test_kind_feed_follows_the_feed_an_article_page_advertises(
        sources: SourcesService, web: FakeWeb) -> None:
    """kind="feed" on an article page follows its advertised feed instead of storing the page."""
    [result] = await sources.add(web.url("article.html"), kind="feed", guild_id=None)
    assert result.status == "added", result.message
    [status] = sources.status(guild_id=None)
    assert (status.kind, status.url, status.articles) == ("feed", web.url("rss.xml"), 3)


async def test_kind_article_refuses_a_feed(sources: SourcesService, web: FakeWeb,
                                           library: KnowledgeService) -> None:
    """kind="article" on a feed link is an error result, and nothing is followed."""
    before = article_count(library)
    [result] = await sources.add(web.url("rss.xml"), kind="article", guild_id=None)
    assert result.status == "error"
    assert "feed, not an article" in result.message
    assert sources.status(guild_id=None) == []
    assert article_count(library) == before


async def test_adding_the_same_feed_twice_says_it_is_followed(sources: SourcesService,
                                                              web: FakeWeb) -> None:
    """A second add of a followed feed (directly or through its page) stores nothing new."""
    [first] = await sources.add(web.url("rss.xml"), guild_id=None)
    [again] = await sources.add(web.url("rss.xml"), guild_id=None)
    [via_page] = await sources.add(web.url("blog-index.html"), guild_id=None)
    assert first.status == "added"
    for result in (again, via_page):
        assert result.status == "duplicate"
        assert "already following this feed" in result.message
    assert len(sources.status(guild_id=None)) == 1


async def test_several_inputs_give_one_result_each(sources: SourcesService, web: FakeWeb) -> None:
    """Whitespace-separated inputs are added in order, each with its own result."""
    results = await sources.add(f"{web.url('article.html')}  {web.url('status/404')}\n"
                                f"{web.url('posts/summit-1.html')}", guild_id=None)
    assert [r.status for r in results] == ["added", "error", "added"]
    assert [r.input for r in results] == [web.url("article.html"), web.url("status/404"),
                                          web.url("posts/summit-1.html")]


@pytest.mark.parametrize(("path", "expected"), [
    ("status/404", "answered 404 Not Found"),
    ("status/500", "answered 500 Internal Server Error"),
    ("stall", "gave up after 1 s"),
    ("huge", "refused: the page is larger than 512 KB"),
    ("image.png", "refused: binary content (image/png)"),
    ("redirect/loop-a", "refused: the page redirects in a loop"),
    ("redirect/to?url=http://127.0.0.2:{port}/article.html",
     "refused: 127.0.0.2 is a loopback address"),
    ("redirect/to?url=http://10.1.2.3/article.html", "refused: 10.1.2.3 is a private address"),
    ("not-a-feed.xml", "not a valid RSS or Atom feed: broken XML"),
])
async def test_bad_links_are_clear_errors_and_lose_nothing(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService, path: str,
        expected: str) -> None:
    """Each misbehaving link yields one error result with its reason; stored articles stay."""
    [kept] = await sources.add(web.url("article.html"), guild_id=None)
    before = article_count(library)
    [result] = await sources.add(web.url(path.format(port=web.port)), guild_id=None)
    assert result.status == "error"
    assert expected in result.message
    assert article_count(library) == before
    assert kept.article_id is not None
    assert (library.get_article(kept.article_id, guild_id=None)).summary.title == kept.title
    assert [s.kind for s in sources.status(guild_id=None)] == ["article"]


@pytest.mark.parametrize(("text", "expected"), [
    ("ftp://example.org/file.txt", "only http and https links can be fetched"),
    ("file:///etc/passwd", "only http and https links can be fetched"),
    ("   ", "nothing to add"),
])
async def test_unusable_inputs_are_refused(sources: SourcesService, text: str,
                                           expected: str) -> None:
    """Other schemes and empty input get an error result instead of an exception."""
    [result] = await sources.add(text, guild_id=None)
    assert result.status == "error"
    assert expected in result.message


async def test_a_link_holding_bytes_that_are_not_text_is_one_error(
        sources: SourcesService, web: FakeWeb, caplog: pytest.LogCaptureFixture) -> None:
    """`add $'http://host/\\xe9.html'` is refused as not a valid link, with no internal error."""
    [result] = await sources.add(f"{web.base_url}/\udce9.html", guild_id=None)
    assert (result.status, result.message) == (
        "error", f"not a valid link: {web.base_url}/\\xe9.html (it holds bytes that are not "
                 "text)")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert sources.status(guild_id=None) == []


async def test_a_link_with_non_ascii_characters_is_added(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """An IRI is fetched percent-encoded and the article stored under that URL."""
    web.route("caf%C3%A9.html", (FIXTURES / "article.html").read_bytes())
    [result] = await sources.add(f"{web.base_url}/café.html", guild_id=None)
    assert result.status == "added", result.message
    assert result.article_id is not None
    assert library.get_article(result.article_id, guild_id=None).summary.url == web.url("caf%C3%A9.html")


async def test_malformed_feed_keeps_the_entries_it_can_read(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """A feed with broken XML is still followed for the items the parser recovered."""
    broken = (FIXTURES / "malformed-rss.xml").read_text(encoding="utf-8").replace(
        "https://analysis.example.org/commentary/lima-notes", web.url("posts/summit-1.html"),
    ).replace("https://analysis.example.org/commentary/second", web.url("posts/summit-2.html"))
    web.route("/broken.xml", broken, "application/rss+xml")
    [result] = await sources.add(web.url("broken.xml"), guild_id=None)
    assert result.status == "added", result.message
    stored = feed_articles(library, source_id_of(library, web.url("broken.xml")))
    assert [a.title for a in stored] == ["Second item", "Notes from Lima & Beyond"]


async def test_local_file_is_added_from_the_command_line_only(
        sources: SourcesService, library: KnowledgeService) -> None:
    """A path is read for operator calls; a call on behalf of a Discord user refuses it."""
    path = str(FIXTURES / "uploads" / "brief.md")
    [refused] = await sources.add(path, guild_id=1, added_by="admin#1")
    assert refused.status == "error" and "only links" in refused.message
    [added] = await sources.add(path, guild_id=None)
    assert added.status == "added", added.message
    [status] = sources.status(guild_id=None)
    assert (status.kind, status.articles) == ("file", 1)
    [missing] = await sources.add("no-such-file.txt", guild_id=None)
    assert (missing.status, missing.message) == ("error", "no such file: no-such-file.txt")


async def test_upload_is_ingested_as_a_file_source(sources: SourcesService,
                                                   library: KnowledgeService) -> None:
    """An uploaded PDF is read and stored; the source remembers who added it and where."""
    data = (FIXTURES / "report.pdf").read_bytes()
    result = await sources.add_upload("report.pdf", data, guild_id=42, added_by="admin#1")
    assert result.status == "added", result.message
    [status] = sources.status(guild_id=42)
    assert (status.kind, status.title, status.articles) == ("file", result.title, 1)
    row = source_row(library, status.id)
    assert (row.guild_id, row.added_by) == (42, "admin#1")


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("tool.exe", b"MZ\x90\x00" + bytes(200), "unsupported file type: .exe"),
    ("picture.txt", (FIXTURES / "image.png").read_bytes(), "unsupported file type"),
    ("empty.md", b"   ", "empty.md is empty"),
])
async def test_unreadable_uploads_are_refused(sources: SourcesService, name: str, data: bytes,
                                              expected: str) -> None:
    """Binary or empty uploads get a clear refusal and create no source."""
    result = await sources.add_upload(name, data, guild_id=None)
    assert result.status == "error"
    assert expected in result.message
    assert sources.status(guild_id=None) == []



async def test_an_unexpected_error_is_an_error_result(
        sources: SourcesService, web: FakeWeb, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug while adding one input becomes a generic error result; the next input still works."""
    def broken_extractor(*args: object, **kwargs: object) -> None:
        raise RuntimeError("extractor bug")

    monkeypatch.setattr("knowledge.sources.service.extract_article", broken_extractor)
    results = await sources.add(f"{web.url('article.html')} {web.url('rss.xml')}", guild_id=None)
    assert [r.status for r in results] == ["error", "added"]
    assert "internal error" in results[0].message


async def test_a_file_whose_name_is_not_utf8_is_added(sources: SourcesService,
                                                      tmp_path: Path) -> None:
    """A local file named with bytes that are not UTF-8 (Linux allows it) is read by its real
    name and stored with those bytes shown as U+FFFD (it used to fail on the insert)."""
    folder = tmp_path
    name = os.fsdecode(b"caf\xe9 notes.txt")
    (folder / name).write_text("Notes on the islands. " + "Abe and Putin met in Moscow and "
                               "talked about joint economic activity on the islands. " * 4,
                               encoding="utf-8")
    [result] = await sources.add(str(folder / name), guild_id=None)
    assert result.status == "added", result.message
    assert "caf\ufffd notes.txt" in result.input


async def test_words_that_are_no_links_are_one_refusal(sources: SourcesService) -> None:
    """`/source add url: not a url`: one refusal for the text as typed, not one per word (the
    words are several inputs only when one of them looks like a link or a path)."""
    [refused] = await sources.add("not a url", guild_id=1, added_by="admin#1")
    assert (refused.input, refused.status) == ("not a url", "error")
    assert refused.message.startswith("only links starting with http:// or https://")
    two = await sources.add("https://a.example/x www.b.example", guild_id=1, added_by="admin#1")
    assert [r.input for r in two] == ["https://a.example/x", "www.b.example"]


async def test_no_digest_is_promised_to_a_server_without_one(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """A feed added by a server none of whose channels asked for digests: the reply says so
    instead of "3 of them in the next digest" (an outside admin waited for that digest); once a
    channel of the server asks, the promise is made again. Another server's digest is none of
    this server's."""
    library.digests.subscribe(8, 80)  # another server's channel
    [first] = await sources.add(web.url("rss.xml"), guild_id=7, added_by="admin#1")
    assert first.status == "added", first.message
    assert "in the next digest" not in first.message
    assert first.message.endswith("; no channel of this server gets digests yet (/digest set)")
    library.digests.subscribe(7, 70)
    [again] = await sources.add(web.url("summary-rss.xml"), guild_id=7, added_by="admin#1")
    assert again.status == "added", again.message
    assert "of them in the next digest" in again.message

"""parse_feed(), looks_like_feed() and the summary-only heuristic."""

from __future__ import annotations

import logging

import pytest

from knowledge.sources import (
    FeedError,
    FetchSettings,
    extract_article,
    is_summary_only,
    looks_like_feed,
    parse_feed,
)
from knowledge.sources.fetch import fetch
from tests.fakes.web_server import FIXTURES, FakeWeb

BASE = "https://analysis.example.org/feeds/"


def fixture(name: str) -> bytes:
    """Bytes of a web fixture."""
    return (FIXTURES / name).read_bytes()


def test_rss_2_feed_and_entries() -> None:
    """RSS 2.0: channel title/link and every item with guid, author, date and full content."""
    feed = parse_feed(fixture("rss.xml"), BASE + "rss.xml")
    assert feed.title == "Harbour Institute: Commentary"
    assert feed.link == "https://analysis.example.org/commentary"
    assert feed.language == "en"
    assert [e.id for e in feed.entries] == [
        "harbour-2016-12-after-nagato", "harbour-2017-03-two-plus-two",
        "harbour-2017-05-energy-bridge"]
    first = feed.entries[0]
    assert first.title == "After Nagato: What the Summit Did and Did Not Settle"
    assert first.link == "https://analysis.example.org/commentary/after-nagato"
    assert first.authors == ("Mira Kovalenko",)
    assert first.published == "2016-12-20T08:00:00+00:00"
    assert first.summary_text.startswith("The summit produced a framework")
    assert first.content_text and "legal regime itself" in first.content_text
    assert not first.is_summary_only
    assert first.text == first.content_text


def test_rss_dates_are_converted_to_utc() -> None:
    """A pubDate with an offset (+0300) is given in UTC."""
    feed = parse_feed(fixture("rss.xml"), BASE)
    assert feed.entries[1].published == "2017-03-22T06:30:00+00:00"


def test_content_text_keeps_paragraphs() -> None:
    """HTML content becomes plain text, one paragraph per line, no tags."""
    content = parse_feed(fixture("rss.xml"), BASE).entries[0].content_text or ""
    assert "<p>" not in content
    assert len(content.splitlines()) == 3


def test_atom_feed() -> None:
    """Atom 1.0: several authors, published date, html and xhtml content."""
    feed = parse_feed(fixture("atom.xml"), BASE + "atom.xml")
    assert feed.title == "Harbour Institute: Security Notes"
    assert feed.link == "https://analysis.example.org/security"
    first, second = feed.entries
    assert first.id == "tag:analysis.example.org,2017:two-plus-two"
    assert first.authors == ("Tomas Lindqvist", "Mira Kovalenko")
    assert first.published == "2017-03-22T06:30:00+00:00"
    assert not first.is_summary_only
    assert second.content_text and second.content_text.startswith("Energy cooperation")


def test_atom_entry_falls_back_to_updated_date() -> None:
    """An entry without <published> is dated by <updated>."""
    second = parse_feed(fixture("atom.xml"), BASE).entries[1]
    assert second.published == "2017-05-16T07:00:00+00:00"


def test_html_titles_become_plain_text() -> None:
    """A title marked type="html" is unescaped once into plain text."""
    assert parse_feed(fixture("atom.xml"), BASE).entries[1].title == "Energy & Security"


def test_relative_links_resolve_against_the_feed_url() -> None:
    """Relative entry and channel links are made absolute with the feed's own URL."""
    feed = parse_feed(fixture("summary-rss.xml"), "http://127.0.0.1:8000/summary-rss.xml")
    assert feed.link == "http://127.0.0.1:8000/briefs"
    assert [e.link for e in feed.entries] == [
        "http://127.0.0.1:8000/posts/summit-1.html", "http://127.0.0.1:8000/posts/summit-2.html"]
    atom = parse_feed(fixture("atom.xml"), "https://analysis.example.org/security/atom.xml")
    assert atom.entries[1].link == "https://analysis.example.org/security/energy-and-security"


def test_summary_only_feed_is_flagged() -> None:
    """Teasers (short, ending in '[…]' or 'Read more…', no content) are marked summary-only."""
    feed = parse_feed(fixture("summary-rss.xml"), BASE)
    assert [e.is_summary_only for e in feed.entries] == [True, True]
    assert all(e.content_text is None for e in feed.entries)
    assert feed.entries[0].authors == ("Mira Kovalenko",)  # "email (Name)" keeps the name


async def test_summary_only_entries_lead_to_full_pages(
    web: FakeWeb, fetch_settings: FetchSettings,
) -> None:
    """Fetching a teaser's link and extracting it yields the full article the feed cut short."""
    result = await fetch(web.url("summary-rss.xml"), settings=fetch_settings)
    feed = parse_feed(result.content, result.final_url, content_type=result.content_type)
    entry = feed.entries[0]
    assert entry.link == web.url("posts/summit-1.html")
    page = await fetch(entry.link, settings=fetch_settings)
    article = extract_article(page.text, page.final_url)
    assert "humanitarian arrangement" in article.text
    assert len(article.text) > len(entry.summary_text)
    assert not is_summary_only(article.text)


def test_malformed_feed_with_items_is_accepted(caplog: pytest.LogCaptureFixture) -> None:
    """A feed with XML errors still yields the items the parser recovered, with an INFO line for
    the operator (the feed was read: no WARNING on the CLI user's screen)."""
    with caplog.at_level(logging.INFO, logger="knowledge.sources.feeds"):
        feed = parse_feed(fixture("malformed-rss.xml"), BASE + "malformed-rss.xml")
    assert [e.title for e in feed.entries] == ["Notes from Lima & Beyond", "Second item"]
    assert feed.entries[0].id == "https://analysis.example.org/commentary/lima-notes"
    assert [r.levelno for r in caplog.records if "malformed but readable" in r.getMessage()
            ] == [logging.INFO]


def test_broken_feed_without_items_is_refused() -> None:
    """A feed cut off before any item raises FeedError with the parser's reason."""
    with pytest.raises(FeedError) as caught:
        parse_feed(fixture("not-a-feed.xml"), BASE)
    assert caught.value.message == "not a valid RSS or Atom feed: broken XML (no element found)"


@pytest.mark.parametrize(("data", "reason"), [
    (fixture("article.html"), "this is a web page, not a feed"),
    (b"   ", "the document is empty"),
    (b'{"items": []}', "this is not XML"),
    (b'<?xml version="1.0"?><sitemap><url>x</url></sitemap>', "no <rss> or <feed> element found"),
])
def test_non_feeds_are_refused(data: bytes, reason: str) -> None:
    """Web pages, empty bodies and JSON are not feeds; the message says which."""
    with pytest.raises(FeedError) as caught:
        parse_feed(data, BASE)
    assert caught.value.message == f"not a valid RSS or Atom feed: {reason}"


def test_valid_empty_feed_has_no_entries() -> None:
    """A well-formed feed with no items is a feed, just an empty one."""
    feed = parse_feed(b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title>'
                      b"<link>https://example.org/</link></channel></rss>", BASE)
    assert feed.title == "Quiet" and feed.entries == ()


def test_second_version_keeps_ids_and_changes_the_title() -> None:
    """The edited feed keeps each guid, so an update is told apart from a new entry."""
    old = parse_feed(fixture("rss.xml"), BASE)
    new = parse_feed(fixture("rss-v2.xml"), BASE)
    assert [e.id for e in old.entries] == [e.id for e in new.entries]
    changed = [(a.title, b.title) for a, b in zip(old.entries, new.entries, strict=True)
               if a.title != b.title]
    assert changed == [("After Nagato: What the Summit Did and Did Not Settle",
                        "After Nagato: A Framework, Not a Breakthrough")]


def test_text_input_ignores_its_stale_encoding_declaration() -> None:
    """Already-decoded text whose prolog says latin-1 is not decoded a second time."""
    xml = ('<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel>'
           "<title>Café notes</title><item><title>Résumé</title><guid>1</guid></item>"
           "</channel></rss>")
    feed = parse_feed(xml, BASE)
    assert feed.title == "Café notes"
    assert feed.entries[0].title == "Résumé"


def test_latin1_bytes_use_their_declaration() -> None:
    """Bytes in latin-1 with a matching declaration decode correctly."""
    xml = ('<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel>'
           "<title>Café notes</title><item><title>x</title><guid>1</guid></item></channel></rss>"
           ).encode("latin-1")
    assert parse_feed(xml, BASE).title == "Café notes"


def test_entry_without_guid_or_link_gets_a_stable_id() -> None:
    """Items with neither guid nor link get the same id on every parse."""
    xml = (b'<rss version="2.0"><channel><title>t</title><item><title>Only a title</title>'
           b"<pubDate>Mon, 01 Jul 2019 06:00:00 GMT</pubDate></item></channel></rss>")
    first = parse_feed(xml, BASE).entries[0].id
    assert first.startswith("sha1:")
    assert parse_feed(xml, BASE).entries[0].id == first


async def test_a_url_string_is_never_fetched(web: FakeWeb) -> None:
    """A str that looks like a URL is parsed as text, never opened by feedparser."""
    with pytest.raises(FeedError):
        parse_feed(web.url("rss.xml"), BASE)
    assert web.requests == []


@pytest.mark.parametrize(("content_type", "text", "expected"), [
    ("application/rss+xml", "", True),
    ("application/atom+xml; charset=utf-8", "", True),
    (None, fixture("rss.xml"), True),
    ("text/xml", fixture("atom.xml").decode(), True),
    ("application/xml", '\ufeff<?xml version="1.0"?>\n<!-- generator -->\n<rdf:RDF>', True),
    ("text/html", fixture("article.html").decode(), False),
    ("application/xml", '<?xml version="1.0"?><sitemap></sitemap>', False),
    (None, "plain words about feeds and <rss> tags", False),
    ("text/plain", "", False),
])
def test_looks_like_feed(content_type: str | None, text: str | bytes, expected: bool) -> None:
    """Feed media types count; otherwise the document's root element decides."""
    assert looks_like_feed(content_type, text) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("short teaser", True),
    ("x" * 700, False),
    ("x" * 700 + " […]", True),
    ("x" * 700 + " [...]", True),
    ("x" * 700 + "…", True),
    ("x" * 700 + " Read more", True),
    ("x" * 700 + " Continue reading →", True),
    ("x" * 700 + ".", False),
])
def test_is_summary_only(text: str, expected: bool) -> None:
    """Short texts and texts cut off with an ellipsis or 'read more' are teasers."""
    assert is_summary_only(text) is expected

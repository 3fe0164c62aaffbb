"""extract_article(), discover_feeds() and canonicalize_url()."""

from __future__ import annotations

import pytest

from knowledge.sources import (
    FetchSettings,
    canonicalize_url,
    discover_feeds,
    extract_article,
)
from knowledge.sources.fetch import fetch
from tests.fakes.web_server import FIXTURES, FakeWeb

ARTICLE_URL = "https://analysis.example.org/commentary/after-nagato?utm_source=rss"


@pytest.fixture(scope="module")
def article_html() -> str:
    """The article fixture with page furniture around the body."""
    return (FIXTURES / "article.html").read_text(encoding="utf-8")


def test_keeps_the_article_body(article_html: str) -> None:
    """Every body paragraph survives extraction, first and last."""
    article = extract_article(article_html, ARTICLE_URL)
    assert article.text.startswith("The two-day meeting in Nagato and Tokyo")
    assert "Critics in Tokyo called the outcome" in article.text
    assert article.text.endswith("officials who will meet in the spring.")


@pytest.mark.parametrize("furniture", [
    "Donate", "About us", "Share on Twitter", "Related articles", "Notes from Lima",
    "Accept all cookies", "All rights reserved", "Privacy policy", "weekly newsletter",
])
def test_drops_page_furniture(article_html: str, furniture: str) -> None:
    """Navigation, share buttons, teasers, cookie banner and footer are not article text."""
    assert furniture not in extract_article(article_html, ARTICLE_URL).text


def test_reads_the_metadata(article_html: str) -> None:
    """Title, author, date, language, site name and description come from the page."""
    article = extract_article(article_html, ARTICLE_URL)
    assert article.title == "After Nagato: What the Summit Did and Did Not Settle"
    assert article.authors == ("Mira Kovalenko",)
    assert article.published == "2016-12-20"
    assert article.language == "en"
    assert article.site_name == "Harbour Institute"
    assert article.description and "December summit" in article.description


def test_text_does_not_repeat_the_title(article_html: str) -> None:
    """The headline is in ``title`` only, not again as the first line of ``text``."""
    article = extract_article(article_html, ARTICLE_URL)
    assert not article.text.startswith("After Nagato")


def test_canonical_url_is_declared_and_cleaned(article_html: str) -> None:
    """<link rel=canonical> wins over the fetched URL, without its tracking parameters."""
    article = extract_article(article_html, "http://127.0.0.1:8000/article.html")
    assert article.canonical_url == "https://analysis.example.org/commentary/after-nagato"


def test_feed_links_are_absolute(article_html: str) -> None:
    """A relative feed link is resolved against the page URL."""
    article = extract_article(article_html, "http://127.0.0.1:8000/commentary/after-nagato")
    assert article.feed_links == ("http://127.0.0.1:8000/rss.xml",)


def test_discovers_rss_and_atom_once_each() -> None:
    """Both feed types are found, duplicates (same URL, other fragment) and non-feeds skipped."""
    html = (FIXTURES / "blog-index.html").read_text(encoding="utf-8")
    assert discover_feeds(html, "https://blog.example.org/commentary/") == (
        "https://blog.example.org/rss.xml",
        "https://blog.example.org/commentary/atom.xml",
    )


def test_base_href_is_honoured() -> None:
    """<base href> changes what relative feed links resolve against."""
    html = ('<html><head><base href="https://cdn.example.org/site/">'
            '<link rel="alternate" type="application/atom+xml" href="feed.atom"></head></html>')
    assert discover_feeds(html, "https://example.org/page") == (
        "https://cdn.example.org/site/feed.atom",)


def test_og_url_when_no_canonical_link() -> None:
    """og:url is the canonical URL when there is no <link rel=canonical>."""
    html = ('<html><head><meta property="og:url" content="https://example.org/a/b/?fbclid=1">'
            "</head><body><p>Text.</p></body></html>")
    assert extract_article(html, "https://m.example.org/a/b").canonical_url == (
        "https://example.org/a/b")


def test_canonical_pointing_home_is_ignored() -> None:
    """A template bug that points every page's canonical at the home page is not trusted."""
    html = ('<html><head><link rel="canonical" href="https://example.org/"></head>'
            "<body><p>Text.</p></body></html>")
    article = extract_article(html, "https://example.org/2017/04/visit#top")
    assert article.canonical_url == "https://example.org/2017/04/visit"


def test_page_without_article_has_empty_text() -> None:
    """A page with no article body yields text "" (and still its feed links), not an error."""
    html = (FIXTURES / "blog-index.html").read_text(encoding="utf-8")
    article = extract_article(html, "https://blog.example.org/")
    assert article.title == "Commentary"
    assert len(article.feed_links) == 2
    assert article.text == ""


def test_empty_document() -> None:
    """Empty input gives an empty article rather than an exception."""
    article = extract_article("", "https://example.org/x")
    assert article.text == "" and article.title is None
    assert article.canonical_url == "https://example.org/x"


def test_bytes_with_xml_declaration() -> None:
    """Bytes input (as fetched) with an encoding declaration is accepted."""
    html = ('<?xml version="1.0" encoding="iso-8859-1"?><html><head><title>Caf\xe9 talks</title>'
            "</head><body><article><p>" + "R\xe9sum\xe9 of the talks in Moscow. " * 20
            + "</p></article></body></html>").encode("latin-1")
    article = extract_article(html, "https://example.org/x")
    assert "Résumé of the talks" in article.text


async def test_fetch_then_extract(web: FakeWeb, fetch_settings: FetchSettings) -> None:
    """The two steps compose: a fetched page's text is extracted with its final URL."""
    result = await fetch(web.url("redirect/article"), settings=fetch_settings)
    article = extract_article(result.text, result.final_url)
    assert article.authors == ("Mira Kovalenko",)
    assert article.feed_links == (web.url("rss.xml"),)


@pytest.mark.parametrize(("url", "expected"), [
    ("HTTPS://Example.ORG/Path", "https://example.org/Path"),
    ("https://example.org:443/a", "https://example.org/a"),
    ("http://example.org:80/a", "http://example.org/a"),
    ("https://example.org:8443/a", "https://example.org:8443/a"),
    ("https://example.org", "https://example.org/"),
    ("https://example.org/a/", "https://example.org/a"),
    ("https://example.org/a#section-2", "https://example.org/a"),
    ("https://example.org/a?utm_source=x&utm_medium=y&id=7&fbclid=z&gclid=w", "https://example.org/a?id=7"),
    ("https://example.org/a?b=2&a=1", "https://example.org/a?b=2&a=1"),
    ("https://example.org/search?q=a+b%2Fc", "https://example.org/search?q=a+b%2Fc"),
    ("https://user:pw@example.org/a", "https://example.org/a"),
    ("https://EXAMPLE.org./a", "https://example.org/a"),
    ("  https://example.org/a  ", "https://example.org/a"),
    ("mailto:someone@example.org", "mailto:someone@example.org"),
])
def test_canonicalize_url(url: str, expected: str) -> None:
    """Case, default ports, fragments, tracking parameters and trailing slashes are normalised;
    the remaining query is kept byte for byte and in order."""
    assert canonicalize_url(url) == expected


def test_canonicalize_url_is_idempotent() -> None:
    """Normalising twice changes nothing."""
    once = canonicalize_url("HTTP://Example.org:80/a/b/?utm_campaign=c&x=1#f")
    assert canonicalize_url(once) == once

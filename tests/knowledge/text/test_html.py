"""html_to_text(): the one HTML-to-text function, for fragments and whole pages."""

from __future__ import annotations

from knowledge.text.html import html_to_text
from tests.fakes.web_server import FIXTURES


def test_fragment_keeps_paragraphs_and_unescapes() -> None:
    """Block elements become lines; entities are decoded once; inline tags vanish."""
    assert html_to_text("<p>First &amp; <b>bold</b></p><ul><li>one</li><li>two</li></ul>") == (
        "First & bold\none\ntwo")


def test_whole_page_gives_its_body_without_scripts() -> None:
    """A document's head, scripts and styles are not text; its body is."""
    page = ("<!DOCTYPE html><html><head><title>Head title</title><style>p{}</style></head>"
            "<body><script>var x = 1;</script><h1>Heading</h1><p>Body text.</p></body></html>")
    assert html_to_text(page) == "Heading\nBody text."


def test_plain_text_and_empty_input() -> None:
    """Text without tags is only unescaped and tidied; nothing gives nothing."""
    assert html_to_text("  Fish &amp; chips \n\n  today ") == "Fish & chips\ntoday"
    assert html_to_text(None) == html_to_text("  ") == ""


def test_fixture_article_reads_as_its_visible_text() -> None:
    """The fixture page's article paragraphs come through in order."""
    text = html_to_text((FIXTURES / "article.html").read_text(encoding="utf-8"))
    assert "After Nagato" in text
    assert "<" not in text

"""Hostile inputs, generated when asked for (no bombs in the repository), served by a FakeWeb.

Each case is a URL path on the fake web server and the outcome it must end in when added through
the CLI: a refusal with a clear reason, or a normal add (a bogus charset is no reason to refuse
a page). ``bench/hostile.py`` serves the same cases and measures each.
"""

from __future__ import annotations

import dataclasses
import gzip
import zlib
from collections.abc import Callable

from tests.fakes.web_server import FIXTURES, FakeWeb

_INFLATED = 256 * 1024 * 1024  # what the compression bombs inflate to


@dataclasses.dataclass(frozen=True)
class HostileCase:
    """One input: where it is served, and the outcome its result line must show."""

    name: str
    path: str
    status: str  # "added" or "error"
    reason: str  # a regular expression the result message must contain
    serve: Callable[[FakeWeb, str], None]


def _zeros_packed(size: int, wbits: int) -> bytes:
    """``size`` bytes of "<p>" and zeros, compressed (gzip: wbits 31, zlib: 15) chunk by chunk."""
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    parts = [packer.compress(b"<html><body><p>")]
    block = b"\0" * (1024 * 1024)
    parts.extend(packer.compress(block) for _ in range(size // len(block)))
    parts.append(packer.flush())
    return b"".join(parts)


def pdf_document(pages: int, lines_per_page: int, *, shared_kids: bool = False) -> bytes:
    """A valid PDF whose ``pages`` pages all draw one shared, compressed content stream.

    ``shared_kids``: the page tree lists one page object ``pages`` times (a page-count bomb).
    """
    text = b"".join(b"(Plenty of words repeated on every single page of this file) Tj T*\n"
                    for _ in range(lines_per_page))
    content = zlib.compress(b"BT /F1 10 Tf 12 TL 40 780 Td\n" + text + b"ET", 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, filled in below
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content
        + b"\nendstream",
    ]
    page = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 3 0 R >> >> >>")
    if shared_kids:
        objects.append(page)
        kids = b"5 0 R " * pages
    else:
        objects.extend(page for _ in range(pages))
        kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def _article(topic: str, words: int = 300) -> str:
    """A plain, honest article page about ``topic``, of about ``words`` words."""
    body = " ".join(f"{topic} sentence number {i} on the talks, with ordinary words."
                    for i in range(words // 9))
    return (f"<html><head><title>{topic}</title></head><body><article><h1>{topic}"
            f"</h1><p>{body}</p></article></body></html>")


def _route(body: bytes | str, content_type: str = "text/html; charset=utf-8",
           **headers: str) -> Callable[[FakeWeb, str], None]:
    """A serve function answering with a fixed body."""
    def serve(web: FakeWeb, path: str) -> None:
        web.route(path, body, content_type, 200, None, **headers)
    return serve


def _serve_fixture(name: str) -> Callable[[FakeWeb, str], None]:
    """Serve a fixture file from tests/fixtures/web under the case's path."""
    return _route((FIXTURES / name).read_bytes())


def _serve_feed(web: FakeWeb, path: str) -> None:
    """A feed of four teaser entries: one links to a compression bomb, one to a page whose
    charset is a codec that raised UnicodeError (and failed the whole poll) before."""
    entries: list[str] = []
    for slug, title in (("good-1", "First good entry"), ("poisoned", "Poisoned entry"),
                        ("idna", "Entry with a bogus charset"), ("good-2", "Second good entry")):
        entries.append(f"<item><title>{title}</title><link>{web.url(slug)}</link>"
                       f"<guid>{slug}</guid><pubDate>Mon, 0{len(entries) + 1} Jan 2024 10:00:00 "
                       f"GMT</pubDate><description>Teaser of {title}…</description></item>")
        page = _article(title, 250)
        web.route(slug, page)
    # The poisoned page: a charset Python knows but no page is written in, over a stacked bomb.
    web.route("poisoned", gzip.compress(gzip.compress(b"\0" * (64 * 1024 * 1024))),
              "text/html; charset=undefined", Content_Encoding="gzip, gzip")
    web.route("idna", _article("Entry with a bogus charset", 250), "text/html; charset=idna")
    feed = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Hostile Feed</title><link>{web.url('')}</link>{''.join(entries)}"
            "</channel></rss>")
    web.route(path, feed, "application/rss+xml; charset=utf-8")


def _quadratic(repeats: int) -> str:
    """Repeated blocks that trafilatura's fallback handles in quadratic time."""
    return ("<html><body>" + "<div><p>Some words here in a paragraph.</p></div>" * repeats
            + "</body></html>")


def cases() -> list[HostileCase]:
    """Every hostile case, plus the normal article the bench compares them with (first)."""
    gzip_bomb = _zeros_packed(_INFLATED, 31)
    return [
        HostileCase("normal article", "normal.html", "added", "", _serve_fixture("article.html")),
        HostileCase("gzip bomb", "bomb-gzip.html", "error", "larger than",
                    _route(gzip_bomb, Content_Encoding="gzip")),
        HostileCase("deflate bomb", "bomb-deflate.html", "error", "larger than",
                    _route(_zeros_packed(_INFLATED, 15), Content_Encoding="deflate")),
        HostileCase("stacked gzip bomb", "bomb-stacked.html", "error", "stacked several",
                    _route(gzip.compress(gzip_bomb), Content_Encoding="gzip, gzip")),
        HostileCase("quadratic HTML", "quadratic.html", "error", "too complex to extract",
                    _route(_quadratic(48_000))),
        HostileCase("too many elements", "elements.html", "error", "more than .* HTML elements",
                    _route("<html><body>" + "<b>x</b>" * 300_000 + "</body></html>")),
        HostileCase("deeply nested HTML", "nested.html", "error", "almost no text",
                    _route("<html><body>" + "<div>" * 90_000 + "deep" + "</div>" * 90_000
                           + "</body></html>")),
        HostileCase("huge attribute", "attribute.html", "added", "",
                    _route(_article("Huge attribute").replace(
                        "<article>", '<article data-x="' + "a" * 2_000_000 + '">'))),
        HostileCase("NUL bytes", "nul.html", "error", "binary content",
                    _route(_article("Early NUL").replace(" on the talks", "\0 on the talks"))),
        HostileCase("NUL bytes after the sniffed head", "nul-late.html", "added", "",
                    _route(_article("Late NUL", 3000).replace("number 2000 ", "number\0 2000 "))),
        # refused by the text cap or, on a loaded machine, by the extraction time cap first
        HostileCase("PDF text bomb", "bomb.pdf", "error", "too much text|too complex to extract",
                    _route(pdf_document(250, 3000), "application/pdf")),
        HostileCase("PDF page-count bomb", "pages.pdf", "error", "too complex to extract",
                    _route(pdf_document(200_000, 1, shared_kids=True), "application/pdf")),
        HostileCase("bogus charset in the header", "charset-header.html", "added", "",
                    _route(_article("Charset header"), "text/html; charset=zlib")),
        HostileCase("bogus charset in <meta>", "charset-meta.html", "added", "",
                    _route(_article("Charset meta").replace(
                        "<head>", '<head><meta charset="undefined">'), "text/html")),
        # 150 kB without a sentence end: meeting linking was quadratic in a sentence's length
        # (~30 s here, over 15 minutes at 1.8 MB); now cut into pieces of at most 900 chars.
        HostileCase("one paragraph without sentence ends", "one-paragraph.txt", "added",
                    r"\(\d{3} passages\)",
                    _route(" ".join(f"the summit negotiators talked {n}" for n in range(4500)),
                           "text/plain; charset=utf-8")),
        # No words: one <p> of 900,000 entities, and one endless string (were stored as about
        # a thousand passages of "&&&&" or "xxxx").
        HostileCase("symbols only", "symbols.html", "error", "almost no readable text",
                    _route("<html><body><p>" + "&amp;" * 900_000 + "</p></body></html>")),
        HostileCase("one endless word", "endless.txt", "error", "almost no readable text",
                    _route("T\n\n" + "x" * 999_000, "text/plain; charset=utf-8")),
        # Latin-1 bytes under the header's charset=utf-8 (were stored with U+FFFD in them).
        HostileCase("Latin-1 labelled UTF-8", "latin1.html", "added", "“Café Ünïcödé”",
                    _route(_article("Café Ünïcödé").encode("latin-1"))),
        HostileCase("feed with one poisoned entry", "poisoned-feed.xml", "added",
                    r"3 new articles, 1 could not be read \(Poisoned entry: refused: the server "
                    r"stacked several content encodings", _serve_feed),
    ]

"""fetch(): safe HTTP against the local fake web server."""

from __future__ import annotations

import dataclasses
import gzip
import logging
import re
import tracemalloc

import pytest

from knowledge.errors import KnowledgeError
from knowledge.sources import FEED_TYPES, FetchError, FetchSettings
from knowledge.sources.fetch import fetch
from tests.fakes.web_server import FIXTURES, FakeWeb

PNG = (FIXTURES / "image.png").read_bytes()


async def test_fetches_a_page_with_its_metadata(web: FakeWeb, fetch_settings: FetchSettings) -> None:
    """A plain 200 page comes back decoded, with type, charset and validators."""
    result = await fetch(web.url("article.html"), settings=fetch_settings)
    assert result.status == 200
    assert result.final_url == web.url("article.html")
    assert result.content_type == "text/html"
    assert result.charset == "utf-8"
    assert "After Nagato" in result.text
    assert result.content.startswith(b"<!DOCTYPE html>")
    assert result.etag and result.etag.startswith('"')
    assert result.last_modified == "Wed, 01 May 2024 10:00:00 GMT"
    assert result.redirects == ()
    assert not result.not_modified


async def test_sends_user_agent_and_accept(web: FakeWeb, fetch_settings: FetchSettings) -> None:
    """Requests identify the bot and say which types it accepts."""
    await fetch(web.url("article.html"), settings=fetch_settings)
    headers = web.requests[-1].headers
    assert headers["User-Agent"] == fetch_settings.user_agent
    assert "text/html" in headers["Accept"]


async def test_logs_one_line_without_secrets(
    web: FakeWeb, fetch_settings: FetchSettings, caplog: pytest.LogCaptureFixture,
) -> None:
    """The operator's log line has url, status, bytes and ms, but no credentials or query values."""
    url = web.url("article.html").replace("http://", "http://user:hunter2@") + "?token=s3cret"
    with caplog.at_level(logging.INFO, logger="knowledge.sources.fetch"):
        result = await fetch(url, settings=fetch_settings)
    lines = [r.getMessage() for r in caplog.records if r.name == "knowledge.sources.fetch"]
    assert len(lines) == 1
    assert web.url("article.html") in lines[0]
    assert f"-> 200, {len(result.content)} bytes" in lines[0] and " ms" in lines[0]
    assert "s3cret" not in lines[0] and "hunter2" not in lines[0]


async def test_follows_redirects(web: FakeWeb, fetch_settings: FetchSettings) -> None:
    """A redirect is followed and recorded; the final URL is the page that answered."""
    result = await fetch(web.url("redirect/article"), settings=fetch_settings)
    assert result.status == 200
    assert result.final_url == web.url("article.html")
    assert result.redirects == (web.url("redirect/article"),)


async def test_five_redirects_are_allowed(web: FakeWeb, fetch_settings: FetchSettings) -> None:
    """Exactly max_redirects hops still land on the page."""
    result = await fetch(web.url("redirect/chain?n=5"), settings=fetch_settings)
    assert result.final_url == web.url("article.html")
    assert len(result.redirects) == 5


async def test_six_redirects_are_refused(web: FakeWeb, fetch_settings: FetchSettings) -> None:
    """One hop more than max_redirects is refused with the limit in the message."""
    with pytest.raises(FetchError) as caught:
        await fetch(web.url("redirect/chain?n=6"), settings=fetch_settings)
    assert caught.value.kind == "redirects"
    assert caught.value.message == "refused: too many redirects (more than 5)"


@pytest.mark.parametrize("path", ["redirect/loop-a", "redirect/self"])
async def test_redirect_loops_are_detected(
    web: FakeWeb, fetch_settings: FetchSettings, path: str,
) -> None:
    """A redirect back to a URL already visited stops at once, before the hop limit."""
    with pytest.raises(FetchError) as caught:
        await fetch(web.url(path), settings=fetch_settings)
    assert caught.value.message == "refused: the page redirects in a loop"
    assert len(web.requests) <= 2


async def test_redirect_without_target(web: FakeWeb, fetch_settings: FetchSettings) -> None:
    """A 302 with an empty Location is an error, not a crash."""
    with pytest.raises(FetchError, match="sent a redirect without a target"):
        await fetch(web.url("redirect/nowhere"), settings=fetch_settings)


@pytest.mark.parametrize(("target", "message"), [
    ("http://10.0.0.1/admin", "refused: 10.0.0.1 is a private address"),
    ("http://169.254.169.254/latest/meta-data/", "refused: 169.254.169.254 is a link-local address"),
    ("http://[::1]/", "refused: ::1 is a loopback address"),
    ("http://0.0.0.0/", "refused: 0.0.0.0 is an unspecified address"),
    ("http://224.0.0.1/", "refused: 224.0.0.1 is a multicast address"),
])
async def test_redirect_to_a_private_address_is_refused(
    web: FakeWeb, fetch_settings: FetchSettings, target: str, message: str,
) -> None:
    """The address check runs again on every hop: a public-looking page cannot bounce us inside."""
    with pytest.raises(FetchError) as caught:
        await fetch(web.url(f"redirect/to?url={target}"), settings=fetch_settings)
    assert caught.value.kind == "address"
    assert caught.value.message == message


async def test_redirect_to_a_file_url_is_refused(
    web: FakeWeb, fetch_settings: FetchSettings,
) -> None:
    """A redirect cannot switch to a non-http scheme."""
    with pytest.raises(FetchError) as caught:
        await fetch(web.url("redirect/to?url=file:///etc/passwd"), settings=fetch_settings)
    assert caught.value.kind == "invalid_url"
    assert "only http and https" in caught.value.message


@pytest.mark.parametrize("target", ["javascript:alert(1)", "data:text/html,hi",
                                    "mailto:someone@example.org"])
async def test_a_redirect_to_a_non_web_address_is_a_clear_refusal(
    web: FakeWeb, fetch_settings: FetchSettings, target: str,
) -> None:
    """A javascript:, data: or mailto: Location is refused in one line (httpx's InvalidURL
    escaped as an internal error with a traceback before)."""
    from urllib.parse import quote

    with pytest.raises(FetchError) as caught:
        await fetch(web.url(f"redirect/to?url={quote(target)}"), settings=fetch_settings)
    assert caught.value.kind == "invalid_url", caught.value.message
    assert caught.value.message.startswith("127.0.0.1 redirected to "), caught.value.message


async def test_loopback_refused_without_allowlist(web: FakeWeb) -> None:
    """With default settings the local server itself is refused, and never contacted."""
    with pytest.raises(FetchError) as caught:
        await fetch(web.url("article.html"), settings=FetchSettings())
    assert caught.value.message == "refused: 127.0.0.1 is a loopback address"
    assert web.requests == []


async def test_hostname_resolving_to_loopback_is_refused(web: FakeWeb) -> None:
    """The check applies to what a name resolves to, not to how the URL spells it."""
    with pytest.raises(FetchError) as caught:
        await fetch(f"http://localhost:{web.port}/article.html", settings=FetchSettings())
    assert re.fullmatch(r"refused: localhost is (127\.0\.0\.1|::1), a loopback address",
                        caught.value.message)
    assert web.requests == []


async def test_allow_private_addresses_lets_loopback_through(web: FakeWeb) -> None:
    """The operator switch for LAN sources allows private addresses."""
    result = await fetch(web.url("article.html"),
                         settings=FetchSettings(allow_private_addresses=True))
    assert result.status == 200


@pytest.mark.parametrize(("url", "message"), [
    ("file:///etc/passwd", "refused: only http and https links can be fetched (not file://)"),
    ("ftp://ftp.example.org/pub/report.txt",
     "refused: only http and https links can be fetched (not ftp://)"),
    ("javascript:alert(1)", "refused: only http and https links can be fetched (not javascript://)"),
    ("example.org/article", "not a valid link: example.org/article (start it with https://)"),
])
async def test_non_http_schemes_are_refused(
    fetch_settings: FetchSettings, url: str, message: str,
) -> None:
    """Only http(s) URLs are fetched; the message says what was wrong."""
    with pytest.raises(FetchError) as caught:
        await fetch(url, settings=fetch_settings)
    assert caught.value.kind == "invalid_url"
    assert caught.value.message == message


async def test_a_link_holding_bytes_that_are_not_text_is_refused(
    fetch_settings: FetchSettings, caplog: pytest.LogCaptureFixture,
) -> None:
    """A shell's $'\\xe9' reaches Python as a lone surrogate, which no URL can hold: a one-line
    refusal showing the byte, not a UnicodeEncodeError."""
    with (caplog.at_level(logging.INFO, logger="knowledge.sources.fetch"),
          pytest.raises(FetchError) as caught):
        await fetch("http://127.0.0.1:8765/\udce9.html", settings=fetch_settings)
    assert caught.value.kind == "invalid_url"
    assert caught.value.message == ("not a valid link: http://127.0.0.1:8765/\\xe9.html (it holds "
                                    "bytes that are not text)")
    assert "\\xe9.html" in caplog.text


async def test_a_link_with_non_ascii_characters_is_fetched_percent_encoded(
    web: FakeWeb, fetch_settings: FetchSettings,
) -> None:
    """An IRI (/café.html) is requested as its UTF-8 percent-encoding."""
    web.route("caf%C3%A9.html", (FIXTURES / "article.html").read_bytes())
    result = await fetch(f"{web.base_url}/café.html", settings=fetch_settings)
    assert (result.status, result.final_url) == (200, web.url("caf%C3%A9.html"))
    assert web.paths_requested() == ["/caf%C3%A9.html"]
    assert "After Nagato" in result.text


async def test_an_unforeseen_httpx_error_is_plain_words(
    web: FakeWeb, fetch_settings: FetchSettings, caplog: pytest.LogCaptureFixture,
) -> None:
    """A request httpx refuses to send (a line break in the configured user agent) names the
    host to the user; the exception's class is only in the operator's log."""
    settings = dataclasses.replace(fetch_settings, user_agent="SummitDesk\r\nX-Evil: 1")
    with (caplog.at_level(logging.INFO, logger="knowledge.sources.fetch"),
          pytest.raises(FetchError) as caught):
        await fetch(web.url("article.html"), settings=settings)
    assert caught.value.message == "could not fetch from 127.0.0.1"
    assert "LocalProtocolError" in caplog.text


@pytest.mark.parametrize(("path", "status", "message"), [
    ("status/404", 404, "127.0.0.1 answered 404 Not Found"),
    ("status/500", 500, "127.0.0.1 answered 500 Internal Server Error"),
    ("no-such-page.html", 404, "127.0.0.1 answered 404 Not Found"),
])
async def test_http_errors(
    web: FakeWeb, fetch_settings: FetchSettings, path: str, status: int, message: str,
) -> None:
    """4xx/5xx become FetchError('http') with the status line."""
    with pytest.raises(FetchError) as caught:
        await fetch(web.url(path), settings=fetch_settings)
    assert caught.value.kind == "http"
    assert caught.value.status == status
    assert caught.value.message == message


async def test_errors_are_domain_errors(web: FakeWeb, fetch_settings: FetchSettings) -> None:
    """FetchError is a KnowledgeError, so the bot's error handler shows its message as is."""
    with pytest.raises(KnowledgeError, match="answered 404"):
        await fetch(web.url("status/404"), settings=fetch_settings)


async def test_server_that_never_answers(web: FakeWeb, fetch_settings: FetchSettings) -> None:
    """A stalled server hits the read timeout with a plain message."""
    settings = dataclasses.replace(fetch_settings, read_timeout=0.2)
    with pytest.raises(FetchError) as caught:
        await fetch(web.url("stall"), settings=settings)
    assert caught.value.kind == "timeout"
    assert caught.value.message == "gave up after 0.2 s: the server did not answer"


async def test_server_that_stops_mid_page(web: FakeWeb, fetch_settings: FetchSettings) -> None:
    """Silence after the headers is a read timeout too, worded differently."""
    settings = dataclasses.replace(fetch_settings, read_timeout=0.2)
    with pytest.raises(FetchError) as caught:
        await fetch(web.url("stall-body"), settings=settings)
    assert caught.value.kind == "timeout"
    assert caught.value.message == "gave up after 0.2 s: the server stopped sending"


async def test_total_timeout_bounds_a_trickling_server(
    web: FakeWeb, fetch_settings: FetchSettings,
) -> None:
    """A server that never goes idle long enough for a read timeout still hits the total limit."""
    settings = dataclasses.replace(fetch_settings, read_timeout=2.0, total_timeout=0.3)
    with pytest.raises(FetchError) as caught:
        await fetch(web.url("trickle"), settings=settings)
    assert caught.value.kind == "timeout"
    assert caught.value.message == "gave up after 0.3 s: the page took too long to download"


async def test_huge_page_is_cut_off_while_streaming(
    web: FakeWeb, fetch_settings: FetchSettings,
) -> None:
    """A 20 MB chunked page is refused at the limit, without holding the whole body in memory."""
    tracemalloc.start()
    try:
        with pytest.raises(FetchError) as caught:
            await fetch(web.url("huge?size=20971520"), settings=fetch_settings)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.kind == "too_large"
    assert caught.value.message == "refused: the page is larger than 1 MB"
    assert peak < 8 * 1024 * 1024


async def test_default_limit_is_five_megabytes(web: FakeWeb, fetch_settings: FetchSettings) -> None:
    """The default size limit is 5 MB and the message says so."""
    settings = dataclasses.replace(fetch_settings, max_bytes=FetchSettings().max_bytes)
    with pytest.raises(FetchError) as caught:
        await fetch(web.url("huge?size=6000000"), settings=settings)
    assert caught.value.message == "refused: the page is larger than 5 MB"


async def test_page_just_under_the_limit_is_accepted(
    web: FakeWeb, fetch_settings: FetchSettings,
) -> None:
    """A chunked body at the limit is read whole."""
    result = await fetch(web.url(f"huge?size={fetch_settings.max_bytes}"), settings=fetch_settings)
    assert len(result.content) == fetch_settings.max_bytes


async def test_declared_huge_length_is_refused_up_front(
    web: FakeWeb, fetch_settings: FetchSettings,
) -> None:
    """A Content-Length over the limit is refused before the body is read."""
    with pytest.raises(FetchError) as caught:
        await fetch(web.url("huge-declared"), settings=fetch_settings)
    assert caught.value.kind == "too_large"


async def test_compressed_body_counts_after_decompression(
    web: FakeWeb, fetch_settings: FetchSettings,
) -> None:
    """A few KB of gzip that inflate past the limit are refused (no gzip bombs)."""
    with pytest.raises(FetchError) as caught:
        await fetch(web.url("gzip-bomb"), settings=fetch_settings)
    assert caught.value.kind == "too_large"


async def test_gzip_pages_are_decoded(web: FakeWeb, fetch_settings: FetchSettings) -> None:
    """An ordinary gzip-encoded page arrives as text."""
    web.route("zipped.html", gzip.compress(b"<html><body><p>compressed page</p></body></html>"),
              Content_Encoding="gzip")
    result = await fetch(web.url("zipped.html"), settings=fetch_settings)
    assert "compressed page" in result.text


async def test_binary_content_type_is_refused(web: FakeWeb, fetch_settings: FetchSettings) -> None:
    """An image is refused by its declared type."""
    with pytest.raises(FetchError) as caught:
        await fetch(web.url("image.png"), settings=fetch_settings)
    assert caught.value.kind == "content_type"
    assert caught.value.message == "refused: binary content (image/png)"


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", None,
                                          "application/octet-stream"])
async def test_binary_bytes_are_refused_whatever_the_type_says(
    web: FakeWeb, fetch_settings: FetchSettings, content_type: str | None,
) -> None:
    """PNG bytes are sniffed and refused when the type lies or is missing."""
    web.route("disguised", PNG, content_type)
    with pytest.raises(FetchError) as caught:
        await fetch(web.url("disguised"), settings=fetch_settings)
    assert caught.value.message == "refused: binary content (image/png)"


async def test_zip_is_refused(web: FakeWeb, fetch_settings: FetchSettings) -> None:
    """Archives are binary content."""
    web.route("archive.zip", b"PK\x03\x04" + b"\x00" * 100, "application/zip")
    with pytest.raises(FetchError, match=r"refused: binary content \(application/zip\)"):
        await fetch(web.url("archive.zip"), settings=fetch_settings)


async def test_unsupported_text_type_is_refused(
    web: FakeWeb, fetch_settings: FetchSettings,
) -> None:
    """Textual types we cannot use (JSON) get their own message."""
    web.route("data.json", b'{"a": 1}', "application/json")
    with pytest.raises(FetchError) as caught:
        await fetch(web.url("data.json"), settings=fetch_settings)
    assert caught.value.message == "refused: unsupported content type (application/json)"


@pytest.mark.parametrize(("body", "content_type", "expected"), [
    (b"<!DOCTYPE html><html><body><p>hello</p></body></html>", None, "text/html"),
    (b"just some notes\nover two lines\n", "application/octet-stream", "text/plain"),
    (b'<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>', None,
     "application/xml"),
])
async def test_missing_type_is_sniffed(
    web: FakeWeb, fetch_settings: FetchSettings, body: bytes, content_type: str | None,
    expected: str,
) -> None:
    """Without a usable Content-Type the body's first bytes decide what it is."""
    web.route("untyped", body, content_type)
    result = await fetch(web.url("untyped"), settings=fetch_settings)
    assert result.content_type == expected


async def test_pdf_keeps_raw_bytes(web: FakeWeb, fetch_settings: FetchSettings) -> None:
    """A PDF comes back as bytes for the PDF reader, with no decoded text."""
    result = await fetch(web.url("report.pdf"), settings=fetch_settings)
    assert result.is_pdf
    assert result.content.startswith(b"%PDF-")
    assert result.text == ""


async def test_pdf_served_as_octet_stream_is_recognised(
    web: FakeWeb, fetch_settings: FetchSettings,
) -> None:
    """A download-style PDF (octet-stream) is recognised by its magic bytes."""
    web.route("download", (web.fixtures / "report.pdf").read_bytes(), "application/octet-stream")
    result = await fetch(web.url("download"), settings=fetch_settings)
    assert result.content_type == "application/pdf"


async def test_accept_narrows_the_types(web: FakeWeb, fetch_settings: FetchSettings) -> None:
    """A feed fetch (accept=FEED_TYPES) refuses an HTML page."""
    with pytest.raises(FetchError) as caught:
        await fetch(web.url("article.html"), settings=fetch_settings, accept=FEED_TYPES)
    assert caught.value.message == "refused: unsupported content type (text/html)"
    assert (await fetch(web.url("rss.xml"), settings=fetch_settings,
                        accept=FEED_TYPES)).content_type == "application/rss+xml"


@pytest.mark.parametrize(("content_type", "charset"), [
    ("text/html", "iso-8859-1"),  # declared only in <meta>
    ("text/html; charset=ISO-8859-1", "iso-8859-1"),  # declared in the header
])
async def test_charset_from_header_or_meta(
    web: FakeWeb, fetch_settings: FetchSettings, content_type: str, charset: str,
) -> None:
    """Latin-1 pages decode correctly from either declaration."""
    body = ('<html><head><meta charset="iso-8859-1"><title>Caf\xe9</title></head>'
            "<body><p>R\xe9sum\xe9 of the talks</p></body></html>").encode("latin-1")
    web.route("latin.html", body, content_type)
    result = await fetch(web.url("latin.html"), settings=fetch_settings)
    assert "Résumé of the talks" in result.text
    assert result.charset == charset


async def test_undeclared_non_utf8_falls_back_to_cp1252(
    web: FakeWeb, fetch_settings: FetchSettings,
) -> None:
    """Bytes that are not UTF-8 and declare nothing are read as Windows-1252."""
    web.route("plain.txt", "\u201cquoted\u201d caf\xe9".encode("cp1252"), "text/plain")
    result = await fetch(web.url("plain.txt"), settings=fetch_settings)
    assert result.text == "\u201cquoted\u201d caf\xe9"
    assert result.charset == "cp1252"


async def test_conditional_get_with_etag(web: FakeWeb, fetch_settings: FetchSettings) -> None:
    """Sending back the ETag gets a 304, reported as not_modified with no body."""
    first = await fetch(web.url("rss.xml"), settings=fetch_settings)
    again = await fetch(web.url("rss.xml"), settings=fetch_settings, etag=first.etag)
    assert web.requests[-1].headers["If-None-Match"] == first.etag
    assert again.not_modified and again.status == 304
    assert again.text == "" and again.content == b""
    assert again.etag == first.etag


async def test_conditional_get_with_last_modified(
    web: FakeWeb, fetch_settings: FetchSettings,
) -> None:
    """Sending back Last-Modified gets a 304 too, and the validator is kept."""
    first = await fetch(web.url("atom.xml"), settings=fetch_settings)
    again = await fetch(web.url("atom.xml"), settings=fetch_settings,
                        last_modified=first.last_modified)
    assert again.not_modified
    assert again.last_modified == first.last_modified


async def test_changed_feed_is_fetched_again(web: FakeWeb, fetch_settings: FetchSettings) -> None:
    """When the feed changes, the old ETag no longer matches and the new version arrives."""
    web.route("feed.xml", (web.fixtures / "rss.xml").read_bytes(), "application/rss+xml")
    first = await fetch(web.url("feed.xml"), settings=fetch_settings)
    web.route("feed.xml", (web.fixtures / "rss-v2.xml").read_bytes(), "application/rss+xml")
    second = await fetch(web.url("feed.xml"), settings=fetch_settings, etag=first.etag)
    assert not second.not_modified
    assert second.etag != first.etag
    assert "A Framework, Not a Breakthrough" in second.text


async def test_dns_failure(fetch_settings: FetchSettings) -> None:
    """A name that does not resolve (.invalid never does) gives a DNS error naming the host."""
    with pytest.raises(FetchError) as caught:
        await fetch("http://no-such-host.invalid/article", settings=fetch_settings)
    assert caught.value.kind == "dns"
    assert "no-such-host.invalid" in caught.value.message


async def test_connection_refused(fetch_settings: FetchSettings, closed_port: int) -> None:
    """A closed port is reported as a refused connection."""
    with pytest.raises(FetchError) as caught:
        await fetch(f"http://127.0.0.1:{closed_port}/", settings=fetch_settings)
    assert caught.value.kind == "connect"
    assert caught.value.message == "could not connect to 127.0.0.1: connection refused"


async def test_untrusted_certificate_is_refused(fetch_settings: FetchSettings) -> None:
    """HTTPS certificates are verified; a self-signed one is reported in plain words."""
    with FakeWeb(tls=True) as secure, pytest.raises(FetchError) as caught:
        await fetch(secure.url("article.html"), settings=fetch_settings)
    assert caught.value.kind == "connect"
    assert caught.value.message == "could not connect to 127.0.0.1: its certificate is not valid"

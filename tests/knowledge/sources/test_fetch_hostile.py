"""fetch() against a hostile server: content-encoding bombs, bogus charsets, IPv6 disguises."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import pytest

from knowledge.sources import FetchError, FetchSettings
from knowledge.sources.encoding import decode_bytes, text_codec
from knowledge.sources.fetch import fetch
from tests.fakes.web_server import FakeWeb

PAGE = b"<html><body><p>" + b"An ordinary paragraph of commentary. " * 40 + b"</p></body></html>"


def _deflate(data: bytes, *, raw: bool) -> bytes:
    """zlib-wrapped (RFC 9110) or raw deflate, as servers send either."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


async def test_stacked_gzip_is_refused_without_inflating(
    web: FakeWeb, fetch_settings: FetchSettings,
) -> None:
    """`gzip, gzip` is refused outright: a few hundred bytes cannot become gigabytes."""
    bomb = gzip.compress(gzip.compress(b"\0" * (64 * 1024 * 1024)))
    web.route("stacked.html", bomb, Content_Encoding="gzip, gzip")
    tracemalloc.start()
    try:
        with pytest.raises(FetchError) as caught:
            await fetch(web.url("stacked.html"), settings=fetch_settings)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.message == ("refused: the server stacked several content encodings "
                                    "(gzip, gzip)")
    assert peak < 4 * 1024 * 1024


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_single_layer_bomb_stops_at_the_limit(
    web: FakeWeb, fetch_settings: FetchSettings, encoding: str,
) -> None:
    """A 64 MB gzip or deflate bomb is refused having inflated little more than the page limit."""
    data = b"<p>" + b"a" * (64 * 1024 * 1024)
    body = gzip.compress(data, 9) if encoding == "gzip" else _deflate(data, raw=False)
    del data
    web.route(f"bomb-{encoding}.html", body, Content_Encoding=encoding)
    tracemalloc.start()
    try:
        with pytest.raises(FetchError) as caught:
            await fetch(web.url(f"bomb-{encoding}.html"), settings=fetch_settings)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.kind == "too_large"
    assert caught.value.message == "refused: the page is larger than 1 MB"
    assert peak < 4 * fetch_settings.max_bytes


@pytest.mark.parametrize(("encoding", "pack"), [
    ("deflate", lambda d: _deflate(d, raw=False)),
    ("deflate", lambda d: _deflate(d, raw=True)),
    ("x-gzip", gzip.compress),
    ("gzip", lambda d: gzip.compress(d[:500]) + gzip.compress(d[500:])),  # two members
    ("identity", lambda d: d),
])
async def test_honest_encodings_are_decoded(
    web: FakeWeb, fetch_settings: FetchSettings, encoding: str, pack: object,
) -> None:
    """Zlib-wrapped and raw deflate, x-gzip and multi-member gzip all arrive as the page."""
    assert callable(pack)
    web.route("packed.html", pack(PAGE), Content_Encoding=encoding)
    result = await fetch(web.url("packed.html"), settings=fetch_settings)
    assert result.content == PAGE


async def test_page_exactly_at_the_limit_inflates(
    web: FakeWeb, fetch_settings: FetchSettings,
) -> None:
    """The limit counts inflated bytes and is inclusive, as for an uncompressed page."""
    body = b"<p>" + b"x" * (fetch_settings.max_bytes - 3)
    web.route("full.html", gzip.compress(body), Content_Encoding="gzip")
    result = await fetch(web.url("full.html"), settings=fetch_settings)
    assert len(result.content) == fetch_settings.max_bytes


@pytest.mark.parametrize(("header", "message"), [
    ("br", "refused: unsupported content encoding (br)"),
    ("deflate, gzip", "refused: the server stacked several content encodings (deflate, gzip)"),
])
async def test_unusable_encodings_are_refused(
    web: FakeWeb, fetch_settings: FetchSettings, header: str, message: str,
) -> None:
    """Encodings we did not ask for, or several at once, get a one-line refusal."""
    web.route("odd.html", PAGE, Content_Encoding=header)
    with pytest.raises(FetchError) as caught:
        await fetch(web.url("odd.html"), settings=fetch_settings)
    assert caught.value.message == message


async def test_corrupt_gzip_is_a_protocol_error(
    web: FakeWeb, fetch_settings: FetchSettings,
) -> None:
    """Bytes that are not gzip at all fail with a short message, not a zlib traceback."""
    web.route("corrupt.html", b"\x1f\x8b\x08\x00garbage-garbage-garbage", Content_Encoding="gzip")
    with pytest.raises(FetchError) as caught:
        await fetch(web.url("corrupt.html"), settings=fetch_settings)
    assert caught.value.message == "the server sent a body that could not be decompressed"


async def test_only_gzip_and_deflate_are_asked_for(
    web: FakeWeb, fetch_settings: FetchSettings,
) -> None:
    """The request offers exactly the encodings the bounded inflater handles."""
    await fetch(web.url("article.html"), settings=fetch_settings)
    assert web.requests[-1].headers["Accept-Encoding"] == "gzip, deflate"


@pytest.mark.parametrize("label", ["base64", "zlib", "rot13", "idna", "undefined", "punycode",
                                   "unicode_escape", "hex", "x" * 300])
@pytest.mark.parametrize("where", ["header", "meta"])
async def test_bogus_charsets_fall_back_to_detection(
    web: FakeWeb, fetch_settings: FetchSettings, label: str, where: str,
) -> None:
    """A charset naming a non-text codec is ignored: the page decodes as UTF-8, no exception."""
    meta = f'<meta charset="{label}">' if where == "meta" else ""
    body = f"<html><head>{meta}<title>Café</title></head><body><p>Résumé</p></body></html>"
    content_type = f"text/html; charset={label}" if where == "header" else "text/html"
    web.route("bogus.html", body.encode("utf-8"), content_type)
    result = await fetch(web.url("bogus.html"), settings=fetch_settings)
    assert "Résumé" in result.text
    assert result.charset == "utf-8"


def test_text_codec_accepts_real_charsets_only() -> None:
    """Real web charsets pass under their label; codecs that are not charsets do not."""
    assert [text_codec(x) for x in ("UTF-8", "windows-1251", "shift_jis", "latin1")] == [
        "utf-8", "windows-1251", "shift_jis", "latin1"]
    assert [text_codec(x) for x in ("base64", "utf-7", "undefined", "", None)] == [None] * 5


def test_nul_bytes_and_bad_utf16_decode_without_error() -> None:
    """Odd bytes under a real but wrong charset are replaced, never raised; a UTF-8 page with
    a damaged byte keeps its UTF-8 reading."""
    assert decode_bytes(b"\xff\xfeA\x00\x00", "utf-16").text.startswith("A")
    assert decode_bytes(b"caf\xc3\xa9 ok\x00\xc3", "utf-8").text == "café ok\x00\ufffd"


@pytest.mark.parametrize("where", ["header", "meta"])
async def test_latin1_labelled_utf8_is_read_as_windows_1252(
    web: FakeWeb, fetch_settings: FetchSettings, where: str,
) -> None:
    """Latin-1 bytes declared UTF-8 (not one valid UTF-8 character among them) are read as
    Windows-1252, as an undeclared page is, not stored with U+FFFD in place of every accent."""
    meta = '<meta charset="utf-8">' if where == "meta" else ""
    body = f"<html><head>{meta}<title>Café Ünïcödé</title></head><body><p>Résumé</p></body></html>"
    content_type = "text/html; charset=utf-8" if where == "header" else "text/html"
    web.route("latin1.html", body.encode("latin-1"), content_type)
    result = await fetch(web.url("latin1.html"), settings=fetch_settings)
    assert "Café Ünïcödé" in result.text and "Résumé" in result.text
    assert "\ufffd" not in result.text and result.charset == "cp1252"


@pytest.mark.parametrize(("text", "encoding", "read_as"), [
    ("<p>Переговоры в Москве прошли в дружественной обстановке.</p>", "cp1251", "cp1251"),
    ("<p>Ελληνικά κείμενα για τη σύνοδο κορυφής.</p>", "cp1253", "cp1253"),
    ("<p>日本とロシアの首脳会談が行われた。</p>", "shift_jis", "cp932"),
    ("<p>Café au lait, naïve façade — résumé.</p>", "cp1252", "cp1252"),
    ("<p>Übergroße Straße, schön.</p>", "cp1252", "cp1252"),
    ("“quoted” café", "cp1252", "cp1252"),
])
def test_an_undeclared_page_in_another_script_is_detected(text: str, encoding: str,
                                                         read_as: str) -> None:
    """Without a declared charset and not UTF-8: Cyrillic, Greek or Japanese bytes are read in
    their own encoding (before: as Windows-1252, "Ïåðåãîâîðû"); Latin text keeps the
    Windows-1252 reading. Either way the reading is marked as a guess."""
    decoded = decode_bytes(text.encode(encoding), markup=True)
    assert (decoded.text, decoded.encoding, decoded.guessed) == (text, read_as, True)


@pytest.mark.parametrize(("host", "message"), [
    ("[::ffff:10.0.0.1]", "refused: ::ffff:10.0.0.1 is an IPv6 form of 10.0.0.1, not a public "
                          "address"),
    ("[::127.0.0.1]", "refused: ::127.0.0.1 is an IPv6 form of 127.0.0.1, not a public address"),
    ("[2002:a00:1::1]", "refused: 2002:a00:1::1 is an IPv6 form of 10.0.0.1, not a public "
                        "address"),
    ("[2002:c0a8:101::1]", "refused: 2002:c0a8:101::1 is an IPv6 form of 192.168.1.1, not a "
                           "public address"),
    ("[2001:0:4136:e378:8000:63bf:f5ff:fffe]",
     "refused: 2001:0:4136:e378:8000:63bf:f5ff:fffe is an IPv6 form of 10.0.0.1, not a public "
     "address"),
    ("[64:ff9b::a00:1]", "refused: 64:ff9b::a00:1 is an IPv6 form of 10.0.0.1, not a public "
                         "address"),
    ("[fec0::1]", "refused: fec0::1 is a site-local address"),
])
async def test_ipv6_forms_of_private_ipv4_are_refused(
    fetch_settings: FetchSettings, host: str, message: str,
) -> None:
    """Mapped, compatible, 6to4, Teredo, NAT64 and site-local addresses are all refused."""
    with pytest.raises(FetchError) as caught:
        await fetch(f"http://{host}/", settings=fetch_settings)
    assert caught.value.kind == "address"
    assert caught.value.message == message


async def test_error_messages_never_quote_the_servers_reason_phrase(
    web: FakeWeb, fetch_settings: FetchSettings,
) -> None:
    """A status line's phrase is remote text: the message carries the standard phrase instead."""
    web.route("teapot.html", "no", status=404, reason="Not Found @everyone [win](http://evil)")
    with pytest.raises(FetchError) as caught:
        await fetch(web.url("teapot.html"), settings=fetch_settings)
    assert caught.value.message == "127.0.0.1 answered 404 Not Found"


@pytest.mark.parametrize("label", ["undefined", "zlib", "idna", "base64"])
def test_feed_with_bogus_encoding_is_read_as_text(label: str) -> None:
    """A feed whose prolog or header names a non-text codec is still parsed, entries intact."""
    from knowledge.sources.feeds import parse_feed

    feed = (f'<?xml version="1.0" encoding="{label}"?><rss version="2.0"><channel>'
            "<title>Caf\u00e9 Notes</title><item><title>One</title><link>http://x.test/1</link>"
            "<description>Text</description></item></channel></rss>").encode()
    parsed = parse_feed(feed, "http://x.test/feed",
                        content_type=f"application/rss+xml; charset={label}")
    assert parsed.title == "Caf\u00e9 Notes"
    assert [e.title for e in parsed.entries] == ["One"]


@pytest.mark.parametrize("headers", [
    {"X_Big": "v" * 2_000_000},  # one 2 MB header
    {f"X_H{n}": "v" * 100 for n in range(5_000)},  # 5,000 headers
])
async def test_oversized_headers_are_named(
    web: FakeWeb, fetch_settings: FetchSettings, headers: dict[str, str],
) -> None:
    """Response headers past the client's limit are "oversized headers", not a connection
    the server closed (which it did not)."""
    web.route("headers.html", "<p>x</p>", **headers)
    with pytest.raises(FetchError) as caught:
        await fetch(web.url("headers.html"), settings=fetch_settings)
    assert caught.value.message == "refused: the server sent oversized headers (127.0.0.1)"

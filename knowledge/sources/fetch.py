"""Fetch one web page or feed safely: public addresses only, bounded size, time and redirects."""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import functools
import http
import ipaddress
import logging
import re
import socket
import ssl
import time
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any

import httpcore
import httpx

from knowledge.sources.encoding import decode_bytes
from knowledge.sources.errors import FetchError
from knowledge.sources.inflate import SUPPORTED_ENCODINGS, BoundedInflater, parse_content_encoding
from knowledge.sources.sandbox import ExtractionLimits
from knowledge.sources.sniff import is_pdf, looks_like_markup, sniff_binary
from knowledge.sources.units import human_size, seconds
from knowledge.sources.urls import display_url
from knowledge.text.remote import plain_line

if TYPE_CHECKING:
    from knowledge.settings import Settings

log = logging.getLogger(__name__)

ARTICLE_TYPES = frozenset({
    "text/html", "application/xhtml+xml", "text/plain", "text/markdown", "text/x-markdown",
    "application/pdf",
})
FEED_TYPES = frozenset({
    "application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml",
    "text/xml",
})
DEFAULT_ACCEPT = ARTICLE_TYPES | FEED_TYPES

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_TEXTUAL_APPLICATION_TYPES = frozenset({
    "application/json", "application/javascript", "application/x-javascript", "application/ld+json",
})
_SNIFF_BYTES = 1024
# "Some bytes": servers send these for PDFs and text files alike, so the bytes decide.
_UNKNOWN_BINARY_TYPES = frozenset({"application/octet-stream", "binary/octet-stream"})
_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:RDF)[\s>]", re.I)
_MAX_PORT = 65535
_MAX_LABEL_CHARS = 63  # RFC 1035
_MAX_HOST_CHARS = 253
_LOGGED_URL_CHARS = 300
# h11's words when a response's head (status line and headers) passes its 16 KB limit; the body
# is streamed, so it is only ever said of headers.
_OVERSIZED_HEADERS = "Receive buffer too long"


@dataclasses.dataclass(frozen=True, slots=True)
class FetchSettings:
    """Limits for one fetch; tests shrink the timeouts and allow the local server's address."""

    connect_timeout: float = 10.0
    read_timeout: float = 10.0
    total_timeout: float = 30.0
    max_bytes: int = 5_000_000  # as FETCH_MAX_BYTES' default
    max_redirects: int = 5
    allow_private_addresses: bool = False
    # Exact IPs let through even though they are not public (a test server, a trusted LAN host).
    allowed_addresses: frozenset[str] = frozenset()
    user_agent: str = "SummitDesk/1.0 (expert-commentary Discord bot)"
    # Limits on extracting what was fetched (pages, feeds, PDFs): sandbox.py.
    extraction: ExtractionLimits = dataclasses.field(default_factory=ExtractionLimits)

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchSettings:
        """The limits an operator configured (FETCH_*, EXTRACT_*, PDF_MAX_PAGES)."""
        return cls(
            connect_timeout=settings.fetch_connect_timeout,
            read_timeout=settings.fetch_read_timeout,
            total_timeout=max(30.0, settings.fetch_connect_timeout
                              + 2 * settings.fetch_read_timeout),
            max_bytes=settings.fetch_max_bytes,
            allow_private_addresses=settings.fetch_allow_private_addresses,
            extraction=ExtractionLimits.from_settings(settings),
        )


@dataclasses.dataclass(frozen=True, slots=True)
class FetchResult:
    """What a fetch brought back; ``not_modified`` results carry no body."""

    url: str  # as asked for
    final_url: str  # after redirects
    status: int
    content_type: str | None  # media type without parameters, lower case (sniffed when missing)
    charset: str | None  # encoding used to decode ``text``
    text: str  # decoded body; "" for PDFs and 304s
    content: bytes  # raw body (decoded from gzip etc.); what a PDF or feed parser wants
    etag: str | None
    last_modified: str | None
    redirects: tuple[str, ...] = ()  # URLs that answered with a redirect, in order
    not_modified: bool = False
    elapsed_ms: int = 0

    @property
    def is_pdf(self) -> bool:
        """True when the body is a PDF document."""
        return self.content_type == "application/pdf"


async def fetch(
    url: str,
    *,
    settings: FetchSettings,
    etag: str | None = None,
    last_modified: str | None = None,
    accept: Collection[str] = DEFAULT_ACCEPT,
) -> FetchResult:
    """GET ``url`` within ``settings``; raise FetchError with a user-readable message on failure."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(settings.total_timeout):
            result = await _fetch(url, settings, etag, last_modified, frozenset(accept), started)
    except TimeoutError:
        error = FetchError(
            "timeout",
            f"gave up after {seconds(settings.total_timeout)}: the page took too long to download",
        )
        _log_failure(url, error, started)
        raise error from None
    except FetchError as error:
        _log_failure(url, error, started)
        raise
    log.info("fetch %s -> %d, %d bytes, %d ms%s", _loggable(url), result.status,
             len(result.content), result.elapsed_ms,
             f" (via {len(result.redirects)} redirects)" if result.redirects else "")
    return result


async def _fetch(
    url: str,
    settings: FetchSettings,
    etag: str | None,
    last_modified: str | None,
    accept: frozenset[str],
    started: float,
) -> FetchResult:
    """Follow redirects by hand so each hop's scheme and address are checked again."""
    headers = {"User-Agent": settings.user_agent, "Accept": ", ".join(sorted(accept)) + ", */*;q=0.1",
               "Accept-Encoding": ", ".join(SUPPORTED_ENCODINGS)}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    timeout = httpx.Timeout(connect=settings.connect_timeout, read=settings.read_timeout,
                            write=settings.read_timeout, pool=settings.connect_timeout)
    current = check_link(url)
    redirects: list[str] = []
    # trust_env=False: a proxy from the environment would bypass the address check.
    # Built in a worker thread once: reading the CA bundle takes ~70 ms the loop must not wait.
    tls = await asyncio.to_thread(_tls_context)
    async with httpx.AsyncClient(transport=_GuardedTransport(settings, tls), timeout=timeout,
                                 headers=headers, follow_redirects=False, trust_env=False) as client:
        while True:
            host = plain_line(current.host, limit=100)  # as shown in messages
            try:
                response = await client.send(client.build_request("GET", current), stream=True)
            except httpx.InvalidURL as exc:  # httpx reads a redirect's Location as it answers
                log.info("%s redirected to an unusable address: %s", host, exc)
                raise FetchError("invalid_url", f"{host} redirected to an address that is not "
                                 "a web link (only http and https links can be fetched)") from exc
            except httpx.HTTPError as exc:
                raise _translate(exc, host, settings, answered=False) from exc
            try:
                if response.status_code in _REDIRECT_STATUSES:
                    redirects.append(str(current))
                    current = _next_hop(response, current, redirects, settings)
                    continue
                if response.status_code == 304:
                    return FetchResult(
                        url=url, final_url=str(current), status=304, content_type=None,
                        charset=None, text="", content=b"",
                        etag=response.headers.get("etag", etag),
                        last_modified=response.headers.get("last-modified", last_modified),
                        redirects=tuple(redirects), not_modified=True,
                        elapsed_ms=_elapsed_ms(started),
                    )
                if not 200 <= response.status_code < 300:
                    raise FetchError("http", f"{host} answered {_status_line(response)}",
                                     status=response.status_code)
                try:
                    return await _read_body(response, url, current, redirects, settings, accept,
                                            started)
                except httpx.HTTPError as exc:
                    raise _translate(exc, host, settings, answered=True) from exc
            finally:
                await response.aclose()


def check_link(raw: str) -> httpx.URL:
    """Parse a URL and refuse anything but an absolute http(s) link with a host and a port in
    range (FetchError "invalid_url"): every fetch and every redirect hop, and adding a link."""
    raw = raw.strip()
    try:
        url = httpx.URL(raw)
    except httpx.InvalidURL:
        raise FetchError("invalid_url", f"not a valid link: {_short(raw)}") from None
    except UnicodeEncodeError:
        # A lone surrogate: bytes that were not UTF-8 (a shell's $'\xe9'), which no URL can hold.
        raise FetchError("invalid_url", f"not a valid link: {_short(raw)} (it holds bytes that "
                                        "are not text)") from None
    if not url.scheme:
        raise FetchError("invalid_url", f"not a valid link: {_short(raw)} (start it with https://)")
    if url.scheme not in ("http", "https"):
        raise FetchError("invalid_url", f"refused: only http and https links can be fetched "
                                        f"(not {url.scheme}://)")
    if not url.raw_host:
        raise FetchError("invalid_url", f"not a valid link (no host): {_short(raw)}")
    if not _valid_host(url):
        raise FetchError("invalid_url", f"not a valid link (bad host name): {_short(raw)}")
    # httpx accepts any number here; the socket layer would fail later with an internal error.
    if url.port is not None and not 0 < url.port <= _MAX_PORT:
        raise FetchError("invalid_url", f"not a valid link (port out of range): {_short(raw)}")
    return url


def _valid_host(url: httpx.URL) -> bool:
    """True when the host is an IP address or a name DNS can hold: labels of 1 to 63
    characters, 253 in all, and valid IDNA (``xn--`` labels decode). Otherwise the lookup
    (getaddrinfo's idna codec) or httpx itself raises UnicodeError, which is no FetchError."""
    raw = url.raw_host.decode("ascii", "replace")
    if ":" in raw:  # an IPv6 literal; httpx checked its form
        return True
    try:
        url.host  # noqa: B018 - decoding the xn-- labels is the check
    except UnicodeError:  # idna.IDNAError is one
        return False
    name = raw.removesuffix(".")  # "example.com." is a fully qualified name
    return len(name) <= _MAX_HOST_CHARS and all(
        0 < len(label) <= _MAX_LABEL_CHARS for label in name.split("."))


def _next_hop(
    response: httpx.Response, current: httpx.URL, redirects: list[str], settings: FetchSettings,
) -> httpx.URL:
    """Where a redirect points, refusing missing targets, loops and long chains."""
    location = response.headers.get("location", "").strip()
    if not location:
        raise FetchError("redirects", f"{plain_line(current.host, limit=100)} sent a "
                                      "redirect without a target")
    try:
        target = current.join(location)
    except httpx.InvalidURL:
        raise FetchError("redirects", f"{plain_line(current.host, limit=100)} redirected "
                                      "to an invalid link") from None
    target = check_link(str(target.copy_with(fragment=None)))
    if str(target) in redirects:
        raise FetchError("redirects", "refused: the page redirects in a loop")
    if len(redirects) > settings.max_redirects:
        raise FetchError("redirects",
                         f"refused: too many redirects (more than {settings.max_redirects})")
    return target


async def _read_body(
    response: httpx.Response,
    url: str,
    current: httpx.URL,
    redirects: list[str],
    settings: FetchSettings,
    accept: frozenset[str],
    started: float,
) -> FetchResult:
    """Stream the body under the size limit and check what it really is."""
    declared, charset = _parse_content_type(response.headers.get("content-type"))
    if declared and declared not in accept and declared not in _UNKNOWN_BINARY_TYPES and (
        _is_binary_type(declared)
    ):
        raise FetchError("content_type", f"refused: binary content ({declared})")
    too_large = FetchError("too_large",
                           f"refused: the page is larger than {human_size(settings.max_bytes)}")
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > settings.max_bytes:
        raise too_large
    encoding = parse_content_encoding(response.headers.get("content-encoding"))
    inflater = BoundedInflater(encoding, settings.max_bytes, too_large) if encoding else None
    chunks: list[bytes] = []
    size = wire = 0
    media_type: str | None = None
    # Raw bytes, inflated here under the limit: httpx would inflate each chunk (and each
    # stacked encoding) whole before any size check could run.
    async for raw in response.aiter_raw():
        wire += len(raw)
        if wire > settings.max_bytes:
            raise too_large
        chunk = inflater.feed(raw) if inflater else raw
        size += len(chunk)
        if size > settings.max_bytes:
            raise too_large
        chunks.append(chunk)
        if media_type is None and size >= _SNIFF_BYTES:
            media_type = _effective_type(declared, b"".join(chunks)[:_SNIFF_BYTES], accept)
    if inflater:
        inflater.finish()
    body = b"".join(chunks)
    if media_type is None:
        media_type = _effective_type(declared, body[:_SNIFF_BYTES], accept)
    text, used = "", None
    if media_type != "application/pdf":
        decoded = decode_bytes(body, charset, markup="html" in media_type)
        text, used = decoded.text, decoded.encoding
        if decoded.guessed:
            log.info("%s declares no usable charset and is not UTF-8: read as %s",
                     display_url(str(current)), used)
    return FetchResult(
        url=url, final_url=str(current), status=response.status_code, content_type=media_type,
        charset=used, text=text, content=body, etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"), redirects=tuple(redirects),
        elapsed_ms=_elapsed_ms(started),
    )


def _effective_type(declared: str | None, head: bytes, accept: frozenset[str]) -> str:
    """The media type the bytes really are, refusing binary and unaccepted content."""
    binary = sniff_binary(head)
    if binary:
        raise FetchError("content_type", f"refused: binary content ({binary})")
    if is_pdf(head):
        media_type = "application/pdf"
    elif declared is None or declared in _UNKNOWN_BINARY_TYPES or (
        declared == "application/pdf"
    ):
        media_type = _guess_text_type(head)
    else:
        assert declared is not None
        media_type = declared
    if media_type not in accept:
        if _is_binary_type(media_type):
            raise FetchError("content_type", f"refused: binary content ({media_type})")
        raise FetchError("content_type", f"refused: unsupported content type ({media_type})")
    return media_type


def _guess_text_type(head: bytes) -> str:
    """Media type for text that came without a trustworthy Content-Type."""
    if _FEED_ROOT.search(head):
        return "application/xml"
    if looks_like_markup(head):
        return "text/html"
    return "text/plain"


def _is_binary_type(media_type: str) -> bool:
    """True for media types that are not text a reader could index."""
    if media_type.startswith("text/") or media_type.endswith(("+xml", "+json")):
        return False
    return media_type not in _TEXTUAL_APPLICATION_TYPES and media_type not in (
        "application/xml", "application/pdf"
    )


def _parse_content_type(value: str | None) -> tuple[str | None, str | None]:
    """Split a Content-Type header into (media type, charset)."""
    if not value:
        return None, None
    parts = [p.strip() for p in value.split(";")]
    media_type = parts[0].lower() or None
    charset = None
    for param in parts[1:]:
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip("\"'").lower() or None
    return media_type, charset


def _translate(
    exc: httpx.HTTPError, host: str, settings: FetchSettings, *, answered: bool,
) -> FetchError:
    """Turn an httpx failure into a short FetchError a user can act on."""
    if isinstance(exc, httpx.ConnectTimeout):
        return FetchError("timeout", f"gave up after {seconds(settings.connect_timeout)}: "
                                     f"{host} did not accept the connection")
    if isinstance(exc, httpx.TimeoutException):
        what = "the server stopped sending" if answered else "the server did not answer"
        return FetchError("timeout", f"gave up after {seconds(settings.read_timeout)}: {what}")
    if isinstance(exc, httpx.ConnectError):
        if _caused_by(exc, ssl.SSLCertVerificationError):
            return FetchError("connect", f"could not connect to {host}: its certificate is not valid")
        if _caused_by(exc, ssl.SSLError):
            return FetchError("connect", f"could not connect to {host}: the secure connection failed")
        if _caused_by(exc, ConnectionRefusedError) or _errno_in_chain(exc) == errno.ECONNREFUSED:
            return FetchError("connect", f"could not connect to {host}: connection refused")
        return FetchError("connect", f"could not connect to {host}")
    if isinstance(exc, httpx.DecodingError):
        return FetchError("protocol", f"{host} sent a body that could not be decoded")
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return FetchError("invalid_url", f"not a valid link for {host}")
    if isinstance(exc, httpx.RemoteProtocolError) and _OVERSIZED_HEADERS in str(exc):
        return FetchError("protocol", f"refused: the server sent oversized headers ({host})")
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return FetchError("protocol", f"{host} closed the connection unexpectedly")
    # Anything else (a write error, a request httpx could not build): the user learns which
    # host failed, the operator which exception.
    log.info("fetching from %s failed: %s: %s", host, type(exc).__name__, exc)
    if isinstance(exc, httpx.NetworkError):
        return FetchError("connect", f"the connection to {host} failed")
    return FetchError("protocol", f"could not fetch from {host}")


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """True when ``kind`` appears in the exception's cause/context chain."""
    return any(isinstance(e, kind) for e in _chain(exc))


def _errno_in_chain(exc: BaseException) -> int | None:
    """First OSError errno found in the chain, if any."""
    for e in _chain(exc):
        if isinstance(e, OSError) and e.errno is not None:
            return e.errno
    return None


def _chain(exc: BaseException) -> Iterable[BaseException]:
    """The exception and everything it was raised from, without cycles."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves each new connection's host itself and connects only to vetted addresses.

    Checking at connect time (not before the request) means the address we vetted is the one
    we talk to, even if DNS answers differently a second later.
    """

    def __init__(self, settings: FetchSettings) -> None:
        self._settings = settings
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Connect to the first reachable public address of ``host``."""
        addresses = await resolve_public(host, port, self._settings)
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout=timeout,
                                                     local_address=local_address,
                                                     socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Unix sockets are never a web source."""
        raise FetchError("invalid_url", "refused: unix sockets cannot be fetched")

    async def sleep(self, seconds: float) -> None:
        """Delegate to the wrapped backend."""
        await self._inner.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, with its connection pool built on the guarded backend."""

    def __init__(self, settings: FetchSettings, tls: ssl.SSLContext) -> None:
        super().__init__(verify=tls, retries=0)
        # httpx exposes no network_backend argument; swap the pool it built for one that has it.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=tls, max_connections=4,
            max_keepalive_connections=2, network_backend=_GuardedBackend(settings),
        )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One certificate-verifying TLS context per process, shared by every fetch."""
    return httpx.create_ssl_context()


async def resolve_public(host: str, port: int, settings: FetchSettings) -> list[str]:
    """Resolve ``host`` and return its addresses, refusing when any of them is not public."""
    loop = asyncio.get_running_loop()
    shown = plain_line(host, limit=100)
    try:
        async with asyncio.timeout(settings.connect_timeout):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError:
        raise FetchError("timeout", f"gave up after {seconds(settings.connect_timeout)}: "
                                    f"could not look up {shown}") from None
    except UnicodeError:  # the idna codec: a name check_link let through (it should not)
        raise FetchError("invalid_url", f"not a valid link (bad host name): {shown}") from None
    except socket.gaierror as exc:
        if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            raise FetchError("dns", f"could not find the server {shown}") from None
        raise FetchError("dns", f"could not look up {shown} right now") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise FetchError("dns", f"could not find the server {shown}")
    for address in addresses:
        problem = _address_problem(address, settings)
        if problem:
            if address == host.strip("[]"):
                raise FetchError("address", f"refused: {address} is {problem}")
            raise FetchError("address", f"refused: {shown} is {address}, {problem}")
    return addresses


def _address_problem(address: str, settings: FetchSettings) -> str | None:
    """Why an address must not be fetched from, or None when it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if settings.allow_private_addresses or _allowlisted(ip, settings.allowed_addresses):
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local:
            return "a site-local address"
        for embedded in _embedded_ipv4(ip):
            if not embedded.is_global or embedded.is_multicast:
                return f"an IPv6 form of {embedded}, not a public address"
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
    checks = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "not a public address"),
    )
    return next((label for failed, label in checks if failed), None)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries: mapped, compatible, 6to4, Teredo and NAT64 forms.

    Each of them can reach the IPv4 address inside (through a relay or the host's own stack),
    so a private IPv4 must not slip through in IPv6 clothing.
    """
    found = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    packed = int(ip)
    if packed >> 32 == 0 and packed > 1:  # ::a.b.c.d, "IPv4-compatible" (not :: or ::1)
        found.append(ipaddress.IPv4Address(packed & 0xFFFFFFFF))
    if ip in _NAT64:
        found.append(ipaddress.IPv4Address(packed & 0xFFFFFFFF))
    return [address for address in found if address is not None]


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _allowlisted(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allowed: frozenset[str]) -> bool:
    """True when the exact address is on the operator's (or a test's) allowlist."""
    return any(ipaddress.ip_address(a) == ip for a in allowed)


def _status_line(response: httpx.Response) -> str:
    """'404 Not Found': the standard phrase, never the server's own (remote text in notices)."""
    try:
        phrase = http.HTTPStatus(response.status_code).phrase
    except ValueError:
        phrase = ""
    return f"{response.status_code} {phrase}".strip()


def _elapsed_ms(started: float) -> int:
    """Milliseconds since ``started`` (monotonic)."""
    return int((time.monotonic() - started) * 1000)


def _short(link: str, limit: int = 80) -> str:
    """A link the user gave, as an error message shows it: without credentials or secret
    parameter values (display_url), on one plain line of at most ``limit`` characters; the
    bot escapes it for Discord. Bytes that are not text (lone surrogates, from a shell's
    $'\\xe9') are shown as backslash escapes: they cannot be printed or sent as they are."""
    try:
        link = link.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        link = link.encode("utf-8", "backslashreplace").decode("utf-8")
    return plain_line(display_url(link), limit=limit)


def _loggable(url: str) -> str:
    """The URL without credentials or query values, safe for the operator's log."""
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, UnicodeEncodeError):  # the latter: bytes that are not text
        return _short(url.split("?", 1)[0])
    shown = parsed.copy_with(username=None, password=None, query=None, fragment=None)
    return plain_line(str(shown), limit=_LOGGED_URL_CHARS) + ("?…" if parsed.query else "")


def _log_failure(url: str, error: FetchError, started: float) -> None:
    """One operator log line for a failed fetch."""
    log.info("fetch %s failed (%s): %s, %d ms", _loggable(url), error.kind, error.message,
             _elapsed_ms(started))

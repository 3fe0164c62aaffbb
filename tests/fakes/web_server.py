"""A local HTTP server on 127.0.0.1 that serves fixture files and scripted misbehaviour.

Used by tests of ``knowledge.sources`` (and later by service tests that add web sources).
Every route answers on this machine only; stalling routes wait on an event that ``stop()`` sets,
so no thread outlives the test by more than a moment.

Paths: any file under tests/fixtures/web (with ETag/Last-Modified and 304s), ``route()``
overrides, and the scripted ones in ``_SPECIAL``: /status/404|500|403, /stall, /stall-body,
/trickle, /huge?size=N, /huge-declared, /gzip-bomb, /redirect/{loop-a,self,article,nowhere},
/redirect/to?url=U, /redirect/chain?n=N. ``FakeWeb(tls=True)`` serves HTTPS with a
self-signed certificate.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http.server
import ssl
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "web"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".json": "application/json",
}
# Feeds by name, so the same .xml extension can carry the different feed types.
FEED_TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml"}
LAST_MODIFIED = formatdate(1_714_557_600, usegmt=True)  # Wed, 01 May 2024 10:00:00 GMT
_STALL_LIMIT_S = 10.0


@dataclasses.dataclass
class Route:
    """A canned answer for one path, overriding the fixture file of the same name."""

    body: bytes = b""
    content_type: str | None = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    conditional: bool = True  # answer 304 to a matching If-None-Match / If-Modified-Since
    reason: str | None = None  # the status line's phrase, when not the standard one


@dataclasses.dataclass(frozen=True)
class SeenRequest:
    """One request the server received."""

    path: str
    headers: dict[str, str]


class FakeWeb:
    """Serves ``tests/fixtures/web`` plus scripted paths (see the module docstring)."""

    def __init__(self, fixtures: Path = FIXTURES, *, tls: bool = False) -> None:
        self.fixtures = fixtures
        self.tls = tls
        self.routes: dict[str, Route] = {}
        self.requests: list[SeenRequest] = []
        self.stopping = threading.Event()
        self._server = _QuietServer(("127.0.0.1", 0), _make_handler(self))
        if tls:
            # Self-signed (see fixtures/web/tls): clients that verify certificates must refuse it.
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(fixtures / "tls" / "cert.pem", fixtures / "tls" / "key.pem")
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        # A short poll interval keeps shutdown() (once per test) fast.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        name="fake-web", daemon=True)

    @property
    def port(self) -> int:
        """The random port the server listens on."""
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (``https://`` in TLS mode)."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` on this server."""
        return self.base_url + "/" + path.lstrip("/")

    def route(self, path: str, body: bytes | str, content_type: str | None = "text/html; "
              "charset=utf-8", status: int = 200, reason: str | None = None,
              **headers: str) -> None:
        """Serve ``body`` at ``path`` (replacing any earlier route or fixture file there)."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes["/" + path.lstrip("/")] = Route(data, content_type, status,
                                                    {k.replace("_", "-"): v for k, v in
                                                     headers.items()}, reason=reason)

    def paths_requested(self) -> list[str]:
        """Paths of every request seen so far, in order."""
        return [r.path for r in self.requests]

    def start(self) -> FakeWeb:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release stalled handlers and shut the server down."""
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeWeb:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _QuietServer(http.server.ThreadingHTTPServer):
    """Threading server that does not print tracebacks when a client hangs up early."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Ignore disconnects (expected when the client enforces a limit); report the rest."""
        exc = sys.exception()
        if not isinstance(exc, ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def _make_handler(web: FakeWeb) -> type[http.server.BaseHTTPRequestHandler]:
    """A request handler class bound to one FakeWeb."""

    class Handler(http.server.BaseHTTPRequestHandler):
        """Answers one connection's requests from the FakeWeb's routes and fixtures."""

        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            """Keep pytest output quiet."""

        def do_GET(self) -> None:
            """Dispatch one GET."""
            parsed = urllib.parse.urlsplit(self.path)
            web.requests.append(SeenRequest(parsed.path, dict(self.headers.items())))
            query = dict(urllib.parse.parse_qsl(parsed.query))
            try:
                special = _SPECIAL.get(parsed.path)
                if special is not None:
                    special(self, web, query)
                elif parsed.path in web.routes:
                    self._answer(web.routes[parsed.path])
                else:
                    self._serve_file(parsed.path)
            except ConnectionError:
                pass  # the client gave up (size limit, timeout): expected in these tests

        def _serve_file(self, path: str) -> None:
            """A fixture file with ETag/Last-Modified, or a 404 page."""
            file = (web.fixtures / path.lstrip("/")).resolve()
            if web.fixtures.resolve() not in file.parents or not file.is_file():
                self._answer(Route(b"<html><body>Not here</body></html>", status=404))
                return
            name = file.name.lower()
            content_type = next((t for key, t in FEED_TYPES.items() if name.startswith(key)
                                 and file.suffix == ".xml"), None)
            if content_type is None:
                content_type = CONTENT_TYPES.get(file.suffix, "application/xml")
            self._answer(Route(file.read_bytes(), content_type))

        def _answer(self, route: Route) -> None:
            """Send a Route, honouring conditional GET for 200 answers."""
            etag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
            if route.status == 200 and route.conditional and self._not_modified(etag):
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(route.status, route.reason)
            if route.content_type:
                self.send_header("Content-Type", route.content_type)
            if route.status == 200:
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", LAST_MODIFIED)
            for key, value in route.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)

        def _not_modified(self, etag: str) -> bool:
            """True when the request's validators match the current version."""
            if_none_match = self.headers.get("If-None-Match")
            if if_none_match is not None:
                return etag in [t.strip() for t in if_none_match.split(",")]
            since = self.headers.get("If-Modified-Since")
            if since:
                try:
                    return parsedate_to_datetime(since) >= parsedate_to_datetime(LAST_MODIFIED)
                except (TypeError, ValueError):
                    return False
            return False

        def send_chunk(self, data: bytes) -> None:
            """One chunk of a chunked body."""
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    return Handler


Special = Callable[[http.server.BaseHTTPRequestHandler, FakeWeb, dict[str, str]], None]


def _status(code: int, phrase: str) -> Special:
    """A route answering ``code`` with a small HTML error page."""
    def answer(h: http.server.BaseHTTPRequestHandler, web: FakeWeb, q: dict[str, str]) -> None:
        """Send the error page."""
        body = f"<html><body><h1>{code} {phrase}</h1></body></html>".encode()
        h._answer(Route(body, status=code))  # type: ignore[attr-defined]
    return answer


def _stall(h: http.server.BaseHTTPRequestHandler, web: FakeWeb, q: dict[str, str]) -> None:
    """Read the request, never answer (until the server stops)."""
    web.stopping.wait(_STALL_LIMIT_S)


def _stall_body(h: http.server.BaseHTTPRequestHandler, web: FakeWeb, q: dict[str, str]) -> None:
    """Send headers and the start of a page, then go quiet."""
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Content-Length", "100000")
    h.end_headers()
    h.wfile.write(b"<html><head><title>Slow</title></head><body><p>Start of a slow page")
    h.wfile.flush()
    web.stopping.wait(_STALL_LIMIT_S)


def _trickle(h: http.server.BaseHTTPRequestHandler, web: FakeWeb, q: dict[str, str]) -> None:
    """A byte every 20 ms: never idle long enough for a read timeout, never done."""
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    deadline = time.monotonic() + _STALL_LIMIT_S
    while time.monotonic() < deadline and not web.stopping.wait(0.02):
        h.send_chunk(b"x")  # type: ignore[attr-defined]


def _huge(h: http.server.BaseHTTPRequestHandler, web: FakeWeb, q: dict[str, str]) -> None:
    """A chunked HTML page of ``?size=`` bytes (default 20 MB), generated as it is sent."""
    size = int(q.get("size", 20 * 1024 * 1024))
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    chunk = b"<p>" + b"filler text " * 5400 + b"</p>\n"  # ~64 KB
    sent = 0
    while sent < size and not web.stopping.is_set():
        piece = chunk[: size - sent]
        h.send_chunk(piece)  # type: ignore[attr-defined]
        sent += len(piece)
    h.wfile.write(b"0\r\n\r\n")


def _huge_declared(h: http.server.BaseHTTPRequestHandler, web: FakeWeb, q: dict[str, str]) -> None:
    """Announce a 50 MB body in Content-Length; the client should refuse before reading it."""
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Content-Length", str(50 * 1024 * 1024))
    h.end_headers()
    h.wfile.write(b"<html>")
    h.wfile.flush()
    web.stopping.wait(_STALL_LIMIT_S)


def _gzip_bomb(h: http.server.BaseHTTPRequestHandler, web: FakeWeb, q: dict[str, str]) -> None:
    """A few KB on the wire that inflate to 8 MB."""
    body = gzip.compress(b"<p>" + b"a" * (8 * 1024 * 1024) + b"</p>")
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Content-Encoding", "gzip")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def _redirect(status: int, location: str) -> Special:
    """A route redirecting to a fixed ``location``."""
    def answer(h: http.server.BaseHTTPRequestHandler, web: FakeWeb, q: dict[str, str]) -> None:
        """Send the redirect."""
        h._answer(Route(b"", None, status, {"Location": location}))  # type: ignore[attr-defined]
    return answer


def _redirect_to(h: http.server.BaseHTTPRequestHandler, web: FakeWeb, q: dict[str, str]) -> None:
    """302 to ``?url=`` (any URL, e.g. a private address the client must refuse)."""
    h._answer(Route(b"", None, 302, {"Location": q["url"]}))  # type: ignore[attr-defined]


def _redirect_chain(h: http.server.BaseHTTPRequestHandler, web: FakeWeb, q: dict[str, str]) -> None:
    """``?n=3`` redirects three more times, then lands on article.html."""
    n = int(q.get("n", "1"))
    target = "/article.html" if n <= 1 else f"/redirect/chain?n={n - 1}"
    h._answer(Route(b"", None, 301, {"Location": target}))  # type: ignore[attr-defined]


_SPECIAL: dict[str, Special] = {
    "/status/404": _status(404, "Not Found"),
    "/status/500": _status(500, "Internal Server Error"),
    "/status/403": _status(403, "Forbidden"),
    "/stall": _stall,
    "/stall-body": _stall_body,
    "/trickle": _trickle,
    "/huge": _huge,
    "/huge-declared": _huge_declared,
    "/gzip-bomb": _gzip_bomb,
    "/redirect/loop-a": _redirect(302, "/redirect/loop-b"),
    "/redirect/loop-b": _redirect(302, "/redirect/loop-a"),
    "/redirect/self": _redirect(301, "/redirect/self"),
    "/redirect/article": _redirect(301, "/article.html"),
    "/redirect/nowhere": _redirect(302, ""),
    "/redirect/to": _redirect_to,
    "/redirect/chain": _redirect_chain,
}

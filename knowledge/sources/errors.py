"""Errors raised while adding sources; each carries a short message fit to show a user as is."""

from __future__ import annotations

from typing import Literal

from knowledge.errors import BadInput, KnowledgeError

FetchErrorKind = Literal[
    "invalid_url",  # not a URL we can fetch (scheme, missing host)
    "address",  # the host resolves to a loopback/private/... address
    "dns",  # the host name does not resolve
    "connect",  # connection refused, reset, TLS failure
    "timeout",  # connect, read or total time limit reached
    "http",  # the server answered 4xx/5xx
    "redirects",  # too many redirects, a loop, a redirect without a target
    "too_large",  # the body is larger than the size limit
    "content_type",  # binary or unsupported content
    "protocol",  # the server broke HTTP
]


class SourceError(KnowledgeError):
    """A source could not be read; ``message`` is short and user-readable."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FetchError(SourceError):
    """Fetching a URL failed; ``kind`` says why in a machine-readable way."""

    def __init__(self, kind: FetchErrorKind, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.kind: FetchErrorKind = kind
        self.status = status

    def __repr__(self) -> str:
        return f"FetchError({self.kind!r}, {self.message!r})"


class FeedError(SourceError):
    """Bytes that were expected to be an RSS or Atom feed are not one."""


class ExtractionError(SourceError, BadInput):
    """A document hit a limit while its text was extracted (time, memory, size, pages)."""


class UploadError(SourceError, BadInput):
    """An uploaded file cannot be read (type, size, encoding or damage)."""

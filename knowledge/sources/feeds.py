"""Parse RSS and Atom feeds into plain entries, and tell whether a response is a feed at all."""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import hashlib
import io
import logging
import re
import time
import xml.sax
from typing import Any

import feedparser

from knowledge.sources.encoding import decode_bytes, text_codec
from knowledge.sources.errors import FeedError
from knowledge.sources.extract import check_markup_size
from knowledge.sources.sandbox import ExtractionLimits, run_limited
from knowledge.sources.urls import display_url
from knowledge.text.html import html_to_text
from knowledge.text.remote import TITLE_LIMIT, plain_line

log = logging.getLogger(__name__)

FEED_MEDIA_TYPES = frozenset({
    "application/rss+xml", "application/atom+xml", "application/rdf+xml",
})
# Below this many characters an entry is taken for a teaser, and the linked page is fetched.
FULL_TEXT_MIN_CHARS = 600
_TRUNCATED_TAIL = re.compile(
    r"(?:\[\s*(?:…|\.\.\.)\s*\]|…|\.\.\.|\bread more\W*|\bcontinue reading\W*|\(more\W*\))\s*$",
    re.IGNORECASE,
)
_PROLOGUE = re.compile(r"^\s*(?:<\?[^>]*\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*", re.DOTALL)
_FEED_ROOT = re.compile(r"<(?:rss|rdf:RDF|feed)[\s>/]", re.IGNORECASE)


@dataclasses.dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a feed, as plain text."""

    id: str  # guid/id, else the link, else a hash of title and date
    link: str | None  # absolute
    title: str | None
    authors: tuple[str, ...]
    published: str | None  # ISO 8601 in UTC ("2017-03-22T06:30:00+00:00"); updated if no published
    summary_text: str  # "" when the entry has none
    content_text: str | None  # full content (content:encoded, atom:content); None when absent
    is_summary_only: bool  # True: fetch ``link`` for the full article

    @property
    def text(self) -> str:
        """The fullest text the feed carries for this entry."""
        return self.content_text or self.summary_text


@dataclasses.dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed's own title and link, and its entries in feed order."""

    title: str | None
    link: str | None
    entries: tuple[FeedEntry, ...]
    language: str | None = None


def parse_feed(
    data: bytes | str, base_url: str, *, content_type: str | None = None,
    limits: ExtractionLimits | None = None,
) -> ParsedFeed:
    """Parse RSS 0.9x/1.0/2.0 or Atom; tolerate small breakage, raise FeedError when unusable.

    A feed is untrusted markup too: it is parsed in a sandbox worker within ``limits``.
    Blocks the calling thread: call it from a worker thread in async code.
    """
    limits = limits or ExtractionLimits()
    check_markup_size(data, limits, what="feed")
    return run_limited(parse_feed_here, data, base_url, content_type, limits=limits, what="feed")


def parse_feed_here(data: bytes | str, base_url: str, content_type: str | None) -> ParsedFeed:
    """``parse_feed`` in this process (inside a sandbox worker)."""
    if isinstance(data, str):
        raw = data.encode("utf-8")
        # The text is already decoded: make the header's charset win over the XML declaration.
        content_type = "application/xml; charset=utf-8"
    else:
        raw, content_type = _without_bogus_charset(data, content_type)
    headers = {"content-location": base_url, "content-type": content_type or "application/xml"}
    try:
        # A stream, never a str: feedparser would treat a str as a URL or a file name to open.
        parsed = feedparser.parse(io.BytesIO(raw), response_headers=headers, sanitize_html=True,
                                  resolve_relative_uris=True)
    except (UnicodeError, LookupError) as exc:
        log.info("feed %s could not be decoded: %s", display_url(base_url), exc)
        raise FeedError("not a valid RSS or Atom feed: its text could not be decoded") from None
    if not parsed.version and not parsed.entries:
        raise FeedError(f"not a valid RSS or Atom feed: {_why_not(parsed, raw)}")
    if parsed.bozo and not parsed.entries:
        raise FeedError(f"not a valid RSS or Atom feed: {_why_not(parsed, raw)}")
    if parsed.bozo:
        # INFO: the feed was read, so nobody needs to act; the operator sees why with -v.
        problem = parsed.get("bozo_exception")
        log.info("feed %s is malformed but readable (%s: %s)", display_url(base_url),
                 type(problem).__name__, _describe(problem))
    feed = parsed.feed
    return ParsedFeed(
        title=_plain(feed.get("title"), feed.get("title_detail")),
        link=feed.get("link") or None,
        entries=tuple(_entry(e) for e in parsed.entries),
        language=(feed.get("language") or None),
    )


def _without_bogus_charset(raw: bytes, content_type: str | None) -> tuple[bytes, str | None]:
    """The feed as UTF-8 when its header or XML prolog names no real text charset.

    feedparser tries any codec a feed names (``encoding="undefined"`` raises from inside it),
    so such a feed is decoded here by the same rules as a page, and its prolog corrected.
    """
    header = _HEADER_CHARSET.search(content_type or "")
    prolog = _PROLOG_ENCODING.search(raw[:512])
    labels = [header.group(1)] if header else []
    if prolog:
        labels.append(prolog.group(1).decode("ascii", errors="replace"))
    if all(text_codec(label) for label in labels):
        return raw, content_type
    media_type = (content_type or "application/xml").split(";")[0].strip()
    declared = header.group(1) if header else None
    text = decode_bytes(raw, declared).text
    if prolog is not None:
        text = _PROLOG_ENCODING_TEXT.sub(r"\1utf-8\2", text, count=1)
    return text.encode("utf-8"), f"{media_type}; charset=utf-8"


_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([^\s;\"']+)", re.IGNORECASE)
_PROLOG_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")
_PROLOG_ENCODING_TEXT = re.compile(r"""^(\ufeff?\s*<\?xml[^>]*?encoding\s*=\s*["'])[^"']*(["'])""")


def looks_like_feed(content_type: str | None, text: str | bytes) -> bool:
    """True when a response is an RSS/Atom feed, by its type or by its root element."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type in FEED_MEDIA_TYPES:
        return True
    head = text[:4096]
    if isinstance(head, bytes):
        head = head.decode("utf-8", errors="replace")
    head = _PROLOGUE.sub("", head.lstrip("\ufeff"), count=1)
    return _FEED_ROOT.match(head) is not None


def is_summary_only(text: str) -> bool:
    """True when ``text`` reads like a teaser: short, or cut off with an ellipsis or 'read more'."""
    text = text.strip()
    return len(text) < FULL_TEXT_MIN_CHARS or _TRUNCATED_TAIL.search(text) is not None


def _entry(entry: Any) -> FeedEntry:
    """A FeedEntry from one feedparser entry."""
    title = _plain(entry.get("title"), entry.get("title_detail"))
    summary = html_to_text(entry.get("summary"))
    contents = [html_to_text(c.get("value")) for c in entry.get("content", [])]
    content = max(contents, key=len, default="") or None
    link = entry.get("link") or None
    published = _iso(entry.get("published_parsed") or entry.get("updated_parsed"))
    return FeedEntry(
        id=entry.get("id") or link or _fallback_id(title, published),
        link=link,
        title=title,
        authors=_authors(entry),
        published=published,
        summary_text=summary,
        content_text=content,
        is_summary_only=is_summary_only(content or summary),
    )


def _authors(entry: Any) -> tuple[str, ...]:
    """Author names (not e-mail addresses), in feed order, without repeats."""
    names = [a.get("name") for a in entry.get("authors", []) if isinstance(a, dict)]
    if not any(names) and entry.get("author") and "@" not in entry["author"]:
        names = [entry["author"]]
    cleaned = (" ".join(n.split()) for n in names if n)
    return tuple(dict.fromkeys(n for n in cleaned if n))


def _plain(value: str | None, detail: Any) -> str | None:
    """A title as plain text, whether the feed marked it up as HTML or not."""
    if not value:
        return None
    kind = (detail or {}).get("type", "text/plain")
    text = html_to_text(value) if "html" in kind else value
    return plain_line(text, limit=TITLE_LIMIT) or None


def _iso(parsed: time.struct_time | None) -> str | None:
    """ISO 8601 UTC timestamp from feedparser's UTC struct_time."""
    if parsed is None:
        return None
    try:
        return dt.datetime.fromtimestamp(calendar.timegm(parsed), tz=dt.UTC).isoformat()
    except (OverflowError, ValueError, OSError):
        return None


def _fallback_id(title: str | None, published: str | None) -> str:
    """A stable id for entries that carry neither guid nor link."""
    digest = hashlib.sha1(f"{title}\x00{published}".encode()).hexdigest()[:16]
    return f"sha1:{digest}"


def _why_not(parsed: Any, raw: bytes) -> str:
    """Short reason a document is not a usable feed."""
    head = raw[:2048].lower()
    if b"<html" in head or b"<!doctype html" in head:
        return "this is a web page, not a feed"
    if not raw.strip():
        return "the document is empty"
    if not raw.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return "this is not XML"
    exc = parsed.get("bozo_exception")
    if isinstance(exc, xml.sax.SAXParseException):
        # No line number: feedparser may rewrite the prolog, which shifts them.
        return f"broken XML ({exc.getMessage()})"
    if parsed.version:
        return "no items could be read"
    return "no <rss> or <feed> element found"


def _describe(exc: BaseException | None) -> str:
    """One-line description of feedparser's bozo exception, in words (no class name)."""
    if exc is None:
        return "unknown problem"
    if isinstance(exc, xml.sax.SAXParseException):
        return exc.getMessage()
    return " ".join(str(exc).split()) or "unknown problem"

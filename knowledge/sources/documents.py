"""Turn what a source yielded (a fetched page, a feed entry, an upload) into an ingest Document."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re

from knowledge.ingest import Document
from knowledge.models import Contributor, PartialDate
from knowledge.sources.extract import ExtractedArticle, canonicalize_url
from knowledge.sources.feeds import FeedEntry, ParsedFeed
from knowledge.sources.fetch import FetchResult
from knowledge.sources.files import UploadedDocument
from knowledge.store.tables import utcnow

log = logging.getLogger(__name__)

# "Harbour Institute: Commentary", "The Diplomat – Asia" -> the outlet's name before the section.
_FEED_TITLE_SECTION = re.compile(r"\s+[|–—-]\s+|:\s+")


# Dates a source may claim: none before this, none more than a day (time zones) after now.
EARLIEST_DATE = dt.date(1900, 1, 1)
_FUTURE_SLACK = dt.timedelta(days=1)


def partial_date(raw: str | None, *, today: dt.date | None = None) -> PartialDate | None:
    """A PartialDate from "YYYY[-MM[-DD]]..." (an ISO timestamp is cut to its day), or None;
    None too for an impossible date (9999-12-31, 0001-01-01: a feed's placeholder or error),
    which would otherwise top every list, or match every "since"."""
    if not raw:
        return None
    match = re.match(r"\d{4}(?:-\d{2}(?:-\d{2})?)?", raw.strip())
    if not match:
        return None
    try:
        date = PartialDate.parse(match.group(0))
    except ValueError:
        return None
    today = today or utcnow().date()
    if date.start > today + _FUTURE_SLACK or date.end < EARLIEST_DATE:
        log.info("published date %s is %s: treated as unknown", date.iso,
                 "in the future" if date.start > today else f"before {EARLIEST_DATE.year}")
        return None
    return date


def authors_of(names: tuple[str, ...]) -> tuple[Contributor, ...]:
    """Metadata author names as author contributors."""
    return tuple(Contributor(name, "author") for name in names)


def publisher_from_feed(feed: ParsedFeed) -> str | None:
    """The outlet's name from a feed title ("Harbour Institute: Commentary" -> first part)."""
    if not feed.title:
        return None
    return _FEED_TITLE_SECTION.split(feed.title, maxsplit=1)[0].strip() or feed.title


def page_document(article: ExtractedArticle, page: FetchResult, *, source_id: int | None = None
                  ) -> Document:
    """A fetched HTML article with its extracted metadata."""
    return Document(
        text=article.text, title=article.title, publisher=article.site_name,
        published=partial_date(article.published), url=page.final_url,
        canonical_url=article.canonical_url or canonicalize_url(page.final_url),
        language=article.language or "en", contributors=authors_of(article.authors),
        source_id=source_id, extra={"via": "url", "requested_url": page.url},
    )


def plain_page_document(page: FetchResult) -> Document:
    """A fetched plain-text or Markdown page."""
    return Document(
        text=page.text, format="markdown" if "markdown" in (page.content_type or "") else "text",
        url=page.final_url, canonical_url=canonicalize_url(page.final_url),
        extra={"via": "url", "requested_url": page.url},
    )


def upload_document(upload: UploadedDocument, *, url: str | None = None,
                    extra: dict | None = None) -> Document:
    """An uploaded (or fetched) file read by ``files.read_upload``."""
    canonical = upload.canonical_url or (canonicalize_url(url) if url else None)
    return Document(
        text=upload.text, title=upload.title, published=partial_date(upload.published),
        url=url or upload.canonical_url, canonical_url=canonical,
        language=upload.language or "en", contributors=authors_of(upload.authors),
        format="markdown" if upload.file_type == "md" else "text",
        extra={"filename": upload.filename, "file_type": upload.file_type, **(extra or {})},
    )


def entry_document(entry: FeedEntry, feed: ParsedFeed, page: ExtractedArticle | None, *,
                   source_id: int, announce: bool) -> Document:
    """A feed entry, with the full text of its page when the feed only carried a teaser."""
    text = entry.text
    canonical = canonicalize_url(entry.link) if entry.link else None
    publisher = publisher_from_feed(feed)
    authors = entry.authors
    published = partial_date(entry.published)
    title = entry.title
    if page is not None and len(page.text) > len(text):
        text = page.text
        canonical = page.canonical_url or canonical
        publisher = page.site_name or publisher
        authors = authors or page.authors
        published = published or partial_date(page.published)
        title = title or page.title
    return Document(
        text=text, title=title, publisher=publisher, published=published, url=entry.link,
        canonical_url=canonical,
        language=(page.language if page else None) or primary_language(feed.language) or "en",
        contributors=authors_of(authors), source_id=source_id, announce=announce,
        extra={"via": "feed", "feed_entry_id": entry.id},
    )


def primary_language(tag: str | None) -> str | None:
    """"en-US" -> "en"; None for anything that is not a language tag."""
    primary = re.split(r"[-_]", (tag or "").strip())[0].lower()
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None


def entry_signature(entry: FeedEntry) -> str:
    """What an edit changes (title, date, link): a new signature for a known entry is an edit."""
    raw = "\x00".join([entry.title or "", entry.published or "", entry.link or ""])
    return hashlib.sha1(raw.encode()).hexdigest()[:16]

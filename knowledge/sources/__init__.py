"""Reading sources from the web and from uploads: fetch, extract, parse feeds, read files.

Pure building blocks: no database, no Discord. Every failure is a ``SourceError`` (a
``KnowledgeError``) whose message can be shown to a user as is.

The fetch coroutine is imported from its module (``from knowledge.sources.fetch import fetch``):
re-exporting it here would shadow the ``knowledge.sources.fetch`` module with the function.
"""

from __future__ import annotations

from knowledge.sources.errors import FeedError, FetchError, FetchErrorKind, SourceError, UploadError
from knowledge.sources.extract import (
    ExtractedArticle,
    canonicalize_url,
    discover_feeds,
    extract_article,
)
from knowledge.sources.feeds import (
    FeedEntry,
    ParsedFeed,
    is_summary_only,
    looks_like_feed,
    parse_feed,
)
from knowledge.sources.fetch import (
    ARTICLE_TYPES,
    DEFAULT_ACCEPT,
    FEED_TYPES,
    FetchResult,
    FetchSettings,
)
from knowledge.sources.files import UploadedDocument, read_upload

__all__ = [
    "ARTICLE_TYPES",
    "DEFAULT_ACCEPT",
    "FEED_TYPES",
    "ExtractedArticle",
    "FeedEntry",
    "FeedError",
    "FetchError",
    "FetchErrorKind",
    "FetchResult",
    "FetchSettings",
    "ParsedFeed",
    "SourceError",
    "UploadError",
    "UploadedDocument",
    "canonicalize_url",
    "discover_feeds",
    "extract_article",
    "is_summary_only",
    "looks_like_feed",
    "parse_feed",
    "read_upload",
]

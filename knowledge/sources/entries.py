"""Ingest a feed's entries: new ones stored, known ones skipped, edited ones recorded as appearances.

Summary-only entries get the full text of their page through the same safe fetch as any link.
A page that cannot be fetched is retried on the next polls (up to MAX_ENTRY_TRIES; until then
those polls read the whole feed, never a 304: FeedState.needs_whole_feed); only then
is the feed's own teaser stored, if it is long enough to index.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable

from knowledge.ingest import Origin, add_document, record_appearance
from knowledge.library import Library
from knowledge.sources.documents import entry_document, entry_signature
from knowledge.sources.errors import FetchError, SourceError
from knowledge.sources.extract import ExtractedArticle, extract_article
from knowledge.sources.feeds import FeedEntry, ParsedFeed
from knowledge.sources.fetch import ARTICLE_TYPES, FetchSettings, fetch
from knowledge.sources.files import read_upload
from knowledge.sources.outcomes import EntryTally
from knowledge.sources.polling import MAX_ENTRY_TRIES, FeedState, retry_pending
from knowledge.sources.units import seconds
from knowledge.sources.urls import display_url

log = logging.getLogger(__name__)

PAGE_FETCH_CONCURRENCY = 4


class _Postponed:
    """An entry's page was not fetched before the poll's deadline: no try, no error."""


POSTPONED = _Postponed()


class _FeedTextOnly:
    """An entry's page can never be read (a link to no web page, or to something that is no
    article): the feed's own text is all there is, now and on every later poll."""


FEED_TEXT_ONLY = _FeedTextOnly()


@dataclasses.dataclass(frozen=True, slots=True)
class EntryDeferred:
    """An entry's page could not be fetched this time; it will be tried again next poll."""

    reason: str


# async (entries read, entries stored, entries to handle): how a slow feed add is going.
AddProgress = Callable[[int, int, int], Awaitable[None]]


async def ingest_entries(library: Library, fetch_settings: FetchSettings, state: FeedState,
                         feed: ParsedFeed, *, first: bool, progress: AddProgress | None = None,
                         deadline: float | None = None) -> EntryTally:
    """Store the feed's new entries (oldest first) and update ``state.entries`` in place.

    ``progress`` (when given) hears how many entries were read and stored so far.

    On a feed's first add only the ``feed_initial_announce`` most recent entries are announced;
    later, every new entry is. A known entry whose title, date or link changed is an appearance.
    At most ``feed_max_entries_per_poll`` new entries are handled, the most recent first; the
    rest are counted in ``state.backlog`` and handled by the next polls.

    ``deadline`` (the event loop's clock; FEED_POLL_DEADLINE_SECONDS after the poll began):
    entry pages not fetched by then are left for the next poll, like the backlog, without
    counting as a try (``tally.postponed``); what was fetched is stored.
    """
    tally = EntryTally()
    announced = _most_recent(feed.entries, library.settings.feed_initial_announce) if first else None
    todo: list[tuple[FeedEntry, str, int]] = []
    entries = _unique(feed.entries)
    state.carried = {entry.id for entry in entries}
    for entry_id, remembered in state.entries.items():
        if entry_id not in state.carried and retry_pending(remembered):
            # Gone from the feed: no later poll can retry it, so it must not keep the
            # conditional GET off (FeedState.needs_whole_feed).
            remembered["tries"] = MAX_ENTRY_TRIES
            log.info("feed #%d: entry %s left the feed before it could be read; given up",
                     state.id, entry_id)
    origin = Origin(guilds=state.guilds)
    for entry in entries:
        signature = entry_signature(entry)
        known = state.entries.get(entry.id)
        if known and known.get("article"):
            if known.get("sig") != signature:
                await library.run(record_appearance, library, known["article"],
                                        source_id=state.id, url=entry.link, title=entry.title,
                                        reason="entry_id")
                known["sig"] = signature
                tally.seen_again += 1
            continue
        if known and not retry_pending(known):
            continue
        tries = int(known.get("tries", 0)) if known else 0
        todo.append((entry, signature, tries))
    cap = library.settings.feed_max_entries_per_poll
    state.backlog = max(0, len(todo) - cap)
    if state.backlog:
        recent = _most_recent(tuple(entry for entry, _, _ in todo), cap)
        todo = [item for item in todo if item[0].id in recent]
        log.info("feed #%d: %d new entries handled, %d left for the next polls", state.id,
                 len(todo), state.backlog)
    limit = asyncio.Semaphore(PAGE_FETCH_CONCURRENCY)
    counts = {"read": 0, "stored": 0}

    async def report() -> None:
        if progress is not None:
            await progress(counts["read"], counts["stored"], len(todo))

    async def page_of(entry: FeedEntry, tries: int
                      ) -> ExtractedArticle | EntryDeferred | _Postponed | _FeedTextOnly | None:
        async with limit:
            timer = asyncio.timeout_at(deadline)
            try:
                async with timer:
                    page = await _entry_page(entry, fetch_settings,
                                             last_try=tries + 1 >= MAX_ENTRY_TRIES)
            except TimeoutError:
                if not timer.expired():
                    raise
                return POSTPONED
        counts["read"] += 1
        await report()
        return page

    pages = await asyncio.gather(*(page_of(entry, tries) for entry, _, tries in todo))
    ordered = sorted(zip(todo, pages, strict=True), key=lambda item: item[0][0].published or "")
    for (entry, signature, tries), page in ordered:
        label = entry.link or entry.title or entry.id
        if isinstance(page, _Postponed):  # as if never seen: new (or pending) on the next poll
            tally.postponed += 1
            continue
        if isinstance(page, EntryDeferred):
            state.entries[entry.id] = {"article": None, "sig": signature, "tries": tries + 1}
            tally.errors.append(page.reason)
            continue
        announce = announced is None or entry.id in announced
        settled = isinstance(page, _FeedTextOnly)
        doc = entry_document(entry, feed, None if isinstance(page, _FeedTextOnly) else page,
                             source_id=state.id, announce=announce)
        result = await library.run(add_document, library, doc, label=label, origin=origin)
        # Settled: not tried again even when the feed's text could not be stored either.
        state.entries[entry.id] = {"article": result.article_id, "sig": signature,
                                   "tries": MAX_ENTRY_TRIES if settled else tries + 1}
        if result.status == "added" and result.article_id is not None:
            tally.added.append(result.article_id)
            tally.passages += result.passages
            tally.announced += announce
        elif result.status == "duplicate":
            tally.seen_again += 1
        else:
            log.info("feed #%d entry %s not stored: %s", state.id, display_url(label), result.message)
            tally.errors.append(f"{entry.title or display_url(label)}: {result.message}")
        counts["stored"] += 1
        await report()
    if tally.postponed:
        state.backlog += tally.postponed  # the next poll reads the whole feed (no 304)
        log.info("feed #%d: %d entry pages not fetched within the poll's %s; left for the next "
                 "poll", state.id, tally.postponed,
                 seconds(library.settings.feed_poll_deadline_seconds))
    return tally


async def _entry_page(entry: FeedEntry, settings: FetchSettings, *, last_try: bool
                      ) -> ExtractedArticle | EntryDeferred | _FeedTextOnly | None:
    """The full article behind a summary-only entry; None when the feed's text is the article."""
    if not entry.is_summary_only or not entry.link:
        return None
    try:
        page = await fetch(entry.link, settings=settings, accept=ARTICLE_TYPES)
        if page.is_pdf:
            upload = await asyncio.to_thread(read_upload, "entry.pdf", page.content,
                                             settings.max_bytes, limits=settings.extraction)
            return ExtractedArticle(upload.title, upload.authors, upload.published, upload.text,
                                    None, upload.language)
        if "html" in (page.content_type or ""):
            return await asyncio.to_thread(extract_article, page.text, page.final_url,
                                           limits=settings.extraction)
        return ExtractedArticle(None, (), None, page.text.strip(), None, None)
    except SourceError as exc:
        if _final(exc):
            log.info("entry page %s cannot be read (%s): using the feed's own text",
                     display_url(entry.link), exc.message)
            return FEED_TEXT_ONLY
        if last_try:
            log.info("entry page %s still unreadable after %d tries (%s): given up, using the "
                     "feed's own text", display_url(entry.link), MAX_ENTRY_TRIES, exc.message)
            return None
        return EntryDeferred(f"{entry.title or display_url(entry.link)}: {exc.message} (will retry)")


# What no later try can change: a link that is not a web address, points inside, or serves
# something that is no article (an image, the feed itself). (A 404 is retried: feeds often
# announce a page before it is published.)
_FINAL_KINDS = frozenset({"invalid_url", "address", "content_type"})


def _final(exc: SourceError) -> bool:
    """Whether an entry page's failure is for good (no retry)."""
    return isinstance(exc, FetchError) and exc.kind in _FINAL_KINDS


def _most_recent(entries: tuple[FeedEntry, ...], count: int) -> frozenset[str]:
    """Ids of the ``count`` most recently published entries (undated ones count as oldest)."""
    ranked = sorted(entries, key=lambda e: (e.published is not None, e.published or ""),
                    reverse=True)
    return frozenset(e.id for e in ranked[:count])


def _unique(entries: tuple[FeedEntry, ...]) -> list[FeedEntry]:
    """Entries with distinct ids, first occurrence kept (some feeds repeat an item)."""
    first: dict[str, FeedEntry] = {}
    for entry in entries:
        first.setdefault(entry.id, entry)
    return list(first.values())

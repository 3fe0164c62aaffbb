"""Sources: add article links, feeds and files to the library, and poll followed feeds.

``SourcesService`` hangs off the library service as ``service.sources``. Adding never raises for bad
input: each input gets an AddResult (added / duplicate / error with a short reason) and one log
line for the operator. Polling never raises either: a failing feed backs off exponentially, is
marked failing after FAILING_AFTER failures in a row, and the admins are told once through the
notifier (and once more when it recovers).
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import dataclasses
import datetime as dt
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, Literal

from knowledge.errors import INTERNAL_ERROR, BadInput, KnowledgeError
from knowledge.ingest import MIN_TEXT_CHARS, Document, Origin, add_document
from knowledge.library import Library
from knowledge.models import AddResult, SourceStatus
from knowledge.notices import AdminNotifier, notify_admins
from knowledge.owners import new_owner
from knowledge.sources import polling, records
from knowledge.sources.documents import page_document, plain_page_document, upload_document
from knowledge.sources.entries import AddProgress, ingest_entries
from knowledge.sources.errors import FeedError, SourceError
from knowledge.sources.extract import canonicalize_url, extract_article
from knowledge.sources.feeds import looks_like_feed, parse_feed
from knowledge.sources.fetch import FetchResult, FetchSettings, check_link, fetch
from knowledge.sources.files import read_upload
from knowledge.sources.outcomes import PollOutcome
from knowledge.sources.units import human_size
from knowledge.sources.urls import display_url
from knowledge.visibility import owner as owner_guild

__all__ = ["PollOutcome", "SourcesService"]

from knowledge.store.tables import as_utc, utcnow
from knowledge.text.remote import plain_line, quote_remote

log = logging.getLogger(__name__)

# async (number of the input from 1, inputs, the input): which of several inputs starts.
InputProgress = Callable[[int, int, str], Awaitable[None]]

Kind = Literal["auto", "article", "feed"]
KINDS = ("auto", "article", "feed")
POLL_CONCURRENCY = 4
_XML_TYPES = ("application/xml", "text/xml")
_LOGGED_CHARS = 300  # of an input or a result message in the operator's log line
_SHOWN_TITLE_CHARS = 150
_WEB_LINKS_ONLY = "only links starting with http:// or https:// can be added here"
_SCHEMES_WITHOUT_SLASHES = ("data:", "javascript:", "vbscript:", "mailto:", "about:", "blob:",
                            "tel:")


class SourcesService:
    """Article links, feeds and uploads into the library; feed polling with leases and backoff."""

    def __init__(self, library: Library, *, fetch_settings: FetchSettings | None = None
                 ) -> None:
        self.library = library
        self._fetch_settings = fetch_settings
        self._notifier: AdminNotifier | None = None
        # Names this process in lease rows, so a lease is only ever released by its holder.
        # (host, PID namespace, PID: a lease whose process is gone is taken over at once)
        self.owner = new_owner()
        self._simhashes_checked = False

    # ----- configuration --------------------------------------------------------------------
    @property
    def fetch_settings(self) -> FetchSettings:
        """Fetch limits: the explicit ones given at construction, else from the library settings."""
        if self._fetch_settings is not None:
            return self._fetch_settings
        return FetchSettings.from_settings(self.library.settings)

    @fetch_settings.setter
    def fetch_settings(self, value: FetchSettings | None) -> None:
        self._fetch_settings = value

    def set_notifier(self, notifier: AdminNotifier | None) -> None:
        """Where failing/recovered feed notices go: ``async (guild_id, message) -> None``."""
        self._notifier = notifier

    # ----- adding ---------------------------------------------------------------------------
    async def add(self, url_or_path: str, *, kind: Kind = "auto", guild_id: int | None,
                  added_by: str | None = None, allow_local: bool | None = None,
                  progress: AddProgress | None = None,
                  each: InputProgress | None = None) -> list[AddResult]:
        """Add links (and, from the CLI, local files); one AddResult per whitespace-separated input.

        ``kind``: "feed" insists on a feed (a page is searched for the feed it advertises),
        "article" refuses feeds, "auto" decides from the response. Local paths are read only
        when ``allow_local`` is true; by default only for operator calls (no guild, no user),
        so a Discord admin can never make the bot read files on its host. ``progress`` hears
        how a feed's entries are going (read, stored, to handle); ``each``, when there are
        several inputs, which one starts (its number from 1, how many, the input).
        """
        if kind not in KINDS:
            return [AddResult(url_or_path, "error", "kind must be auto, article or feed")]
        local_ok = allow_local if allow_local is not None else (
            guild_id is None and added_by is None)
        items = _split_inputs(url_or_path, local_ok)
        if not items:
            return [AddResult(url_or_path, "error", "nothing to add: give a link or a file")]
        results = []
        for number, item in enumerate(items, 1):
            if each is not None and len(items) > 1:
                await each(number, len(items), item)
            results.append(await self._add_one(item, kind, guild_id, added_by, local_ok,
                                               progress))
        return results

    async def add_upload(self, filename: str, data: bytes, *, guild_id: int | None,
                         added_by: str | None = None) -> AddResult:
        """Add an uploaded file (.txt, .md, .html, .pdf); other types get a clear refusal."""
        return await self._guarded(filename, self._add_file(
            filename, data, filename, guild_id, added_by, {}))

    async def _add_one(self, item: str, kind: Kind, guild_id: int | None, added_by: str | None,
                       local_ok: bool, progress: AddProgress | None = None) -> AddResult:
        """One input: a link, or a local path when allowed."""
        if _is_link(item):
            # The result names the link as it may be shown (the bot echoes it to a server's
            # alert channel): without credentials or secret parameter values. Fetched: ``item``.
            return await self._guarded(display_url(item) or item,
                                       self._add_link(item, kind, guild_id, added_by, progress))
        if not local_ok:
            return _logged(AddResult(item, "error", f"{_WEB_LINKS_ONLY} (upload files instead)"))
        if _other_scheme(item):
            return _logged(AddResult(_shown_input(item), "error",
                                     f"{_WEB_LINKS_ONLY} (or a file's path)"))
        if kind == "feed":
            return _logged(AddResult(item, "error", "a feed must be a link (http:// or https://)"))
        return await self._guarded(item, self._add_path(Path(item), guild_id, added_by))

    async def _guarded(self, label: str, work: Coroutine[Any, Any, AddResult]) -> AddResult:
        """Await ``work``; a user-facing error becomes an error result, a bug a logged one."""
        try:
            result = await work
        except KnowledgeError as exc:
            result = AddResult(label, "error", str(exc))
        except Exception:
            log.exception("adding %s failed unexpectedly", display_url(label))
            result = AddResult(label, "error", "internal error while adding this source "
                                               "(details are in the operator's log)")
        return _logged(result)

    async def _add_path(self, path: Path, guild_id: int | None, added_by: str | None
                        ) -> AddResult:
        """A local text, Markdown, HTML or PDF file."""
        data, resolved = await self.library.run(_read_local, path,
                                                 self.library.settings.upload_max_bytes)
        # A file name may hold bytes that are not UTF-8 (Linux allows it): read by its real
        # name above, stored and shown with those bytes replaced.
        return await self._add_file(_shown(path.name), data, _shown(str(path)), guild_id,
                                    added_by, {"path": _shown(str(resolved))})

    async def _add_file(self, filename: str, data: bytes, label: str, guild_id: int | None,
                        added_by: str | None, extra: dict) -> AddResult:
        """File bytes through read_upload, then ingest; a Source(kind="file") when stored."""
        upload = await self.library.run(read_upload, filename, data,
                                         self.library.settings.upload_max_bytes,
                                         limits=self.fetch_settings.extraction)
        origin = _new_source_origin(kind="file", url=None, canonical_url=None,
                                    title=upload.title or filename, guild_id=guild_id,
                                    added_by=added_by,
                                    extra={"filename": upload.filename, **extra})
        result = await self._ingest(upload_document(upload, extra=extra), label, origin)
        if upload.warnings:
            result = dataclasses.replace(result, message=f"{result.message} "
                                         f"({'; '.join(upload.warnings)})")
        return result

    async def _add_link(self, url: str, kind: Kind, guild_id: int | None,
                        added_by: str | None, progress: AddProgress | None = None
                        ) -> AddResult:
        """Fetch a link and decide: a feed to follow, a page advertising one, or an article."""
        deadline = self._poll_deadline()  # a feed's add is its first poll
        url = url.strip()
        label = display_url(url) or url  # as results and log lines show it; ``url`` is fetched
        check_link(url)  # a malformed link is the user's mistake, told before any lookup
        if kind != "article":
            known = await self.library.run(records.find_feed, self.library, guild_id, url,
                                            canonicalize_url(url))
            if known is not None:
                return await self._known_feed(label, known)
        page = await fetch(url, settings=self.fetch_settings)
        if looks_like_feed(page.content_type, page.content):
            if kind == "article":
                raise BadInput("this link is an RSS or Atom feed, not an article: add it as a feed")
            return await self._follow(label, page, guild_id, added_by, deadline, progress)
        media_type = page.content_type or ""
        if page.is_pdf:
            if kind == "feed":
                raise FeedError("this link is a PDF document, not an RSS or Atom feed")
            upload = await self.library.run(read_upload, _pdf_name(page.final_url),
                                             page.content, self.fetch_settings.max_bytes,
                                             limits=self.fetch_settings.extraction)
            doc = upload_document(upload, url=page.final_url, extra={"via": "url"})
            return await self._add_article(label, doc, guild_id, added_by)
        if "html" in media_type:
            article = await self.library.run(extract_article, page.text, page.final_url,
                                           limits=self.fetch_settings.extraction)
            wants_feed = kind == "feed" or (
                kind == "auto" and len(article.text) < MIN_TEXT_CHARS and article.feed_links)
            if not wants_feed:
                return await self._add_article(label, page_document(article, page), guild_id,
                                               added_by)
            if not article.feed_links:
                raise FeedError("no RSS or Atom feed found on this page")
            feed_url = article.feed_links[0]
            known = await self.library.run(records.find_feed, self.library, guild_id, feed_url,
                                            canonicalize_url(feed_url))
            if known is not None:
                return await self._known_feed(label, known)
            feed_page = await fetch(feed_url, settings=self.fetch_settings)
            if not looks_like_feed(feed_page.content_type, feed_page.content):
                raise FeedError(f"the feed this page advertises ({display_url(feed_url)}) is not "
                                "an RSS or Atom feed")
            return await self._follow(label, feed_page, guild_id, added_by, deadline,
                                      progress)
        if kind == "feed" or media_type in _XML_TYPES or media_type.endswith("+xml"):
            raise FeedError(f"this link is not an RSS or Atom feed ({media_type or 'unknown type'})")
        return await self._add_article(label, plain_page_document(page), guild_id, added_by)

    async def _known_feed(self, label: str, source_id: int) -> AddResult:
        """A feed this server already follows: said so; but one whose first read never
        finished (the process reading it was stopped) is read now, not left empty until its
        next poll."""
        if await self.library.run(records.was_read, self.library, source_id):
            return _already_following(label, source_id)
        outcome = await self._poll_guarded(source_id, utcnow(), due_only=False)
        already = f"already following this feed (source #{source_id})"
        if outcome.status == "busy":
            return AddResult(label, "duplicate", f"{already}; its first read is under way")
        if outcome.status == "failed":
            return AddResult(label, "error", f"{already}, but its first read failed: "
                             f"{outcome.message}")
        return AddResult(label, "added", f"{already}; its first read had not finished, so it "
                         f"was read now: {outcome.message}")

    async def _add_article(self, label: str, doc: Document, guild_id: int | None,
                           added_by: str | None) -> AddResult:
        """Ingest one fetched article; a Source(kind="article") when it is new."""
        origin = _new_source_origin(kind="article", url=doc.url,
                                    canonical_url=doc.canonical_url, title=doc.title,
                                    guild_id=guild_id, added_by=added_by, extra={})
        return await self._ingest(doc, label, origin)

    async def _ingest(self, doc: Document, label: str, origin: Origin) -> AddResult:
        """Dedup-aware ingest in a worker thread."""
        await self._ensure_simhashes()
        return await self.library.run(add_document, self.library, doc, label=label,
                                      origin=origin)

    def _poll_deadline(self) -> float:
        """When a poll (or a feed's add) starting now stops fetching entry pages, on the event
        loop's clock: the rest wait for the next poll, so slow pages cannot add up to hours."""
        return (asyncio.get_running_loop().time()
                + self.library.settings.feed_poll_deadline_seconds)

    async def _follow(self, label: str, page: FetchResult, guild_id: int | None,
                      added_by: str | None, deadline: float,
                      progress: AddProgress | None = None) -> AddResult:
        """Follow a fetched feed: create (or revive) its source and ingest its entries."""
        feed = await self.library.run(parse_feed, page.content, page.final_url,
                                       content_type=page.content_type,
                                       limits=self.fetch_settings.extraction)
        now = utcnow()
        canonical = canonicalize_url(page.final_url)
        fields = {"url": page.final_url, "canonical_url": canonical, "title": feed.title,
                  "guild_id": guild_id, "added_by": added_by, "added_at": now,
                  "poll_minutes": self.library.settings.feed_poll_minutes}
        source_id, what = await self.library.run(
            polling.claim_feed_source, self.library, (canonical, page.final_url), self.owner, now,
            fields)
        if what == "following":
            return _already_following(label, source_id)
        # As results name it: the stored title is capped at TITLE_LIMIT, a line needs less.
        name = plain_line(feed.title, limit=_SHOWN_TITLE_CHARS) or display_url(page.final_url)
        if what == "subscribed":
            return AddResult(label, "added", f"following feed #{source_id} “{name}”: another "
                             "server already follows it, so its articles are in the library "
                             "and now in this server's too", title=feed.title)
        await self._ensure_simhashes()
        try:
            async with self._lease_kept(source_id):
                state = await self.library.run(polling.load_feed, self.library, source_id)
                tally = await ingest_entries(self.library, self.fetch_settings, state, feed,
                                             first=True, progress=progress, deadline=deadline)
                await self.library.run(
                    polling.save_success, self.library, state, now, etag=page.etag,
                    last_modified=page.last_modified,
                    new_articles=bool(tally.added), entry_error=_entry_error(tally.errors),
                    title=feed.title)
        finally:
            await self.library.run(polling.release_lease, self.library, source_id, self.owner)
        verb = "following feed" if what == "new" else "following again feed"
        shown = ""
        if tally.added:
            shown = (f"; {tally.announced} of them in the next digest"
                     if await self.library.run(records.gets_digests, self.library, guild_id)
                     else "; no channel of this server gets digests yet (/digest set)")
        older = state.backlog - tally.postponed  # the rest of the backlog is in the summary
        later = f"; {older} older entries follow on the next polls" if older else ""
        return AddResult(label, "added",
                         f"{verb} #{source_id} “{name}”: {tally.summary()}{shown}{later}",
                         title=feed.title, passages=tally.passages)

    @contextlib.asynccontextmanager
    async def _lease_kept(self, source_id: int) -> AsyncIterator[None]:
        """Renew this process's lease on a feed every third of FEED_LEASE_SECONDS while the
        block runs, so a long poll is never taken over by another process."""
        async def renew() -> None:
            while True:
                await asyncio.sleep(self.library.settings.feed_lease_seconds / 3)
                try:
                    if not await self.library.run(polling.renew_lease, self.library,
                                                  source_id, self.owner, utcnow()):
                        log.warning("lost the lease on feed #%d during a poll", source_id)
                        return
                except Exception:
                    log.exception("could not renew the lease on feed #%d", source_id)

        task = asyncio.create_task(renew(), name=f"lease-feed-{source_id}")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _ensure_simhashes(self) -> None:
        """Fingerprint articles stored before near-duplicate detection existed (once)."""
        if self._simhashes_checked:
            return
        count = await self.library.run(records.backfill_simhashes, self.library)
        if count:
            log.info("computed near-duplicate fingerprints of %d older articles", count)
        self._simhashes_checked = True

    # ----- polling --------------------------------------------------------------------------
    async def poll_due(self, now: dt.datetime | None = None) -> list[PollOutcome]:
        """Poll every active feed that is due; never raises for a feed's failure."""
        moment = as_utc(now)
        due = await self.library.run(polling.due_feed_ids, self.library, moment)
        limit = asyncio.Semaphore(POLL_CONCURRENCY)

        async def one(source_id: int) -> PollOutcome:
            async with limit:
                return await self._poll_guarded(source_id, moment, due_only=True)

        outcomes = list(await asyncio.gather(*(one(s) for s in due)))
        if outcomes:
            log.info("polled %d due feeds: %s", len(outcomes),
                     ", ".join(f"#{o.source_id} {o.status}" for o in outcomes))
        return outcomes

    async def poll(self, source_id: int, now: dt.datetime | None = None, *,
                   guild_id: int | None) -> PollOutcome:
        """Poll one feed now, due or not (NotFound / BadInput for unknown or non-feed sources,
        or, with ``guild_id``, one that server does not follow)."""
        kind, active = await self.library.run(records.source_kind, self.library, source_id,
                                               guild_id)
        if kind != "feed":
            raise BadInput(f"source #{source_id} is {'an' if kind == 'article' else 'a'} {kind}, "
                           "not a feed: only feeds are polled; try again with a feed (the "
                           "source list shows each source's kind)")
        if not active:
            raise BadInput(f"source #{source_id} was removed; add its link again to follow it")
        return await self._poll_guarded(source_id, as_utc(now), due_only=False)

    async def _poll_guarded(self, source_id: int, now: dt.datetime, *, due_only: bool
                            ) -> PollOutcome:
        """Lease, poll, release; any failure is recorded on this feed and goes no further."""
        try:
            leased = await self.library.run(polling.try_lease, self.library, source_id, self.owner,
                                             now, due_only=due_only)
        except Exception:
            log.exception("could not lease feed #%d", source_id)
            return PollOutcome(source_id, None, "failed", message="database error")
        if not leased:
            return PollOutcome(source_id, None, "busy",
                               message="not due, or another process is polling it")
        state: polling.FeedState | None = None
        try:
            state = await self.library.run(polling.load_feed, self.library, source_id)
            async with self._lease_kept(source_id):
                return await self._poll_leased(state, now, due_only=due_only)
        except Exception:
            log.exception("polling feed #%d failed unexpectedly", source_id)
            # Shown by /source status and in alerts: the class and traceback are in the log.
            message = INTERNAL_ERROR
            if state is not None:
                try:
                    return await self._failed(state, message, now, due_only=due_only)
                except Exception:
                    log.exception("could not record the failure of feed #%d", source_id)
            return PollOutcome(source_id, None, "failed", message=message)
        finally:
            try:
                await self.library.run(polling.release_lease, self.library, source_id, self.owner)
            except Exception:
                log.exception("could not release the lease on feed #%d", source_id)

    async def _poll_leased(self, state: polling.FeedState, now: dt.datetime, *, due_only: bool
                           ) -> PollOutcome:
        """Conditional GET, parse, ingest the new entries, record the outcome."""
        deadline = self._poll_deadline()
        try:
            page = await fetch(state.url, settings=self.fetch_settings, etag=state.etag,
                               last_modified=state.last_modified)
            feed = None
            if not page.not_modified:
                if not looks_like_feed(page.content_type, page.content):
                    raise FeedError("the link no longer serves an RSS or Atom feed")
                feed = await self.library.run(parse_feed, page.content, page.final_url,
                                               content_type=page.content_type,
                                       limits=self.fetch_settings.extraction)
        except SourceError as exc:
            return await self._failed(state, exc.message, now, due_only=due_only)
        if feed is None:
            tally = None
        else:
            await self._ensure_simhashes()
            tally = await ingest_entries(self.library, self.fetch_settings, state, feed,
                                         first=state.first, deadline=deadline)
        # save_success drops the validators while entries wait (backlog, retries): no 304 then.
        recovered = await self.library.run(
            polling.save_success, self.library, state, now, etag=page.etag or state.etag,
            last_modified=page.last_modified or state.last_modified,
            new_articles=bool(tally and tally.added),
            entry_error=_entry_error(tally.errors) if tally else None)
        if recovered:
            await self._notify_followers(state, f"Source #{state.id} “{_name(state)}” is "
                                                "working again.")
        if tally is None:
            return PollOutcome(state.id, display_url(state.url), "not_modified",
                               message="not modified since the last poll")
        return PollOutcome(state.id, display_url(state.url),
                           "new" if tally.added else "unchanged",
                           new_article_ids=tuple(tally.added), seen_again=tally.seen_again,
                           unreadable=len(tally.errors), message=tally.summary())

    async def _failed(self, state: polling.FeedState, message: str, now: dt.datetime, *,
                      due_only: bool) -> PollOutcome:
        """Record a failed poll; tell the admins once when the feed becomes failing."""
        failures, tell = await self.library.run(polling.save_failure, self.library, state, now,
                                                 message)
        # A poll someone asked for (not ``due_only``) hands its failure to them in the outcome;
        # a scheduled one has only this line to tell the operator.
        log.log(logging.WARNING if due_only else logging.INFO,
                "feed #%d %s failed (%d in a row): %s", state.id, display_url(state.url),
                failures, message)
        if tell and await self._notify_followers(
                state,
                f"Source #{state.id} “{_name(state)}” is failing: "
                f"{quote_remote(message, limit=300)}. It failed "
                f"{failures} times in a row; I will keep trying, less often."):
            await self.library.run(polling.mark_notified, self.library, state.id)
        return PollOutcome(state.id, display_url(state.url), "failed", message=message)

    async def _notify(self, guild_id: int | None, message: str, added_by: str | None = None
                      ) -> bool:
        """Tell the admins; False when that failed (then retried on a later poll)."""
        if self._notifier is None:
            # The CLI and tests run without one; whoever polled sees the outcome itself.
            log.debug("no notifier: admin notice for guild %s not sent: %s", guild_id, message)
            return False
        return await notify_admins(self._notifier, guild_id, message, added_by=added_by)

    async def _notify_followers(self, state: polling.FeedState, message: str) -> bool:
        """Tell the admins of every server following the feed (the operator: guild None);
        False when nobody could be told."""
        followers = state.followers or ((owner_guild(state.guild_id), state.added_by),)
        told = [await self._notify(guild or None, message, added_by)
                for guild, added_by in followers]
        return any(told)

    # ----- browsing and removing ------------------------------------------------------------
    def list(self, guild_id: int | None) -> builtins.list[SourceStatus]:
        """Active sources: a server's own (its subscriptions), every one for the operator
        (None)."""
        return records.statuses(self.library, guild_id=guild_id, active_only=True)

    def status(self, guild_id: int | None) -> builtins.list[SourceStatus]:
        """A server's sources (every one for None), removed ones included, with last fetch,
        errors and next poll."""
        return records.statuses(self.library, guild_id=guild_id)

    def remove(self, source_id: int, *, guild_id: int | None) -> SourceStatus:
        """Stop a server's following of a source (the operator, None: everyone's); its articles
        stay. NotFound for an id the server does not follow, BadInput when already stopped."""
        return records.deactivate(self.library, source_id, guild_id)

    def autocomplete(self, prefix: str, limit: int = 25, *, guild_id: int | None
                     ) -> builtins.list[tuple[str, int]]:
        """(label, id) of the server's active sources whose id, title or link has ``prefix``."""
        wanted = prefix.strip().casefold().lstrip("#")
        choices = []
        for status in self.list(guild_id):
            label = f"#{status.id} {status.title or status.url or 'untitled'} ({status.kind})"
            if not wanted or wanted in label.casefold() or wanted in (status.url or "").casefold():
                # Discord refuses choice names over 100 characters.
                choices.append((label if len(label) <= 100 else label[:99] + "…", status.id))
        return choices[:limit]


def _new_source_origin(**fields: Any) -> Origin:
    """The origin of a link or an upload: its adder's server (or the operator), and the source
    row created with the article, in its transaction; when the article is stored already, the
    adder's own source of it (records.adopter), as a second server following a feed gets."""
    now = utcnow()
    if fields.get("kind") == "article":
        fields.update(last_fetch_at=now, last_success_at=now)
    maker = records.source_maker(active=True, added_at=now, last_new_article_at=now, **fields)
    return Origin(guilds=(owner_guild(fields.get("guild_id")),), new_source=maker,
                  adopt_source=records.adopter(fields.get("guild_id"), fields.get("added_by"),
                                               maker))


def _read_local(path: Path, limit: int) -> tuple[bytes, str]:
    """A local file's bytes and absolute path, refusing missing, special and oversized files."""
    if not path.is_file():
        raise BadInput(f"no such file: {path}" if not path.exists() else f"not a file: {path}")
    if path.stat().st_size > limit:
        raise BadInput(f"refused: {path.name} is larger than {human_size(limit)}")
    return path.read_bytes(), str(path.resolve())


def _split_inputs(text: str, local_ok: bool) -> list[str]:
    """Inputs separated by whitespace; an existing local path containing spaces stays whole."""
    stripped = text.strip()
    if local_ok and stripped and not _is_link(stripped) and Path(stripped).exists():
        return [stripped]
    parts = stripped.split()
    if len(parts) > 1 and not any(_is_link(p) or "." in p or "/" in p for p in parts):
        return [stripped]  # words, not several links ("not a url"): one input, one refusal
    return parts


def _is_link(item: str) -> bool:
    """True for anything meant as a web link (a scheme, or a bare www. host)."""
    return "://" in item or item.lower().startswith("www.")


def _other_scheme(item: str) -> bool:
    """True for a link in a scheme written without "//" (data:, javascript:, mailto:), which
    is no file's path either: told like the bot tells it, not "no such file"."""
    return item.lower().startswith(_SCHEMES_WITHOUT_SLASHES) and not Path(item).exists()


def _shown_input(item: str) -> str:
    """An input as results and the log show it: a data: link can be megabytes long."""
    return plain_line(item, limit=_LOGGED_CHARS)


def _pdf_name(url: str) -> str:
    """A file name for a fetched PDF (read_upload checks the extension)."""
    name = url.rsplit("/", 1)[-1].split("?", 1)[0] or "document"
    return name if name.lower().endswith(".pdf") else f"{name}.pdf"


def _already_following(label: str, source_id: int) -> AddResult:
    """The answer to adding a feed that is already followed."""
    return AddResult(label, "duplicate", f"already following this feed (source #{source_id})")


def _entry_error(errors: list[str]) -> str | None:
    """What status shows when some entries could not be read."""
    if not errors:
        return None
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"entry not read: {errors[0]}{more}"


def _name(state: polling.FeedState) -> str:
    """How a feed is named in admin notices: its title or link, written by a third party, so
    quoted as plain text (no Markdown, no live links or mentions: knowledge.text.remote).
    Notices are composed here and delivered as they are, unlike error messages and add
    results, which stay plain and are escaped by whoever shows them."""
    return quote_remote(state.title or display_url(state.url), limit=100) or f"feed {state.id}"


def _logged(result: AddResult) -> AddResult:
    """One operator log line per input, of bounded length: the input and the message (which
    may quote a feed's title) come from outside."""
    log.info("add %s -> %s: %s", plain_line(display_url(result.input), limit=_LOGGED_CHARS),
             result.status, plain_line(result.message, limit=_LOGGED_CHARS))
    return result


def _shown(name: str) -> str:
    """A file name as text that can be stored and printed (undecodable bytes as U+FFFD)."""
    return os.fsencode(name).decode("utf-8", "replace")

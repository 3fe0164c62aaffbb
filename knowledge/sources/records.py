"""Database side of sources: ingest with duplicate bookkeeping, source rows, status queries.

Synchronous functions over the core service's sessions, called from worker threads. Every
"seen again" (same link, same text, a near-copy, an edited feed entry) becomes an
ArticleAppearance and never a second article.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select

from knowledge.errors import KnowledgeError, NotFound
from knowledge.ingest import Document, embed_prepared, find_duplicate_with_reason, prepare
from knowledge.models import AddResult, SourceStatus
from knowledge.sources.documents import display_url
from knowledge.store.tables import ArticleAppearance, ArticleRow, Source, utcnow
from knowledge.text.simhash import simhash, to_signed

if TYPE_CHECKING:
    from knowledge.service import KnowledgeService

log = logging.getLogger(__name__)

REASON_TEXT = {
    "url": "same link",
    "content": "same text",
    "near_duplicate": "a near-copy of it",
    "entry_id": "an edited feed entry",
}


def ingest_document(core: KnowledgeService, doc: Document, label: str) -> AddResult:
    """Store ``doc`` unless the library has it; a duplicate is recorded as an appearance."""
    try:
        prepared = prepare(doc)
    except KnowledgeError as exc:
        return AddResult(label, "error", str(exc))
    with core.sessions() as session:
        found = find_duplicate_with_reason(session, prepared)
        seen = (found[0].id, found[0].title, found[1]) if found else None
    if seen is None:
        vectors = embed_prepared(prepared, core.embedder)
        result = core.store_prepared(prepared, vectors, label)
        if result.status != "duplicate":
            return result
        # Another writer stored the same article between our check and our insert.
        with core.sessions() as session:
            found = find_duplicate_with_reason(session, prepared)
            if found is None:
                return result
            seen = (found[0].id, found[0].title, found[1])
    article_id, title, reason = seen
    record_appearance(core, article_id, source_id=doc.source_id, url=doc.url,
                      title=prepared.title, reason=reason)
    return AddResult(label, "duplicate",
                     f"already in the library as #{article_id} “{title}” ({REASON_TEXT[reason]})",
                     article_id=article_id, title=title)


def record_appearance(core: KnowledgeService, article_id: int, *, source_id: int | None,
                      url: str | None, title: str | None, reason: str) -> None:
    """Note that a stored article was seen again, and why."""
    with core._write_lock, core.sessions.begin() as session:
        session.add(ArticleAppearance(article_id=article_id, source_id=source_id, url=url,
                                      title=title, reason=reason, seen_at=utcnow()))
    log.info("article #%d seen again (%s) at %s", article_id, reason, display_url(url))


def create_source(core: KnowledgeService, **fields: Any) -> int:
    """Insert a Source row; returns its id."""
    with core._write_lock, core.sessions.begin() as session:
        row = Source(**fields)
        session.add(row)
        session.flush()
        return row.id


def attach_article(core: KnowledgeService, article_id: int, source_id: int) -> None:
    """Point an article stored before its source row existed at that source."""
    with core._write_lock, core.sessions.begin() as session:
        row = session.get(ArticleRow, article_id)
        if row is not None and row.source_id is None:
            row.source_id = source_id


def find_feed(core: KnowledgeService, *urls: str) -> tuple[int, bool] | None:
    """(id, active) of the feed source already known under any of ``urls``, or None."""
    wanted = [u for u in urls if u]
    if not wanted:
        return None
    with core.sessions() as session:
        row = session.execute(
            select(Source.id, Source.active).where(
                Source.kind == "feed",
                or_(Source.canonical_url.in_(wanted), Source.url.in_(wanted)))
            .order_by(Source.active.desc(), Source.id).limit(1)
        ).first()
    return (row[0], bool(row[1])) if row else None


def statuses(core: KnowledgeService, *, guild_id: int | None = None, active_only: bool = False,
             source_ids: list[int] | None = None) -> list[SourceStatus]:
    """Status rows for sources, newest first; a guild sees its own and operator-added ones."""
    with core.sessions() as session:
        query = select(Source).order_by(Source.id.desc())
        if guild_id is not None:
            query = query.where(or_(Source.guild_id == guild_id, Source.guild_id.is_(None)))
        if active_only:
            query = query.where(Source.active.is_(True))
        if source_ids is not None:
            query = query.where(Source.id.in_(source_ids))
        rows = list(session.scalars(query))
        counts = dict(session.execute(
            select(ArticleRow.source_id, func.count()).where(ArticleRow.source_id.in_(
                [r.id for r in rows])).group_by(ArticleRow.source_id)).tuples().all())
    return [status_of(row, counts.get(row.id, 0)) for row in rows]


def status_of(row: Source, articles: int) -> SourceStatus:
    """Plain status of one source row."""
    return SourceStatus(
        id=row.id, kind=row.kind, url=display_url(row.url), title=row.title,
        active=bool(row.active), articles=articles, last_fetch_at=row.last_fetch_at,
        last_new_article_at=row.last_new_article_at, last_error=row.last_error,
        failing=bool(row.failing), next_poll_at=row.next_poll_at if row.active else None,
    )


def get_status(core: KnowledgeService, source_id: int) -> SourceStatus:
    """One source's status; NotFound for an unknown id."""
    found = statuses(core, source_ids=[source_id])
    if not found:
        raise NotFound(f"no source #{source_id}")
    return found[0]


def deactivate(core: KnowledgeService, source_id: int) -> SourceStatus:
    """Stop polling a source; its articles stay in the library."""
    with core._write_lock, core.sessions.begin() as session:
        row = session.get(Source, source_id)
        if row is None:
            raise NotFound(f"no source #{source_id}")
        row.active = False
        row.next_poll_at = None
    log.info("source #%d removed (articles kept)", source_id)
    return get_status(core, source_id)


def source_kind(core: KnowledgeService, source_id: int) -> tuple[str, bool]:
    """(kind, active) of a source; NotFound for an unknown id."""
    with core.sessions() as session:
        row = session.get(Source, source_id)
        if row is None:
            raise NotFound(f"no source #{source_id}")
        return row.kind, bool(row.active)


def appearances(core: KnowledgeService, article_id: int) -> list[tuple[str, str | None]]:
    """(reason, url) of every recorded appearance of an article, oldest first."""
    with core.sessions() as session:
        return [(r, u) for r, u in session.execute(
            select(ArticleAppearance.reason, ArticleAppearance.url)
            .where(ArticleAppearance.article_id == article_id)
            .order_by(ArticleAppearance.id)).tuples()]


def when(now: dt.datetime | None) -> dt.datetime:
    """``now`` as an aware UTC datetime (the current time when None)."""
    if now is None:
        return utcnow()
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass an aware UTC time")
    return now.astimezone(dt.UTC)


def backfill_simhashes(core: KnowledgeService) -> int:
    """Compute the SimHash of stored articles that have none; returns how many were set."""
    with core.sessions() as session:
        missing = session.execute(select(ArticleRow.id, ArticleRow.text)
                                  .where(ArticleRow.simhash.is_(None))).all()
    computed = ((aid, simhash(text)) for aid, text in missing)
    values = {aid: value for aid, value in computed if value is not None}
    if not values:
        return 0
    with core._write_lock, core.sessions.begin() as session:
        for aid, value in values.items():
            row = session.get(ArticleRow, aid)
            if row is not None and row.simhash is None:
                row.simhash = to_signed(value)
    return len(values)

"""Database side of sources: source rows, their articles and status queries.

Synchronous functions over the library, called from worker threads (`library.run`). Storing an
article, and recording one met again, is ingestion's job (knowledge/ingest.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import func, or_, select

from knowledge.errors import NotFound
from knowledge.library import Library
from knowledge.models import SourceStatus
from knowledge.sources.documents import display_url
from knowledge.store.tables import ArticleAppearance, ArticleRow, Source, utcnow
from knowledge.text.simhash import simhash, to_signed

log = logging.getLogger(__name__)

def create_source(library: Library, **fields: Any) -> int:
    """Insert a Source row; returns its id."""
    with library.write() as session:
        row = Source(**fields)
        session.add(row)
        session.flush()
        return row.id


def attach_article(library: Library, article_id: int, source_id: int) -> None:
    """Point an article stored before its source row existed at that source."""
    with library.write() as session:
        row = session.get(ArticleRow, article_id)
        if row is not None and row.source_id is None:
            row.source_id = source_id


def find_feed(library: Library, *urls: str) -> tuple[int, bool] | None:
    """(id, active) of the feed source already known under any of ``urls``, or None."""
    wanted = [u for u in urls if u]
    if not wanted:
        return None
    with library.read() as session:
        row = session.execute(
            select(Source.id, Source.active).where(
                Source.kind == "feed",
                or_(Source.canonical_url.in_(wanted), Source.url.in_(wanted)))
            .order_by(Source.active.desc(), Source.id).limit(1)
        ).first()
    return (row[0], bool(row[1])) if row else None


def statuses(library: Library, *, guild_id: int | None = None, active_only: bool = False,
             source_ids: list[int] | None = None) -> list[SourceStatus]:
    """Status rows for sources, newest first; a guild sees its own and operator-added ones."""
    with library.read() as session:
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


def get_status(library: Library, source_id: int) -> SourceStatus:
    """One source's status; NotFound for an unknown id."""
    found = statuses(library, source_ids=[source_id])
    if not found:
        raise NotFound(f"no source #{source_id}")
    return found[0]


def deactivate(library: Library, source_id: int) -> SourceStatus:
    """Stop polling a source; its articles stay in the library."""
    with library.write() as session:
        row = session.get(Source, source_id)
        if row is None:
            raise NotFound(f"no source #{source_id}")
        row.active = False
        row.next_poll_at = None
    log.info("source #%d removed (articles kept)", source_id)
    return get_status(library, source_id)


def source_kind(library: Library, source_id: int) -> tuple[str, bool]:
    """(kind, active) of a source; NotFound for an unknown id."""
    with library.read() as session:
        row = session.get(Source, source_id)
        if row is None:
            raise NotFound(f"no source #{source_id}")
        return row.kind, bool(row.active)


def appearances(library: Library, article_id: int) -> list[tuple[str, str | None]]:
    """(reason, url) of every recorded appearance of an article, oldest first."""
    with library.read() as session:
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


def backfill_simhashes(library: Library) -> int:
    """Compute the SimHash of stored articles that have none; returns how many were set."""
    with library.read() as session:
        missing = session.execute(select(ArticleRow.id, ArticleRow.text)
                                  .where(ArticleRow.simhash.is_(None))).all()
    computed = ((aid, simhash(text)) for aid, text in missing)
    values = {aid: value for aid, value in computed if value is not None}
    if not values:
        return 0
    with library.write() as session:
        for aid, value in values.items():
            row = session.get(ArticleRow, aid)
            if row is not None and row.simhash is None:
                row.simhash = to_signed(value)
    return len(values)

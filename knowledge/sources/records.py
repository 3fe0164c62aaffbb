"""Database side of sources: source rows, their articles and status queries.

Synchronous functions over the library, called from worker threads (`library.run`). Storing an
article, and recording one met again, is ingestion's job (knowledge/ingest.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from knowledge.errors import NotFound
from knowledge.ingest import SourceMaker
from knowledge.library import Library
from knowledge.models import SourceStatus
from knowledge.sources.documents import display_url
from knowledge.store.tables import (
    ArticleAppearanceRow,
    ArticleRow,
    SourceRow,
    SourceSubscriptionRow,
)
from knowledge.text.simhash import band_columns, simhash, to_signed
from knowledge.visibility import grant, owner

log = logging.getLogger(__name__)


def source_maker(**fields: Any) -> SourceMaker:
    """What creates a link's or a file's source row, and its adder's subscription, inside the
    transaction that stores the article (knowledge/ingest.py)."""
    def make(session: Session, article: ArticleRow) -> int:
        row = SourceRow(**{**fields, "title": fields.get("title") or article.title})
        session.add(row)
        session.flush()
        session.add(SourceSubscriptionRow(source_id=row.id, guild_id=owner(row.guild_id),
                                       added_by=row.added_by, added_at=row.added_at,
                                       active=True))
        return row.id
    return make


def find_feed(library: Library, guild_id: int | None, *urls: str) -> int | None:
    """Id of the feed known under any of ``urls`` that this guild (None: the operator, through
    any subscription) actively follows, or None."""
    wanted = [u for u in urls if u]
    if not wanted:
        return None
    query = (select(SourceRow.id).join(SourceSubscriptionRow, SourceSubscriptionRow.source_id == SourceRow.id)
             .where(SourceRow.kind == "feed", SourceSubscriptionRow.active.is_(True),
                    or_(SourceRow.canonical_url.in_(wanted), SourceRow.url.in_(wanted)))
             .order_by(SourceRow.id).limit(1))
    if guild_id is not None:
        query = query.where(SourceSubscriptionRow.guild_id == owner(guild_id))
    with library.read() as session:
        return session.scalar(query)


def statuses(library: Library, *, guild_id: int | None = None, active_only: bool = False,
             source_ids: list[int] | None = None) -> list[SourceStatus]:
    """Status rows for sources, newest first: a guild's own (through its subscriptions, active
    meaning its subscription is), or every source for the operator (None)."""
    with library.read() as session:
        if guild_id is None:
            query = select(SourceRow, SourceRow.active).order_by(SourceRow.id.desc())
            if active_only:
                query = query.where(SourceRow.active.is_(True))
        else:
            query = (select(SourceRow, SourceSubscriptionRow.active)
                     .join(SourceSubscriptionRow, SourceSubscriptionRow.source_id == SourceRow.id)
                     .where(SourceSubscriptionRow.guild_id == owner(guild_id))
                     .order_by(SourceRow.id.desc()))
            if active_only:
                query = query.where(SourceSubscriptionRow.active.is_(True))
        if source_ids is not None:
            query = query.where(SourceRow.id.in_(source_ids))
        rows = list(session.execute(query).tuples())
        counts = dict(session.execute(
            select(ArticleRow.source_id, func.count()).where(ArticleRow.source_id.in_(
                [r.id for r, _ in rows])).group_by(ArticleRow.source_id)).tuples().all())
    return [status_of(row, counts.get(row.id, 0), active=bool(active))
            for row, active in rows]


def status_of(row: SourceRow, articles: int, *, active: bool | None = None) -> SourceStatus:
    """Plain status of one source row (``active``: as its viewer follows it)."""
    active = bool(row.active) if active is None else active
    return SourceStatus(
        id=row.id, kind=row.kind, url=display_url(row.url), title=row.title,
        active=active, articles=articles, last_fetch_at=row.last_fetch_at,
        last_new_article_at=row.last_new_article_at, last_error=row.last_error,
        failing=bool(row.failing), next_poll_at=row.next_poll_at if active else None,
    )


def get_status(library: Library, source_id: int, guild_id: int | None = None) -> SourceStatus:
    """One source's status as the guild sees it; NotFound for an id it does not follow."""
    found = statuses(library, guild_id=guild_id, source_ids=[source_id])
    if not found:
        raise NotFound(f"no source #{source_id}")
    return found[0]


def deactivate(library: Library, source_id: int, guild_id: int | None = None) -> SourceStatus:
    """Stop a guild's subscription to a source (the operator, None: every subscription); the
    source is polled while any subscription is left. Its articles stay in the library."""
    with library.write() as session:
        row = session.get(SourceRow, source_id)
        subs = list(session.scalars(select(SourceSubscriptionRow).where(
            SourceSubscriptionRow.source_id == source_id)))
        mine = [s for s in subs if guild_id is None or s.guild_id == owner(guild_id)]
        if row is None or (guild_id is not None and not mine):
            raise NotFound(f"no source #{source_id}")
        for sub in mine:
            sub.active = False
        if not any(s.active for s in subs):
            row.active = False
            row.next_poll_at = None
    log.info("source #%d removed for %s (articles kept)", source_id,
             "everyone" if guild_id is None else f"guild {guild_id}")
    return get_status(library, source_id, guild_id)


def subscribe(session: Session, source_id: int, guild_id: int | None, added_by: str | None,
              now: dt.datetime) -> None:
    """Start (or restart) a guild's subscription to a source; the guild sees its articles."""
    sub = session.scalar(select(SourceSubscriptionRow).where(
        SourceSubscriptionRow.source_id == source_id,
        SourceSubscriptionRow.guild_id == owner(guild_id)))
    if sub is None:
        session.add(SourceSubscriptionRow(source_id=source_id, guild_id=owner(guild_id),
                                       added_by=added_by, added_at=now, active=True))
    else:
        sub.active, sub.added_by, sub.added_at = True, added_by, now
    article_ids = set(session.scalars(select(ArticleRow.id).where(
        ArticleRow.source_id == source_id)))
    article_ids |= set(session.scalars(select(ArticleAppearanceRow.article_id).where(
        ArticleAppearanceRow.source_id == source_id)))
    grant(session, article_ids, owner(guild_id))


def source_kind(library: Library, source_id: int, guild_id: int | None = None
                ) -> tuple[str, bool]:
    """(kind, active) of a source the guild follows (None: any); NotFound otherwise."""
    status = get_status(library, source_id, guild_id)
    return status.kind, status.active


def appearances(library: Library, article_id: int) -> list[tuple[str, str | None]]:
    """(reason, url) of every recorded appearance of an article, oldest first."""
    with library.read() as session:
        return [(r, u) for r, u in session.execute(
            select(ArticleAppearanceRow.reason, ArticleAppearanceRow.url)
            .where(ArticleAppearanceRow.article_id == article_id)
            .order_by(ArticleAppearanceRow.id)).tuples()]


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
                for name, part in band_columns(value).items():
                    setattr(row, name, part)
    return len(values)

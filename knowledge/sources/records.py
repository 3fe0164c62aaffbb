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

from knowledge.errors import BadInput, NotFound
from knowledge.ingest import MAX_TITLE_CHARS, SourceAdopter, SourceMaker
from knowledge.library import Library
from knowledge.models import SourceStatus
from knowledge.sources.urls import display_url
from knowledge.store.tables import (
    OPERATOR_GUILD,
    ArticleAppearanceRow,
    ArticleReachRow,
    ArticleRow,
    DigestSubscriptionRow,
    SourceRow,
    SourceSubscriptionRow,
    possible_row_id,
)
from knowledge.text.remote import plain_line
from knowledge.text.simhash import band_columns, simhash, to_signed
from knowledge.visibility import grant, owner

log = logging.getLogger(__name__)

def known_id(source_id: int) -> int:
    """``source_id`` when a stored source could have it; NotFound ("no source #…") otherwise,
    before any query."""
    if not possible_row_id(source_id):
        raise NotFound(f"no source #{source_id}")
    return source_id


def source_maker(**fields: Any) -> SourceMaker:
    """What creates a link's or a file's source row, and its adder's subscription, inside the
    transaction that stores the article (knowledge/ingest.py)."""
    def make(session: Session, article: ArticleRow) -> int:
        # A feed's or an upload's own title, capped as the article's is (a 200 KB <title>).
        title = plain_line(fields.get("title"), limit=MAX_TITLE_CHARS) or article.title
        row = SourceRow(**{**fields, "title": title})
        session.add(row)
        session.flush()
        session.add(SourceSubscriptionRow(source_id=row.id, guild_id=owner(row.guild_id),
                                       added_by=row.added_by, added_at=row.added_at,
                                       active=True))
        return row.id
    return make


# Sources that bring one article (a link, an upload): a second server adding that article shares
# the source through its own subscription, as with a feed. A feed is never shared this way: its
# other articles are not what the second server asked for.
_ONE_ARTICLE_KINDS = ("article", "file")


def adopter(guild_id: int | None, added_by: str | None, maker: SourceMaker) -> SourceAdopter:
    """What gives a guild (None: the operator) that adds an already stored article its own
    source of it (knowledge/ingest.py), so what it is told it has, it can list and remove.

    Nothing changes when the guild already follows a source of the article, or the article is
    in the operator's library (every server sees it). Otherwise the guild subscribes, as to a
    feed another server follows (``subscribe``): again to its own stopped link or upload of
    the article, else to the link or upload that brought it; an article a feed or the
    operator brought gets a new source row of the guild's own (``maker``), linked to it by the
    appearance. Removing it ends only that guild's subscription; the others keep theirs.
    """
    guild = owner(guild_id)

    def adopt(session: Session, article: ArticleRow, now: dt.datetime) -> int | None:
        seen_in = session.scalars(select(ArticleAppearanceRow.source_id).where(
            ArticleAppearanceRow.article_id == article.id))
        linked = {sid for sid in seen_in if sid is not None}
        if article.source_id is not None:
            linked.add(article.source_id)
        mine = dict(session.execute(
            select(SourceSubscriptionRow.source_id, SourceSubscriptionRow.active).where(
                SourceSubscriptionRow.source_id.in_(linked),
                SourceSubscriptionRow.guild_id == guild)).tuples().all())
        everyone_sees = session.scalar(select(ArticleReachRow.id).where(
            ArticleReachRow.article_id == article.id,
            ArticleReachRow.guild_id == OPERATOR_GUILD).limit(1)) is not None
        if any(mine.values()) or everyone_sees:
            return None
        shared = [row for row in (session.get(SourceRow, sid) for sid in sorted(linked))
                  if row is not None and row.kind in _ONE_ARTICLE_KINDS]
        again = [row for row in shared if row.id in mine]
        brought = [row for row in shared if row.id == article.source_id]
        for row in again or brought:
            # The article met again is news for the guild from now; the source's others are not.
            grant(session, [article.id], guild, reached_at=now)
            subscribe(session, row.id, guild_id, added_by, now)
            row.active = True  # the operator's listing shows it again too
            return row.id
        return maker(session, article)

    return adopt


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
            query = query.where(SourceRow.id.in_(
                [s for s in source_ids if possible_row_id(s)]))
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
        last_success_at=row.last_success_at,
    )


def get_status(library: Library, source_id: int, guild_id: int | None = None) -> SourceStatus:
    """One source's status as the guild sees it; NotFound for an id it does not follow."""
    known_id(source_id)
    found = statuses(library, guild_id=guild_id, source_ids=[source_id])
    if not found:
        raise NotFound(f"no source #{source_id}")
    return found[0]


def deactivate(library: Library, source_id: int, guild_id: int | None = None) -> SourceStatus:
    """Stop a guild's subscription to a source (the operator, None: every subscription); the
    source is polled while any subscription is left. Its articles stay in the library.
    NotFound for an id the guild never followed, BadInput when it was already stopped."""
    known_id(source_id)
    with library.write() as session:
        row = session.get(SourceRow, source_id)
        subs = list(session.scalars(select(SourceSubscriptionRow).where(
            SourceSubscriptionRow.source_id == source_id)))
        mine = [s for s in subs if guild_id is None or s.guild_id == owner(guild_id)]
        if row is None or (guild_id is not None and not mine):
            raise NotFound(f"no source #{source_id}")
        if not any(s.active for s in mine) and (guild_id is not None or not row.active):
            raise BadInput(f"source #{source_id} was already stopped (its articles stay in the "
                           "library; add it again to follow it)")
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


def gets_digests(library: Library, guild_id: int | None) -> bool:
    """Whether a channel of this server (the operator, None: of any server) asks for digests:
    only then may an add promise articles "in the next digest"."""
    query = select(DigestSubscriptionRow.id).where(DigestSubscriptionRow.active.is_(True))
    if guild_id is not None:
        query = query.where(DigestSubscriptionRow.guild_id == guild_id)
    with library.read() as session:
        return session.execute(query.limit(1)).first() is not None


def was_read(library: Library, source_id: int) -> bool:
    """Whether a source was ever fetched successfully (a feed's first read finished)."""
    with library.read() as session:
        return session.scalar(select(SourceRow.last_success_at).where(
            SourceRow.id == source_id)) is not None

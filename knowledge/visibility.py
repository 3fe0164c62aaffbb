"""What each server sees: the operator's library plus what reached it through its own sources.

The operator's library is the founding corpus and everything added from the command line.
An article reaches a server when one of that server's sources or uploads brings it, also as a
duplicate of an article already stored (dedup keeps one copy and records the reach), so an
article two servers' feeds carry is visible to both. Reach is stored in `article_reach`.

Every reading method takes ``guild_id``:

- ``None`` (`EVERYTHING`): the operator's view, every article (the command line).
- `OPERATOR_ONLY` (0): the operator's library alone (the bot's direct messages).
- a Discord guild id: the operator's library and what reached that server.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import ColumnElement, Subquery, func, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from knowledge.store.tables import (
    OPERATOR_GUILD,
    ArticleReachRow,
    ArticleRow,
    SourceSubscriptionRow,
)

EVERYTHING: None = None
OPERATOR_ONLY = OPERATOR_GUILD


def viewer(guild_id: int | None) -> int:
    """The guild id a bot interaction reads as: its server, or `OPERATOR_ONLY` in a DM."""
    return guild_id if guild_id else OPERATOR_ONLY


def owner(guild_id: int | None) -> int:
    """The guild id stored for who added something: its server, or the operator (None)."""
    return guild_id if guild_id else OPERATOR_GUILD


def guilds_seen_by(guild_id: int) -> tuple[int, ...]:
    """The reach values a viewer may see: the operator's library and its own."""
    return (OPERATOR_GUILD,) if guild_id == OPERATOR_GUILD else (OPERATOR_GUILD, guild_id)


def first_seen(guild_id: int) -> Subquery:
    """(article_id, seen_at) of every article the viewer may see: when it first reached the
    viewer or the operator's library (`ArticleReachRow.reached_at`, else the article's
    `added_at`). A server's digests announce an article at that time."""
    return (select(ArticleReachRow.article_id,
                   func.min(func.coalesce(ArticleReachRow.reached_at, ArticleRow.added_at)
                            ).label("seen_at"))
            .join(ArticleRow, ArticleRow.id == ArticleReachRow.article_id)
            .where(ArticleReachRow.guild_id.in_(guilds_seen_by(guild_id)))
            .group_by(ArticleReachRow.article_id).subquery())


def visible(article_id: InstrumentedAttribute[int] | ColumnElement[int],
            guild_id: int | None) -> ColumnElement[bool]:
    """A WHERE clause keeping the articles (by an article-id column) the viewer may see."""
    if guild_id is None:
        return true()
    return article_id.in_(select(ArticleReachRow.article_id).where(
        ArticleReachRow.guild_id.in_(guilds_seen_by(guild_id))))


def reached_guilds(session: Session, article_id: int) -> set[int]:
    """The guilds an article has reached so far."""
    return set(session.scalars(select(ArticleReachRow.guild_id).where(
        ArticleReachRow.article_id == article_id)))


def add_reach(session: Session, article_id: int, guilds: Iterable[int], *,
              reached_at: dt.datetime | None = None) -> None:
    """Record that an article reached these guilds (already-known pairs are left alone).

    `reached_at`: a stored article came once more (a duplicate): for a guild it newly reached
    it is news from then on. None: the article is new and its `added_at` says when it reached
    them."""
    wanted = set(guilds)
    if not wanted:
        return
    present = reached_guilds(session, article_id) & wanted
    session.add_all(ArticleReachRow(article_id=article_id, guild_id=g, reached_at=reached_at)
                    for g in sorted(wanted - present))
    session.flush()


def grant(session: Session, article_ids: Iterable[int], guild_id: int, *,
          reached_at: dt.datetime | None = None) -> int:
    """Let one guild see many articles (a feed it now follows); returns how many were new.
    None for `reached_at`: they are no news for it, its digests take each at the article's
    own time; else they are news from then on (an article its adder met again)."""
    wanted = set(article_ids)
    if not wanted:
        return 0
    known = set(session.scalars(select(ArticleReachRow.article_id).where(
        ArticleReachRow.guild_id == guild_id, ArticleReachRow.article_id.in_(wanted))))
    session.add_all(ArticleReachRow(article_id=a, guild_id=guild_id, reached_at=reached_at)
                    for a in sorted(wanted - known))
    session.flush()
    return len(wanted - known)


def reach_since(session: Session, after_id: int) -> list[tuple[int, int, int]]:
    """(id, article_id, guild_id) of reach rows newer than ``after_id``, oldest first."""
    return list(session.execute(
        select(ArticleReachRow.id, ArticleReachRow.article_id, ArticleReachRow.guild_id)
        .where(ArticleReachRow.id > after_id).order_by(ArticleReachRow.id)).tuples().all())


def subscribers(session: Session, source_id: int) -> tuple[int, ...]:
    """The guilds (OPERATOR_GUILD for the operator) actively following a source."""
    return tuple(session.scalars(select(SourceSubscriptionRow.guild_id).where(
        SourceSubscriptionRow.source_id == source_id, SourceSubscriptionRow.active.is_(True))
        .order_by(SourceSubscriptionRow.guild_id)))

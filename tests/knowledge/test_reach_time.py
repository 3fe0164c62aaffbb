"""When an article reached a server (`article_reach.reached_at`, knowledge/visibility.py): set
by the insert that grants the reach, never by a later update of the row."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import event, select

from knowledge.service import KnowledgeService
from knowledge.store.tables import ArticleAppearanceRow, ArticleReachRow, ArticleRow
from knowledge.visibility import grant
from tests.knowledge.test_visibility import GUILD_A, GUILD_B, UPLOAD, upload


async def test_an_adopted_duplicate_reaches_its_server_at_its_appearance(
        hashing_service: KnowledgeService) -> None:
    """B uploads A's upload again: B gets A's file source (adoption) and the article is news
    for B from the appearance's time, A's reach keeps the article's own time; the time goes
    into the reach row as it is inserted (no UPDATE of article_reach afterwards)."""
    service = hashing_service
    article = await upload(service, GUILD_A)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(service.library.engine, "before_cursor_execute", record)
    try:
        result = await service.sources.add_upload("again.md", UPLOAD.encode(),
                                                  guild_id=GUILD_B, added_by="43")
    finally:
        event.remove(service.library.engine, "before_cursor_execute", record)
    assert result.status == "duplicate" and result.article_id == article
    assert "now yours too" in result.message  # B adopted A's file source
    assert not [s for s in statements
                if s.lstrip().upper().startswith("UPDATE") and "article_reach" in s]
    with service.library.read() as session:
        reached = dict(session.execute(
            select(ArticleReachRow.guild_id, ArticleReachRow.reached_at)
            .where(ArticleReachRow.article_id == article)).tuples().all())
        seen_at = session.scalar(select(ArticleAppearanceRow.seen_at).where(
            ArticleAppearanceRow.article_id == article))
    assert reached == {GUILD_A: None, GUILD_B: seen_at}


def test_a_grant_is_no_news_unless_given_a_time(hashing_service: KnowledgeService) -> None:
    """A followed source's articles reach a guild as no news (its digests take the article's
    own time); given a time, the granted reach is news from then; known pairs are kept."""
    at = dt.datetime(2030, 1, 2, 3, 4, tzinfo=dt.UTC)
    with hashing_service.library.write() as session:
        first, second, third = session.scalars(select(ArticleRow.id).order_by(ArticleRow.id)
                                                .limit(3)).all()
        assert grant(session, [first], GUILD_B) == 1
        assert grant(session, [first, second], GUILD_B, reached_at=at) == 1
        assert grant(session, [third], GUILD_A, reached_at=at) == 1
    with hashing_service.library.read() as session:
        reached = set(session.execute(
            select(ArticleReachRow.article_id, ArticleReachRow.guild_id,
                   ArticleReachRow.reached_at)
            .where(ArticleReachRow.guild_id.in_((GUILD_A, GUILD_B)))).tuples())
    assert reached == {(first, GUILD_B, None), (second, GUILD_B, at), (third, GUILD_A, at)}

"""Deletions across processes: another process's index drops a deleted article by reading the
deletions log, never by listing every article id."""

from __future__ import annotations

from sqlalchemy import event, select

from knowledge.embedding import HashingEmbedder
from knowledge.ingest import Document
from knowledge.retrieval import SearchRequest
from knowledge.service import KnowledgeService
from knowledge.settings import Settings
from knowledge.store.tables import ArticleDeletionRow
from tests.knowledge.articles import NEW_ARTICLE

QUERY = SearchRequest("icebreaker escorts dredging ports", top=3, guild_id=None)
TITLE = "Arctic shipping after the thaw"


def titles(service: KnowledgeService) -> list[str]:
    """Titles of the hits for the test question."""
    return [h.article.title for h in service.retriever.search(QUERY)]


def two_processes(settings: Settings) -> tuple[KnowledgeService, KnowledgeService]:
    """Two services on one library, as two processes would open it (a low no-match
    threshold: the hashing embedder's cosines are small)."""
    settings = settings.model_copy(update={"no_match_threshold": 0.05})
    emb = HashingEmbedder()
    return (KnowledgeService.open(settings, embedder=emb),
            KnowledgeService.open(settings, embedder=emb))


def test_a_deletion_in_one_process_reaches_the_other_through_the_log(settings: Settings) -> None:
    """B stops finding an article A deleted after B's refresh, and the refresh reads the log
    past what it saw, with no statement over every article."""
    a, b = two_processes(settings)
    try:
        added = a.add_document(Document(NEW_ARTICLE))
        assert added.article_id is not None
        b.refresh()
        assert TITLE in titles(b)

        a.delete_article(added.article_id)
        with a.library.read() as session:
            logged = session.scalars(select(ArticleDeletionRow.article_id)).all()
        assert logged == [added.article_id]
        assert TITLE in titles(b)  # B has not looked yet

        statements: list[str] = []

        def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
            statements.append(" ".join(statement.split()).lower())

        event.listen(b.library.engine, "before_cursor_execute", record)
        try:
            b.refresh()
        finally:
            event.remove(b.library.engine, "before_cursor_execute", record)
        assert TITLE not in titles(b)
        assert any("from article_deletions" in s for s in statements), statements
        unbounded = [s for s in statements if " from articles" in s and " where " not in s]
        assert not unbounded, unbounded

        # Seen once, applied once: a second refresh finds nothing new in the log.
        assert b.library.deletions_seen == 1
        assert b.refresh() == 0 and TITLE not in titles(b)
    finally:
        a.close()
        b.close()


def test_a_process_opened_after_a_deletion_starts_past_it(settings: Settings) -> None:
    """A library loaded after a deletion does not re-apply old log entries to its index."""
    emb = HashingEmbedder()
    a = KnowledgeService.open(settings, embedder=emb)
    added = a.add_document(Document(NEW_ARTICLE))
    assert added.article_id is not None
    a.delete_article(added.article_id)
    a.close()
    c = KnowledgeService.open(settings, embedder=emb)
    try:
        assert c.library.deletions_seen == 1
        assert c.refresh() == 0
    finally:
        c.close()


def test_the_next_article_after_a_deletion_takes_new_ids(settings: Settings) -> None:
    """Deleting the newest article and adding another (a wrong upload, then the right one):
    the new article takes ids never used before. On SQLite it took the deleted one's ids, so
    the other process's refresh (passages past the highest id it holds) and a start from the
    index cache (which re-applied the old deletion to it) never found it, and an old link to
    the deleted article showed the new one."""
    from knowledge.store.tables import PassageRow

    wrong_text = ("# Lighthouse keepers of the northern coast\n\nThe keepers logged every "
                  "passing ship and every storm for forty years. " * 3)

    a, b = two_processes(settings)
    try:
        wrong = a.add_document(Document(wrong_text))
        assert wrong.article_id is not None
        with a.library.read() as session:
            wrong_passages = set(session.scalars(select(PassageRow.id).where(
                PassageRow.article_id == wrong.article_id)))
        b.refresh()
        a.delete_article(wrong.article_id)
        right = a.add_document(Document(NEW_ARTICLE))
        assert right.article_id is not None and right.article_id > wrong.article_id
        with a.library.read() as session:
            passages = set(session.scalars(select(PassageRow.id).where(
                PassageRow.article_id == right.article_id)))
        assert passages and min(passages) > max(wrong_passages)
        b.refresh()
        assert TITLE in titles(b) and TITLE in titles(a)
    finally:
        a.close()
        b.close()
    c = KnowledgeService.open(settings.model_copy(update={"no_match_threshold": 0.05}),
                              embedder=HashingEmbedder())  # from the index cache
    try:
        assert TITLE in titles(c)
    finally:
        c.close()

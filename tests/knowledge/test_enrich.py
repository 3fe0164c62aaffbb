"""Enrichment (knowledge/enrich.py): people and meeting links derived inside each article's
transaction, idempotent, re-run over older installs at open, the registry seeded once."""

from __future__ import annotations

from sqlalchemy import func, select

from knowledge.enrich import enrich_article, prepare_store
from knowledge.meetings import load_registry
from knowledge.meetings.stored import seed_registry
from knowledge.service import KnowledgeService
from knowledge.settings import Settings
from knowledge.store.tables import (
    ArticlePersonRow,
    ArticleRow,
    MeetingRow,
    PassageMeetingRow,
    PassagePersonRow,
    PersonRow,
)


def test_enrichment_is_idempotent(hashing_service: KnowledgeService) -> None:
    """Running the enrichers again over an article leaves the same rows, not duplicates."""
    def counts() -> tuple[int, ...]:
        with hashing_service.library.read() as session:
            return tuple(session.scalar(select(func.count()).select_from(t)) or 0
                         for t in (ArticlePersonRow, PassagePersonRow, PassageMeetingRow, PersonRow))

    before = counts()
    with hashing_service.library.write() as session:
        for aid in session.scalars(select(ArticleRow.id)).all():
            enrich_article(session, aid)
    assert counts() == before


def test_older_install_is_enriched_at_open(settings: Settings) -> None:
    """Articles stored before the enrichers existed get people and meeting links at next open."""
    from knowledge.corpus import ensure_founding_corpus
    from knowledge.embedding import HashingEmbedder
    from knowledge.library import Library

    old = Library.connect(settings, embedder=HashingEmbedder())  # an install without enrichers
    ensure_founding_corpus(old)
    with old.read() as session:
        assert session.scalar(select(func.count()).select_from(PassagePersonRow)) == 0
    old.close()
    new = KnowledgeService.open(settings, embedder=HashingEmbedder())
    try:
        assert [e.name for e in new.experts.list(guild_id=None)] == [
            "Masahiro Akiyama", "Dmitry Streltsov", "Kazuhiko Togo"]
        assert all(m.passages for m in new.meetings.list(guild_id=None))
    finally:
        new.close()


def test_registry_is_seeded_once(hashing_service: KnowledgeService) -> None:
    """The 11 curated meetings are in the table after open; seeding again changes nothing."""
    with hashing_service.library.read() as session:
        ids = set(session.scalars(select(MeetingRow.id).where(MeetingRow.status == "confirmed")))
    assert ids == {m.id for m in load_registry()}
    prepare_store(hashing_service.library)
    with hashing_service.library.write() as session:
        assert seed_registry(session) == 0
        assert session.scalar(select(func.count()).select_from(MeetingRow)) == 11

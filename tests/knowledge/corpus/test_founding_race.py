"""Seeding a new library with the founding corpus (knowledge/corpus): two processes starting on
one new database at the same moment both start."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge import corpus
from knowledge.embedding import HashingEmbedder
from knowledge.ingest import Document
from knowledge.library import FINGERPRINT_KEY, Library
from knowledge.settings import Settings
from knowledge.store import queries
from knowledge.store.tables import ArticleRow

# A small founding corpus of two articles with no names in them (nothing else is shared).
TEXTS = {
    "quill-one": "The quillfeather accord on zanthoric fisheries sets catch quotas for the "
                 "northern banks and a joint inspection panel that reports twice a year.",
    "quill-two": "The zanthoric ferry schedule was agreed at last: two crossings a week in "
                 "summer, one in winter, with visa-free travel for former residents.",
}


# PostgreSQL only: SQLite lets one writer in at a time, so both writes are never in flight.
@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)
def test_two_processes_seeding_one_new_database_at_once_both_start(
        settings: Settings, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes (two libraries in two threads) each store a first founding article and
    each read that no model fingerprint is recorded yet: the one that commits second no longer
    fails on the duplicate fingerprint but stores its article beside the other's record;
    every article is stored once, with one fingerprint."""
    metas = [{"slug": slug} for slug in TEXTS]
    monkeypatch.setattr(corpus, "founding_metadata", lambda: (
        metas if threading.current_thread().name == "first" else metas[::-1]))
    monkeypatch.setattr(corpus, "founding_document", lambda meta: Document(
        text=TEXTS[meta["slug"]], title=meta["slug"], publisher="Quill", slug=meta["slug"],
        announce=False))
    both_read = threading.Barrier(2, timeout=30)
    waited: set[str] = set()
    get_state = queries.get_state

    def read_together(session: Session, key: str) -> str | None:
        value = get_state(session, key)
        if key == FINGERPRINT_KEY and threading.current_thread().name not in waited:
            waited.add(threading.current_thread().name)
            both_read.wait()  # each has read "no fingerprint" before either commits
        return value

    monkeypatch.setattr(queries, "get_state", read_together)
    libraries = [Library.connect(settings, embedder=HashingEmbedder()) for _ in range(2)]
    errors: list[BaseException] = []

    def start(library: Library) -> None:
        try:
            corpus.ensure_founding_corpus(library)
        except BaseException as exc:  # the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(library,), name=name)
               for library, name in zip(libraries, ("first", "second"), strict=True)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        with libraries[0].read() as session:
            assert sorted(session.scalars(select(ArticleRow.slug))) == sorted(TEXTS)
            assert get_state(session, FINGERPRINT_KEY) == HashingEmbedder().fingerprint
    finally:
        for library in libraries:
            library.close()

"""The knowledge service: seeding, ingestion, dedup, retrieval, thresholds, refresh."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from knowledge.corpus import PREBUILT_INDEX, founding_document, founding_metadata
from knowledge.embedding import HashingEmbedder
from knowledge.errors import BadInput, NotFound
from knowledge.ingest import Document, prepare
from knowledge.models import PartialDate
from knowledge.retrieval import SearchRequest
from knowledge.service import KnowledgeService
from knowledge.settings import Settings
from knowledge.store.tables import ArticleRow, PassageRow

NEW_ARTICLE = """# Arctic shipping after the thaw

The Northern Sea Route has become a test of whether commercial shipping can adapt to ice that
melts earlier each summer. Operators report that insurance costs remain the main obstacle.

Ports along the route need dredging and icebreaker escorts remain scarce. Analysts expect
traffic to grow slowly rather than in a sudden boom, as cargo owners wait for reliability.
"""


def _count(service: KnowledgeService, table: type) -> int:
    with service.library.sessions() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_fresh_install_holds_the_founding_corpus_with_metadata(hashing_service: KnowledgeService) -> None:
    """A fresh install has the five founding articles, their metadata and no invented URLs."""
    articles = hashing_service.list_articles()
    assert len(articles) == 5
    by_title = {a.title: a for a in articles}
    togo = by_title["Can Japan and Russia achieve a genuine rapprochement?"]
    assert togo.publisher == "East Asia Forum"
    assert togo.authors == ["Kazuhiko Togo"]
    assert togo.published == PartialDate("2016-12", "month")
    assert all(a.url is None for a in articles)
    valdai = by_title["Abe-Putin Summit in Moscow: No Sensations, Moderation Prevails"]
    assert valdai.authors == [] and valdai.experts == []
    article = hashing_service.get_article(valdai.id)
    assert "Ivan Timofeev" in article.original_text
    assert "Ivan Timofeev" not in article.text


def test_reopening_does_not_duplicate_the_corpus(settings: Settings) -> None:
    """Opening the same database twice seeds once."""
    emb = HashingEmbedder()
    KnowledgeService.open(settings, embedder=emb).close()
    service = KnowledgeService.open(settings, embedder=emb)
    assert _count(service, ArticleRow) == 5


def test_adding_a_file_twice_says_it_is_already_there(hashing_service: KnowledgeService,
                                                      tmp_path: Path) -> None:
    """The second add of the same content is reported as a duplicate and stores nothing."""
    path = tmp_path / "arctic.md"
    path.write_text(NEW_ARTICLE, encoding="utf-8")
    first = hashing_service.add_path(path)
    assert first.status == "added" and first.passages >= 1
    assert first.title == "Arctic shipping after the thaw"
    passages = _count(hashing_service, PassageRow)
    copy = tmp_path / "copy.txt"
    copy.write_text(NEW_ARTICLE.replace("\n", " \n").upper(), encoding="utf-8")
    for again in (path, copy):
        result = hashing_service.add_path(again)
        assert result.status == "duplicate"
        assert result.article_id == first.article_id
        assert "already in the library" in result.message
    assert _count(hashing_service, PassageRow) == passages


def test_same_canonical_url_is_a_duplicate(hashing_service: KnowledgeService) -> None:
    """Two different texts at the same canonical URL are one article."""
    url = "https://example.org/a"
    first = hashing_service.add_document(Document(NEW_ARTICLE, canonical_url=url, url=url))
    second = hashing_service.add_document(
        Document(NEW_ARTICLE + "\nAn update paragraph with new words in it.", canonical_url=url))
    assert (first.status, second.status) == ("added", "duplicate")


@pytest.mark.parametrize("filename,data,needle", [
    ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "unsupported file type"),
    ("notes.txt", b"abc\x00\x01\x02" * 10, "binary"),
    ("empty.txt", b"   \n\n", "almost no text"),
])
def test_bad_uploads_are_refused_clearly(hashing_service: KnowledgeService, filename: str,
                                         data: bytes, needle: str) -> None:
    """Binary, unsupported and empty uploads get a clear refusal and store nothing."""
    before = _count(hashing_service, ArticleRow)
    result = hashing_service.add_upload(filename, data)
    assert result.status == "error" and needle in result.message
    assert _count(hashing_service, ArticleRow) == before


def test_oversized_upload_is_refused(hashing_service: KnowledgeService) -> None:
    """An upload above UPLOAD_MAX_BYTES is refused with the limit in the message."""
    data = b"word " * (hashing_service.settings.upload_max_bytes // 5 + 10)
    result = hashing_service.add_upload("big.txt", data)
    assert result.status == "error" and "limit" in result.message


def test_failed_store_leaves_nothing_behind(hashing_service: KnowledgeService) -> None:
    """If storing fails midway (an enricher raises), the article and its passages roll back."""
    before = (_count(hashing_service, ArticleRow), _count(hashing_service, PassageRow))

    def broken(session, row, passages):  # type: ignore[no-untyped-def]
        raise RuntimeError("simulated crash after the passages were written")

    hashing_service.library.enrichers.append(broken)
    with pytest.raises(RuntimeError):
        hashing_service.add_document(Document(NEW_ARTICLE))
    assert (_count(hashing_service, ArticleRow), _count(hashing_service, PassageRow)) == before
    hashing_service.library.enrichers.remove(broken)
    assert hashing_service.add_document(Document(NEW_ARTICLE)).status == "added"


def test_added_article_is_searchable_at_once(hashing_service: KnowledgeService) -> None:
    """Ingestion updates the in-memory index without a rebuild."""
    hashing_service.add_document(Document(NEW_ARTICLE))
    hits = hashing_service.retriever.search(SearchRequest("icebreaker escorts dredging ports", top=1))
    assert hits and hits[0].article.title == "Arctic shipping after the thaw"


def test_another_process_write_is_picked_up_by_refresh(settings: Settings) -> None:
    """A second service on the same database sees new articles after refresh()."""
    emb = HashingEmbedder()
    settings = settings.model_copy(update={"no_match_threshold": 0.05})
    a = KnowledgeService.open(settings, embedder=emb)
    b = KnowledgeService.open(settings, embedder=emb)
    a.add_document(Document(NEW_ARTICLE))
    query = SearchRequest("icebreaker escorts dredging ports", top=1)
    assert all(h.article.title != "Arctic shipping after the thaw" for h in b.search(query))
    assert b.refresh() > 0
    assert b.search(query)[0].article.title == "Arctic shipping after the thaw"


@pytest.mark.parametrize("query,error", [("", BadInput), ("x" * 501, BadInput)])
def test_bad_queries_are_user_errors(hashing_service: KnowledgeService, query: str,
                                     error: type) -> None:
    """Empty and overlong questions raise a user error, not a crash."""
    with pytest.raises(error):
        hashing_service.retriever.search(SearchRequest(query))


def test_unknown_person_filter_is_not_found(hashing_service: KnowledgeService) -> None:
    """Filtering by a person nobody knows says so."""
    with pytest.raises(NotFound):
        hashing_service.retriever.search(SearchRequest("islands", person="Nobody Atall"))


def test_person_filter_matches_loosely(hashing_service: KnowledgeService) -> None:
    """'akiyama' finds Masahiro Akiyama's two articles and nothing else."""
    hits = hashing_service.retriever.search(SearchRequest("Russia Japan relations", top=10,
                                                     person="akiyama"))
    assert hits
    assert {h.article.title for h in hits} <= {
        "Russia-Japan Summit Could Improve Relations, but No Breakthrough Expected",
        "Japan’s Difficult Choices in Navigating Its Ties with Russia"}


def test_search_runs_off_the_event_loop(hashing_service: KnowledgeService) -> None:
    """The async API does the work in another thread."""
    seen: list[int] = []
    original = hashing_service.search

    def spy(request, **kw):  # type: ignore[no-untyped-def]
        seen.append(threading.get_ident())
        return original(request, **kw)

    hashing_service.search = spy  # type: ignore[method-assign]
    asyncio.run(hashing_service.search("islands"))
    assert seen and seen[0] != threading.get_ident()


def test_prebuilt_index_matches_the_shipped_corpus(real_embedder) -> None:  # type: ignore[no-untyped-def]
    """The shipped embeddings were made by the bundled model from today's passages."""
    with np.load(PREBUILT_INDEX) as data:
        assert str(data["fingerprint"]) == real_embedder.fingerprint
        for meta in founding_metadata():
            prepared = prepare(founding_document(meta))
            vectors = data[f"vectors/{meta['slug']}"]
            assert len(vectors) == len(prepared.passages)
            fresh = real_embedder.embed(prepared.embedding_texts()[:1])[0]
            assert float(fresh @ vectors[0]) > 0.999


def test_changed_model_rebuilds_at_start(settings: Settings, caplog: pytest.LogCaptureFixture
                                         ) -> None:
    """A database embedded with another model is re-embedded at start-up, with a log line."""
    KnowledgeService.open(settings, embedder=HashingEmbedder(64)).close()
    caplog.set_level("WARNING")
    service = KnowledgeService.open(settings, embedder=HashingEmbedder(128))
    assert "embedding model changed" in caplog.text
    with service.library.sessions() as session:
        blobs = session.scalars(select(PassageRow.embedding)).all()
    assert {len(b) for b in blobs} == {128 * 4}
    assert service.retriever.search(SearchRequest("Kuril islands joint economic development"))


def test_undated_upload_takes_its_dateline(hashing_service: KnowledgeService) -> None:
    """An uploaded text with a date under its title is stored with that date."""
    text = "Ports of the north\n\nJune 11, 2015\n\n" + NEW_ARTICLE.split("\n", 2)[2]
    result = hashing_service.add_upload("ports.txt", text.encode())
    assert result.status == "added"
    article = hashing_service.get_article(result.article_id)  # type: ignore[arg-type]
    assert article.summary.published == PartialDate("2015-06-11", "day")


def test_hits_are_ordered_by_their_score(real_service: KnowledgeService) -> None:
    """The shown score decreases down the list (it includes the repeat-article discount)."""
    hits = real_service.retriever.search(SearchRequest("expectations before the Moscow summit", 8))
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_a_spelling_variant_in_metadata_is_the_same_person(hashing_service: KnowledgeService
                                                           ) -> None:
    """'Dmitri Streltsov' as a new article's author joins Dmitry Streltsov, no second person."""
    from knowledge.models import Contributor
    from knowledge.store.tables import Person

    before = _count(hashing_service, Person)
    result = hashing_service.add_document(Document(
        NEW_ARTICLE, title="Arctic shipping after the thaw",
        contributors=(Contributor("Dmitri Streltsov", "author"),)))
    assert result.status == "added"
    assert _count(hashing_service, Person) == before
    hits = hashing_service.retriever.search(SearchRequest("icebreaker escorts", top=10,
                                                     person="streltsov"))
    assert any(h.article.id == result.article_id for h in hits)

"""The library: seeding the founding corpus, reopening, the prebuilt vectors, a changed model, refresh across processes."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from knowledge.corpus import PREBUILT_INDEX, founding_document, founding_metadata
from knowledge.embedding import HashingEmbedder
from knowledge.errors import ConfigurationError, NotFound
from knowledge.ingest import Document, prepare
from knowledge.models import PartialDate
from knowledge.retrieval import SearchRequest
from knowledge.service import KnowledgeService
from knowledge.settings import Settings
from knowledge.store.tables import ArticleRow, PassageRow
from tests.knowledge.articles import NEW_ARTICLE, count_rows


def test_fresh_install_holds_the_founding_corpus_with_metadata(hashing_service: KnowledgeService) -> None:
    """A fresh install has the five founding articles, their metadata and no invented URLs."""
    articles = hashing_service.list_articles(guild_id=None)
    assert len(articles) == 5
    by_title = {a.title: a for a in articles}
    togo = by_title["Can Japan and Russia achieve a genuine rapprochement?"]
    assert togo.publisher == "East Asia Forum"
    assert togo.authors == ["Kazuhiko Togo"]
    assert togo.published == PartialDate("2016-12", "month")
    assert all(a.url is None for a in articles)
    valdai = by_title["Abe-Putin Summit in Moscow: No Sensations, Moderation Prevails"]
    assert valdai.authors == [] and valdai.experts == []
    article = hashing_service.get_article(valdai.id, guild_id=None)
    assert "Ivan Timofeev" in article.original_text
    assert "Ivan Timofeev" not in article.text


def test_reopening_does_not_duplicate_the_corpus(settings: Settings) -> None:
    """Opening the same database twice seeds once."""
    emb = HashingEmbedder()
    KnowledgeService.open(settings, embedder=emb).close()
    service = KnowledgeService.open(settings, embedder=emb)
    assert count_rows(service, ArticleRow) == 5


def test_another_process_write_is_picked_up_by_refresh(settings: Settings) -> None:
    """A second service on the same database sees new articles after refresh()."""
    emb = HashingEmbedder()
    settings = settings.model_copy(update={"no_match_threshold": 0.05})
    a = KnowledgeService.open(settings, embedder=emb)
    b = KnowledgeService.open(settings, embedder=emb)
    a.add_document(Document(NEW_ARTICLE))
    query = SearchRequest("icebreaker escorts dredging ports", top=1, guild_id=None)
    assert all(h.article.title != "Arctic shipping after the thaw" for h in b.retriever.search(query))
    assert b.refresh() > 0
    assert b.retriever.search(query)[0].article.title == "Arctic shipping after the thaw"


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
    with service.library.read() as session:
        blobs = session.scalars(select(PassageRow.embedding)).all()
    assert {len(b) for b in blobs} == {128 * 4}
    assert service.retriever.search(SearchRequest("Kuril islands joint economic development", guild_id=None))


def test_a_changed_model_is_refused_or_rebuilt_on_request(settings: Settings) -> None:
    """Opened with model_change="refuse" (one-off commands), another model's library is a
    ConfigurationError naming both models and `rebuild`, and nothing is re-embedded;
    "rebuild" leaves the re-embedding to `rebuild()`, done once."""
    KnowledgeService.open(settings, embedder=HashingEmbedder(64)).close()
    with pytest.raises(ConfigurationError) as refused:
        KnowledgeService.open(settings, embedder=HashingEmbedder(128), model_change="refuse")
    message = str(refused.value)
    assert message.startswith("the library's vectors were made with hashing:64; the "
                              "configured model is hashing:128 "), message
    assert "`python -m knowledge rebuild`" in message
    service = KnowledgeService.open(settings, embedder=HashingEmbedder(64), model_change="refuse")
    assert _vector_sizes(service) == {64 * 4}  # untouched by the refused opening
    service.close()
    embedder = _Counting(128)
    service = KnowledgeService.open(settings, embedder=embedder, model_change="rebuild")
    try:
        assert embedder.texts == 0
        passages = service.rebuild()
        assert _vector_sizes(service) == {128 * 4} and embedder.texts >= passages
        assert service.library.stored_fingerprint() == "hashing:128"
        assert service.retriever.search(SearchRequest("Kuril islands joint economic "
                                                      "development", guild_id=None))
    finally:
        service.close()


class _Counting(HashingEmbedder):
    """A model that counts the texts it embeds."""

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self.texts = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.texts += len(texts)
        return super().embed(texts)


class _DiesAfter(HashingEmbedder):
    """A model whose process dies (here: raises) at its `calls`-th batch."""

    def __init__(self, dim: int, calls: int) -> None:
        super().__init__(dim)
        self.calls = calls

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls -= 1
        if self.calls <= 0:
            raise KeyboardInterrupt("killed")
        return super().embed(texts)


def _vector_sizes(service: KnowledgeService) -> set[int]:
    with service.library.read() as session:
        return {len(b) for b in session.scalars(select(PassageRow.embedding))}


@pytest.mark.parametrize("next_model", [64, 128, 32])
def test_an_interrupted_re_embedding_is_finished_by_the_next_start(
        settings: Settings, caplog: pytest.LogCaptureFixture, next_model: int) -> None:
    """A re-embedding killed after its first batch (64 of the founding 79 passages committed
    with the new model) is finished at the next start whatever model it has: the same new one
    (the rest), the old one back (the passages done), or a third (all). Before, going back to
    the old model left the two models' vectors mixed for good."""
    settings = settings.model_copy(update={"embedding_batch_size": 1})  # 64 passages a batch
    first = KnowledgeService.open(settings, embedder=HashingEmbedder(64))
    words = sorted({w for a in first.list_articles(guild_id=None) for w in a.title.split()})
    for n in range(8):  # more than one batch of passages in all
        first.add_document(Document("\n\n".join(
            f"Note {n}.{p}: " + " ".join(words[(n * 7 + p * 3 + k) % len(words)] for k in range(90))
            + "." for p in range(12)), title=f"Working notes {n}"))
    assert count_rows(first, PassageRow) > 64
    first.close()
    with pytest.raises(KeyboardInterrupt):
        KnowledgeService.open(settings, embedder=_DiesAfter(128, calls=2))
    caplog.set_level("WARNING")
    service = KnowledgeService.open(settings, embedder=HashingEmbedder(next_model))
    try:
        assert _vector_sizes(service) == {next_model * 4}
        assert service.library.stored_fingerprint() == f"hashing:{next_model}"
        assert "interrupted re-embedding" in caplog.text
        assert service.retriever.search(SearchRequest("Kuril islands joint economic development", guild_id=None))
    finally:
        service.close()
    caplog.clear()
    KnowledgeService.open(settings, embedder=HashingEmbedder(next_model)).close()
    assert "re-embedding" not in caplog.text and "model changed" not in caplog.text


@pytest.mark.parametrize("bad", [0, -1, 2**31, 2**70])
def test_an_id_no_row_can_have_is_not_found(hashing_service: KnowledgeService, bad: int) -> None:
    """Ids outside what a stored row can hold are "not found", never a driver error
    (OverflowError on SQLite, "integer out of range" on PostgreSQL)."""
    with pytest.raises(NotFound, match=f"no article #{bad}"):
        hashing_service.get_article(bad, guild_id=None)
    with pytest.raises(NotFound, match=f"no article #{bad}"):
        hashing_service.delete_article(bad)
    with pytest.raises(NotFound, match=f"no meeting proposal #{bad}"):
        hashing_service.meetings.reject_proposal(bad)
    with pytest.raises(NotFound, match=f"no meeting proposal #{bad}"):
        hashing_service.meetings.confirm_proposal(bad)

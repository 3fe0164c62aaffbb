"""Ingestion, the one path: files, uploads and documents added, duplicates recorded, failures rolled back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from knowledge.embedding import HashingEmbedder
from knowledge.errors import BadInput
from knowledge.ingest import Document, Embeddings, PreparedArticle, prepare
from knowledge.models import PartialDate
from knowledge.retrieval import SearchRequest
from knowledge.service import KnowledgeService
from knowledge.settings import Settings
from knowledge.store.tables import ArticleRow, PassageRow
from tests.knowledge.articles import NEW_ARTICLE, count_rows


def test_adding_a_file_twice_says_it_is_already_there(hashing_service: KnowledgeService,
                                                      tmp_path: Path) -> None:
    """The second add of the same content is reported as a duplicate and stores nothing."""
    path = tmp_path / "arctic.md"
    path.write_text(NEW_ARTICLE, encoding="utf-8")
    (first,) = asyncio.run(hashing_service.sources.add(str(path), guild_id=None))
    assert first.status == "added" and first.passages >= 1
    assert first.title == "Arctic shipping after the thaw"
    passages = count_rows(hashing_service, PassageRow)
    copy = tmp_path / "copy.txt"
    copy.write_text(NEW_ARTICLE.replace("\n", " \n").upper(), encoding="utf-8")
    for again in (path, copy):
        (result,) = asyncio.run(hashing_service.sources.add(str(again), guild_id=None))
        assert result.status == "duplicate"
        assert result.article_id == first.article_id
        assert "already in the library" in result.message
    assert count_rows(hashing_service, PassageRow) == passages


def test_same_canonical_url_is_a_duplicate(hashing_service: KnowledgeService) -> None:
    """Two different texts at the same canonical URL are one article."""
    url = "https://example.org/a"
    first = hashing_service.add_document(Document(NEW_ARTICLE, canonical_url=url, url=url))
    second = hashing_service.add_document(
        Document(NEW_ARTICLE + "\nAn update paragraph with new words in it.", canonical_url=url))
    assert (first.status, second.status) == ("added", "duplicate")


@pytest.mark.parametrize("filename,data,needle", [
    ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "unsupported file type"),
    ("notes.txt", b"abc\x00\x01\x02" * 10, "application/octet-stream"),
    ("empty.txt", b"   \n\n", "is empty"),
])
def test_bad_uploads_are_refused_clearly(hashing_service: KnowledgeService, filename: str,
                                         data: bytes, needle: str) -> None:
    """Binary, unsupported and empty uploads get a clear refusal and store nothing."""
    before = count_rows(hashing_service, ArticleRow)
    result = asyncio.run(hashing_service.sources.add_upload(filename, data, guild_id=None))
    assert result.status == "error" and needle in result.message
    assert count_rows(hashing_service, ArticleRow) == before


def test_oversized_upload_is_refused(hashing_service: KnowledgeService) -> None:
    """An upload above UPLOAD_MAX_BYTES is refused with the size limit in the message."""
    data = b"word " * (hashing_service.settings.upload_max_bytes // 5 + 10)
    result = asyncio.run(hashing_service.sources.add_upload("big.txt", data, guild_id=None))
    assert result.status == "error" and "larger than" in result.message


def test_failed_store_leaves_nothing_behind(hashing_service: KnowledgeService) -> None:
    """If storing fails midway (an enricher raises), the article and its passages roll back."""
    before = (count_rows(hashing_service, ArticleRow), count_rows(hashing_service, PassageRow))

    def broken(session, row, passages):  # type: ignore[no-untyped-def]
        raise RuntimeError("simulated crash after the passages were written")

    hashing_service.library.enrichers.append(broken)
    with pytest.raises(RuntimeError):
        hashing_service.add_document(Document(NEW_ARTICLE))
    assert (count_rows(hashing_service, ArticleRow), count_rows(hashing_service, PassageRow)) == before
    hashing_service.library.enrichers.remove(broken)
    assert hashing_service.add_document(Document(NEW_ARTICLE)).status == "added"


def test_added_article_is_searchable_at_once(hashing_service: KnowledgeService) -> None:
    """Ingestion updates the in-memory index without a rebuild."""
    hashing_service.add_document(Document(NEW_ARTICLE))
    hits = hashing_service.retriever.search(SearchRequest("icebreaker escorts dredging ports", top=1, guild_id=None))
    assert hits and hits[0].article.title == "Arctic shipping after the thaw"


def test_undated_upload_takes_its_dateline(hashing_service: KnowledgeService) -> None:
    """An uploaded text with a date under its title is stored with that date."""
    text = "Ports of the north\n\nJune 11, 2015\n\n" + NEW_ARTICLE.split("\n", 2)[2]
    result = asyncio.run(hashing_service.sources.add_upload("ports.txt", text.encode(), guild_id=None))
    assert result.status == "added"
    article = hashing_service.get_article(result.article_id, guild_id=None)  # type: ignore[arg-type]
    assert article.summary.published == PartialDate("2015-06-11", "day")


def test_a_spelling_variant_in_metadata_is_the_same_person(hashing_service: KnowledgeService
                                                           ) -> None:
    """'Dmitri Streltsov' as a new article's author joins Dmitry Streltsov, no second person."""
    from knowledge.models import Contributor
    from knowledge.store.tables import PersonRow

    before = count_rows(hashing_service, PersonRow)
    result = hashing_service.add_document(Document(
        NEW_ARTICLE, title="Arctic shipping after the thaw",
        contributors=(Contributor("Dmitri Streltsov", "author"),)))
    assert result.status == "added"
    assert count_rows(hashing_service, PersonRow) == before
    hits = hashing_service.retriever.search(SearchRequest("icebreaker escorts", top=10,
                                                     person="streltsov", guild_id=None))
    assert any(h.article.id == result.article_id for h in hits)


def test_an_author_named_twice_in_metadata_is_linked_once(hashing_service: KnowledgeService
                                                          ) -> None:
    """Metadata naming one person twice (spacing, capitals, another relation) stores the
    article with one link, the first relation and the role that was stated; before, the second link broke the unique constraint and
    the add failed with an IntegrityError."""
    from knowledge.models import Contributor
    from knowledge.store.tables import ArticlePersonRow

    result = hashing_service.add_document(Document(
        NEW_ARTICLE, title="Arctic shipping after the thaw",
        contributors=(Contributor("Anna Ivanova", "author"),
                      Contributor("ANNA  IVANOVA", "author", role="senior fellow"),
                      Contributor("Anna Ivanova", "interviewee"))))
    assert result.status == "added", result.message
    with hashing_service.library.read() as session:
        links = session.execute(select(ArticlePersonRow.relation, ArticlePersonRow.role).where(
            ArticlePersonRow.article_id == result.article_id,
            ArticlePersonRow.evidence == "metadata")).all()
    assert links == [("author", "senior fellow")]


def test_an_upload_title_loses_invisible_and_bidi_characters(hashing_service: KnowledgeService
                                                             ) -> None:
    """A heading with a right-to-left override, zero-width space and isolates is stored as its
    visible words (those characters flip or hide the rest of every line showing the title)."""
    result = asyncio.run(hashing_service.sources.add_upload(
        "rtl.md", ("# \u202e\u200b\u2066Hidden\u2069 title\n\n" + NEW_ARTICLE).encode(), guild_id=None))
    assert result.status == "added", result.message
    assert hashing_service.get_article(result.article_id, guild_id=None).summary.title == "Hidden title"


def test_one_huge_paragraph_without_sentence_ends_is_stored_in_bounded_passages(
        hashing_service: KnowledgeService) -> None:
    """150 kB of text without a sentence end becomes many passages of at most 1,000
    characters (before: one 150 kB passage, and meeting linking on it took ~30 s, growing with
    the square of its length: a 1.8 MB upload ran for more than 15 minutes)."""
    text = "# Notes\n\n" + " ".join(f"the summit negotiators talked {n}" for n in range(5000))
    result = hashing_service.add_document(Document(text, format="markdown"))
    assert result.status == "added", result.message
    with hashing_service.library.read() as session:
        sizes = session.scalars(select(func.length(PassageRow.text)).where(
            PassageRow.article_id == result.article_id)).all()
    assert len(sizes) > 100 and max(sizes) <= 1000


def test_an_articles_vectors_do_not_depend_on_its_batch() -> None:
    """With the default (ONNX) embedder, an article embedded alone or among others, in any
    order and sharing sentences with them, gets exactly the same passage and sentence vectors."""
    from knowledge.corpus import FOUNDING_DIR
    from knowledge.embedding import make_embedder
    from knowledge.ingest import embed_many, prepare
    from knowledge.settings import BUNDLED_MODEL

    texts = [f.read_text() for f in sorted(FOUNDING_DIR.glob("*.txt"))[:2]]
    shared = texts[0].split("\n\n")[2]  # a paragraph the third article repeats word for word
    articles = [prepare(Document(t)) for t in
                (NEW_ARTICLE, texts[0], NEW_ARTICLE.replace("thaw", "melt") + "\n\n" + shared)]
    embedder = make_embedder(BUNDLED_MODEL)
    alone = embed_many([articles[0]], embedder)[0]
    for batch in ([articles[1], articles[0], articles[2]], [articles[2], articles[0]]):
        together = embed_many(batch, embedder)[batch.index(articles[0])]
        assert np.array_equal(together.passages, alone.passages)
        assert all(np.array_equal(a, b)
                   for a, b in zip(together.sentences, alone.sentences, strict=True))
    # The repeated paragraph's sentences get the vectors the founding article's have.
    both = embed_many([articles[1], articles[2]], embedder)
    first = {articles[1].text[a:b]: v for a, b, v in _sentence_rows(articles[1], both[0])}
    again = [(t, v) for a, b, v in _sentence_rows(articles[2], both[1])
             if (t := articles[2].text[a:b]) in first]
    assert again and all(np.array_equal(first[t], v) for t, v in again)


def _sentence_rows(article: PreparedArticle, vectors: Embeddings
                   ) -> Iterator[tuple[int, int, np.ndarray]]:
    """(start, end, vector) of every sentence of an embedded article, in the article's text."""
    for passage, rows in zip(article.passages, vectors.sentences, strict=True):
        for (a, b), vector in zip(passage.sentences, rows, strict=True):
            yield passage.start + a, passage.start + b, vector


def _numbered_documents(count: int) -> list[Document]:
    """Distinct small articles (the new article's text with its number in title and body)."""
    return [Document(NEW_ARTICLE.replace("the thaw", f"thaw number {n}")
                     + f"\n\nShip count {n} was recorded at {n} ports.",
                     title=f"Arctic shipping {n}") for n in range(count)]


def test_batches_are_stored_in_order_with_their_own_vectors(hashing_service: KnowledgeService
                                                            ) -> None:
    """With the next batch embedded while one is stored, every article keeps its own vectors
    (passages and sentences) and the results come back in the order given."""
    from knowledge.ingest import embed_many, prepare

    docs = _numbered_documents(7)
    results = hashing_service.add_documents(docs, chunk=2)
    assert [r.status for r in results] == ["added"] * 7
    assert [r.title for r in results] == [d.title for d in docs]
    embedder = hashing_service.embedder
    with hashing_service.library.read() as session:
        for doc, result in zip(docs, results, strict=True):
            expected = embed_many([prepare(doc)], embedder)[0]
            rows = session.scalars(select(PassageRow).where(
                PassageRow.article_id == result.article_id).order_by(PassageRow.ordinal)).all()
            assert np.array_equal(np.stack([np.frombuffer(r.embedding, np.float32) for r in rows]),
                                  expected.passages)
            for row, sentences in zip(rows, expected.sentences, strict=True):
                stored = np.frombuffer(row.sentence_embeddings, np.float16).reshape(-1, embedder.dim)
                assert np.array_equal(stored, sentences.astype(np.float16))
    assert {r.article_id for r in results} <= set(hashing_service.index.articles)


class FailingEmbedder(HashingEmbedder):
    """The test embedder, except that a batch holding a marked text fails as a model would."""

    def embed(self, texts: list[str]) -> np.ndarray:
        if any("number 3" in t for t in texts):
            raise RuntimeError("the model failed")
        return super().embed(texts)


def test_a_failed_embedding_keeps_the_batches_before_it(hashing_service: KnowledgeService) -> None:
    """A model failure in a later batch is raised; the batches before it stay stored and
    searchable, nothing of the failed batch or after it is stored."""
    hashing_service.library.embedder = FailingEmbedder()
    docs = _numbered_documents(7)
    before = count_rows(hashing_service, ArticleRow)
    with pytest.raises(RuntimeError, match="the model failed"):
        hashing_service.add_documents(docs, chunk=2)
    with hashing_service.library.read() as session:
        titles = set(session.scalars(select(ArticleRow.title).where(
            ArticleRow.title.like("Arctic shipping %"))))
    assert titles == {"Arctic shipping 0", "Arctic shipping 1"}
    assert count_rows(hashing_service, ArticleRow) == before + 2


KILLED_INGEST = """
import random, sys, time
from pathlib import Path
from knowledge.corpus import FOUNDING_DIR
from knowledge.embedding import HashingEmbedder
from knowledge.ingest import Document
from knowledge.models import Contributor
from knowledge.service import KnowledgeService
from knowledge.settings import Settings
from knowledge.text.split import split_sentences

settings = Settings(data_dir=Path(sys.argv[1]), database_url=sys.argv[2], _env_file=None)
service = KnowledgeService.open(settings, embedder=HashingEmbedder())
sentences = [s.text for f in sorted(FOUNDING_DIR.glob("*.txt"))
             for s in split_sentences(f.read_text().replace("\\n", " ")) if len(s.text) > 40]
docs = []
for n in range(60):  # distinct texts (not near-copies of each other), one named author each
    rng = random.Random(n)
    paragraphs = [" ".join(rng.sample(sentences, 4)) for _ in range(3)]
    docs.append(Document("By Anna Ivanova, senior fellow at the Pacific Policy Institute.\\n\\n"
                         + "\\n\\n".join(paragraphs), title=f"Arctic shipping {n}",
                         contributors=(Contributor("Anna Ivanova", "author"),)))

def progress(done: int, total: int) -> None:
    print(done, flush=True)
    time.sleep(0.05)  # time for the kill to land anywhere in the next batch

service.add_documents(docs, chunk=3, progress=progress)
print("finished", flush=True)
"""


def test_a_killed_ingest_leaves_no_article_without_its_people(settings: Settings) -> None:
    """An ingesting process killed (SIGKILL) mid-run leaves every article it stored with its
    derived data (people, the passages carrying their words): they share one transaction."""
    import signal
    import subprocess
    import sys

    from knowledge.store.tables import ArticlePersonRow, PassagePersonRow, PersonRow

    KnowledgeService.open(settings, embedder=HashingEmbedder()).close()  # seeded, migrated
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_INGEST, str(settings.data_dir),
         settings.resolved_database_url], stdout=subprocess.PIPE,
        text=True, cwd=Path(__file__).resolve().parents[2])
    assert child.stdout is not None
    for line in child.stdout:
        if line.strip() != "finished" and int(line) >= 9:
            break
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    service = KnowledgeService.open(settings, embedder=HashingEmbedder())
    try:
        with service.library.read() as session:
            stored = session.scalars(select(ArticleRow).where(
                ArticleRow.title.like("Arctic shipping %"))).all()
            assert 9 <= len(stored) < 60
            for article in stored:
                assert "Anna Ivanova" in [p["name"] for p in article.extra["people"]]
                ids = [p.id for p in article.passages]
                assert session.scalars(select(ArticlePersonRow.relation).join(PersonRow).where(
                    ArticlePersonRow.article_id == article.id,
                    PersonRow.name == "Anna Ivanova")).all() == ["author"]
                assert session.scalar(select(func.count()).select_from(PassagePersonRow).where(
                    PassagePersonRow.passage_id.in_(ids)))
    finally:
        service.close()


@pytest.mark.parametrize(("text", "fmt"), [
    ("&amp;" * 20_000, "html"),  # symbols only
    ("# T\n\n" + "x" * 100_000, "markdown"),  # one endless string
    ("A real sentence with eleven honest words in it, just here. " + "&" * 5_000, "text"),
])
def test_text_without_enough_words_is_refused(text: str, fmt: str) -> None:
    """Input that is (almost) no words is refused as having no readable text, however many
    characters it has: it would be stored as hundreds of passages of nothing."""
    with pytest.raises(BadInput, match="almost no readable text"):
        prepare(Document(text, title="Summit", format=fmt))


@pytest.mark.parametrize("text", [
    NEW_ARTICLE,
    "北京で開かれた首脳会談では、両国の首相が経済協力と安全保障について長時間にわたり話し合い、"
    "共同声明を発表した。専門家は今回の合意が地域の安定に寄与すると評価している。",
    "中美两国领导人在峰会上就贸易、气候变化和地区安全问题进行了深入交流，双方同意继续保持高层沟通。",
    "Лидеры двух стран обсудили на саммите вопросы торговли, безопасности и климата, а также "
    "договорились продолжить переговоры в следующем году.",
    "Die Gipfelteilnehmer vereinbarten eine Zusammenarbeit bei Donaudampfschifffahrtsgesellschafts"
    "kapitänsmützen und Energiepolitik in den kommenden Jahren.",
])
def test_real_text_has_enough_words(text: str) -> None:
    """Prose in English, Japanese, Chinese, Russian or German (long compounds) passes the
    words check; so does the founding corpus (test_seed) and every fixture."""
    paragraph = text if text == NEW_ARTICLE else "\n\n".join([text] * 3)
    assert prepare(Document(paragraph, title="Summit")).passages

"""Ingestion, the one path: files, uploads and documents added, duplicates recorded, failures rolled back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from knowledge.ingest import Document
from knowledge.models import PartialDate
from knowledge.retrieval import SearchRequest
from knowledge.service import KnowledgeService
from knowledge.store.tables import ArticleRow, PassageRow
from tests.knowledge.articles import NEW_ARTICLE, count_rows


def test_adding_a_file_twice_says_it_is_already_there(hashing_service: KnowledgeService,
                                                      tmp_path: Path) -> None:
    """The second add of the same content is reported as a duplicate and stores nothing."""
    path = tmp_path / "arctic.md"
    path.write_text(NEW_ARTICLE, encoding="utf-8")
    (first,) = asyncio.run(hashing_service.sources.add(str(path)))
    assert first.status == "added" and first.passages >= 1
    assert first.title == "Arctic shipping after the thaw"
    passages = count_rows(hashing_service, PassageRow)
    copy = tmp_path / "copy.txt"
    copy.write_text(NEW_ARTICLE.replace("\n", " \n").upper(), encoding="utf-8")
    for again in (path, copy):
        (result,) = asyncio.run(hashing_service.sources.add(str(again)))
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
    result = asyncio.run(hashing_service.sources.add_upload(filename, data))
    assert result.status == "error" and needle in result.message
    assert count_rows(hashing_service, ArticleRow) == before


def test_oversized_upload_is_refused(hashing_service: KnowledgeService) -> None:
    """An upload above UPLOAD_MAX_BYTES is refused with the size limit in the message."""
    data = b"word " * (hashing_service.settings.upload_max_bytes // 5 + 10)
    result = asyncio.run(hashing_service.sources.add_upload("big.txt", data))
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
    hits = hashing_service.retriever.search(SearchRequest("icebreaker escorts dredging ports", top=1))
    assert hits and hits[0].article.title == "Arctic shipping after the thaw"


def test_undated_upload_takes_its_dateline(hashing_service: KnowledgeService) -> None:
    """An uploaded text with a date under its title is stored with that date."""
    text = "Ports of the north\n\nJune 11, 2015\n\n" + NEW_ARTICLE.split("\n", 2)[2]
    result = asyncio.run(hashing_service.sources.add_upload("ports.txt", text.encode()))
    assert result.status == "added"
    article = hashing_service.get_article(result.article_id)  # type: ignore[arg-type]
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
                                                     person="streltsov"))
    assert any(h.article.id == result.article_id for h in hits)


"""The index cache: an index loaded from the cache file ranks exactly like one loaded from the
database, and a cache that is stale, damaged or missing is noticed, logged once and bypassed."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from knowledge.embedding import HashingEmbedder
from knowledge.index.cache import cache_path
from knowledge.index.types import Boost, Evidence, Filters, RankedPassage
from knowledge.ingest import Document
from knowledge.retrieval import SearchRequest
from knowledge.service import KnowledgeService
from knowledge.settings import Settings
from knowledge.store.tables import ArticleRow, PassageRow
from knowledge.text.tokens import tokenize
from tests.knowledge.articles import NEW_ARTICLE

QUESTIONS = [
    "icebreaker escorts dredging ports",
    "sanctions on oil exports and the price cap",
    "what did the summit agree on security guarantees",
    "insurance costs shipping routes",
    "trade talks tariffs",
    "ceasefire negotiations",
]
MORE = [
    NEW_ARTICLE.replace("Arctic shipping after the thaw", "Ice, insurance and the northern route")
    .replace("slowly", "gradually"),
    "# Tariffs and the ports of the north\n\nTrade talks stalled over tariffs on shipping "
    "services. Port operators said dredging and icebreaker escorts would decide the route.\n\n"
    "Negotiators expect another round of talks before the summit.\n",
]


@pytest.fixture
def cache_settings(settings: Settings) -> Settings:
    """Thresholds for the hashing embedder, so most questions get hits."""
    return settings.model_copy(update={"no_match_threshold": 0.05, "hit_min_similarity": 0.0})


@pytest.fixture
def opened() -> Iterator[list[KnowledgeService]]:
    """Services a test opens, closed at the end."""
    services: list[KnowledgeService] = []
    yield services
    for service in services:
        service.close()


def open_service(settings: Settings, opened: list[KnowledgeService], *, cache: bool = True,
                 dim: int = 256) -> KnowledgeService:
    """Open a service (another process's worth) with or without the index cache."""
    service = KnowledgeService.open(settings.model_copy(update={"index_cache": cache}),
                                    embedder=HashingEmbedder(dim))
    opened.append(service)
    return service


def ranked(service: KnowledgeService) -> list[list[RankedPassage]]:
    """The index's rankings for every question, in every mode and with feedback, evidence and
    filters, so BM25 statistics, vectors, sentence vectors, texts and dates all count."""
    index, embedder = service.index, service.embedder
    out = []
    some_article = min(index.articles)
    for question in QUESTIONS:
        tokens, vector = tokenize(question), embedder.embed([question])[0]
        for mode in ("hybrid", "dense", "bm25"):
            out.append(index.search(tokens, vector, top=8, mode=mode, feedback=True))
        evidence = Evidence(((
            "article", Boost("by the article", 1.0, article_ids=frozenset({some_article}))),))
        out.append(index.search(tokens, vector, top=8, evidence=evidence))
        out.append(index.search(tokens, vector, top=8,
                                filters=Filters(publisher="a", visible_to=0)))
    return out


def hits(service: KnowledgeService) -> list[list[tuple[int, str, float, float, float]]]:
    """What the retriever returns for every question (passage, highlight, scores)."""
    return [[(h.passage_id, h.highlight, h.score, h.dense_score, h.bm25_score)
             for h in service.retriever.search(SearchRequest(q, top=8, guild_id=None))] for q in QUESTIONS]


def assert_same(cached: KnowledgeService, fresh: KnowledgeService) -> None:
    """The cache-loaded index answers exactly as a fresh load of the same database."""
    assert len(cached.index) == len(fresh.index)
    assert cached.index.articles == fresh.index.articles
    assert ranked(cached) == ranked(fresh)
    assert hits(cached) == hits(fresh)
    assert any(hits(fresh))  # the comparison is not between two empty lists


def test_a_cache_loaded_index_ranks_like_a_fresh_load(
        cache_settings: Settings, opened: list[KnowledgeService],
        caplog: pytest.LogCaptureFixture) -> None:
    """After adds, a delete (both before and after the cache was written) and adds by another
    process, an index from the cache, refreshed, equals one loaded from the database."""
    caplog.set_level(logging.INFO, logger="knowledge.library")
    writer = open_service(cache_settings, opened)
    assert writer.library.cache_path.exists() and writer.library.cached is not None
    first = writer.add_document(Document(NEW_ARTICLE)).article_id
    second = writer.add_document(Document(MORE[0])).article_id
    assert first is not None and second is not None
    writer.delete_article(first)  # after the cache: reaches readers through the log

    reader = open_service(cache_settings, opened)
    assert "index loaded from its cache" in caplog.text
    assert reader.library.cached == writer.library.cached  # the file the writer wrote
    assert second in reader.index.articles and first not in reader.index.articles
    assert_same(reader, open_service(cache_settings, opened, cache=False))

    # A cache written from an index that dropped an article holds only live passages.
    writer.library.write_index_cache()
    compacted = open_service(cache_settings, opened)
    assert compacted.library.cached is not None
    assert compacted.library.cached.max_passage_id == writer.index.max_passage_id
    assert_same(compacted, open_service(cache_settings, opened, cache=False))

    # Another process adds and deletes after the cache-loaded one opened: its refresh follows.
    third = writer.add_document(Document(MORE[1])).article_id
    writer.delete_article(second)
    assert compacted.refresh() > 0
    assert third in compacted.index.articles and second not in compacted.index.articles
    assert_same(compacted, open_service(cache_settings, opened, cache=False))


def rejected(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The log lines saying the cache was not used."""
    return [r.getMessage() for r in caplog.records if "not used" in r.getMessage()]


@pytest.mark.parametrize("damage", ["truncated", "flipped", "garbage", "missing",
                                    "older format"])
def test_a_damaged_or_missing_cache_is_logged_and_bypassed(
        cache_settings: Settings, opened: list[KnowledgeService],
        caplog: pytest.LogCaptureFixture, damage: str) -> None:
    """A damaged or missing cache file: one log line, the normal load, the same answers, and
    a good cache written in its place."""
    first = open_service(cache_settings, opened)
    path = first.library.cache_path
    data = bytearray(path.read_bytes())
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flipped":  # a byte inside the BM25 postings (checksummed)
        length = int.from_bytes(data[8:16], "little")
        offset = json.loads(data[16:16 + length])["arrays"]["bm25_positions"][0]
        data[-(-(16 + length) // 64) * 64 + offset + 5] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "garbage":
        path.write_bytes(b"not an index at all" * 10)
    elif damage == "older format":  # written by an earlier version (same length of header)
        assert data.count(b'"format": 2') == 1
        path.write_bytes(bytes(data).replace(b'"format": 2', b'"format": 1'))
    else:
        path.unlink()
    caplog.clear()
    caplog.set_level(logging.INFO, logger="knowledge.library")
    service = open_service(cache_settings, opened)
    assert len(rejected(caplog)) == 1, caplog.text
    if damage == "older format":
        assert "another version" in rejected(caplog)[0]
    assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)
    assert_same(service, open_service(cache_settings, opened, cache=False))
    caplog.clear()
    open_service(cache_settings, opened)
    assert rejected(caplog) == [] and "index loaded from its cache" in caplog.text


def test_a_stale_cache_is_not_used(cache_settings: Settings, opened: list[KnowledgeService],
                                   caplog: pytest.LogCaptureFixture) -> None:
    """A cache no longer matching the database (passages gone without a logged deletion, a
    changed title, another embedding model) is bypassed with one log line each time."""
    writer = open_service(cache_settings, opened)
    caplog.set_level(logging.INFO, logger="knowledge.library")

    some = min(writer.index.articles)
    with writer.library.write() as session:  # a row removed behind the deletions log's back
        session.execute(delete(PassageRow).where(PassageRow.id == writer.index.max_passage_id))
    caplog.clear()
    service = open_service(cache_settings, opened)
    assert len(rejected(caplog)) == 1 and "passages" in rejected(caplog)[0]
    assert_same(service, open_service(cache_settings, opened, cache=False))

    with writer.library.write() as session:  # BM25 terms include the title
        session.execute(update(ArticleRow).where(ArticleRow.id == some)
                        .values(title="A title the cache never saw"))
    caplog.clear()
    service = open_service(cache_settings, opened)
    assert len(rejected(caplog)) == 1 and "title" in rejected(caplog)[0]
    assert_same(service, open_service(cache_settings, opened, cache=False))

    caplog.clear()
    other_model = open_service(cache_settings, opened, dim=128)  # re-embeds everything
    assert len(rejected(caplog)) == 1 and "model" in rejected(caplog)[0]
    assert other_model.index.dim == 128


def test_index_cache_off_neither_reads_nor_writes(cache_settings: Settings,
                                                  opened: list[KnowledgeService]) -> None:
    """INDEX_CACHE=off: no cache file is written, and none is read."""
    service = open_service(cache_settings, opened, cache=False)
    assert not service.library.cache_path.exists() and service.library.cached is None


def test_close_rewrites_a_cache_the_index_outgrew(
        cache_settings: Settings, opened: list[KnowledgeService],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Closing a process whose index moved past the rewrite threshold writes the cache again,
    so the next start has nothing to catch up; below the threshold the file is left alone."""
    import knowledge.library as library_module

    service = open_service(cache_settings, opened)
    written = service.library.cached
    assert written is not None
    service.add_document(Document(NEW_ARTICLE))
    service.library.close()  # one passage: far below the default threshold
    assert service.library.cached == written

    monkeypatch.setattr(library_module, "CACHE_REWRITE_PASSAGES", 1)
    monkeypatch.setattr(library_module, "CACHE_REWRITE_SHARE", 0.0)
    service.add_document(Document(MORE[1]))
    service.library.close()
    assert service.library.cached is not None
    assert service.library.cached.max_passage_id == service.index.max_passage_id > \
        written.max_passage_id
    reopened = open_service(cache_settings, opened)
    assert reopened.library.cached == service.library.cached
    assert reopened.refresh() == 0
    assert_same(reopened, open_service(cache_settings, opened, cache=False))


def test_a_cache_that_cannot_be_written_costs_one_log_line(
        cache_settings: Settings, opened: list[KnowledgeService],
        caplog: pytest.LogCaptureFixture) -> None:
    """When the cache directory cannot be written (here a file stands in its place), the
    library opens and answers as usual, with one warning and no traceback."""
    cache_settings.data_dir.mkdir(parents=True, exist_ok=True)
    (cache_settings.data_dir / "index-cache").write_text("not a directory")
    caplog.set_level(logging.INFO, logger="knowledge.library")
    service = open_service(cache_settings, opened)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "could not write the index cache" in warnings[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)
    assert any(hits(service))


def test_a_writer_that_died_leaves_no_temporary_file_behind(
        cache_settings: Settings, opened: list[KnowledgeService]) -> None:
    """A temporary file of a writer that no longer runs is removed at the next write; one
    of a running process is kept."""
    service = open_service(cache_settings, opened)
    path = service.library.cache_path
    dead = path.with_name(f".{path.name}.999999999.tmp")  # above any pid_max: no such process
    alive = path.with_name(f".{path.name}.{os.getppid()}.tmp")  # pytest's parent runs
    dead.write_bytes(b"half a file")
    alive.write_bytes(b"being written")
    service.library.write_index_cache()
    assert not dead.exists() and alive.exists()
    assert service.library.cache_path.exists()


def test_ids_of_deleted_passages_given_again_do_not_fool_the_check(
        cache_settings: Settings, opened: list[KnowledgeService],
        caplog: pytest.LogCaptureFixture) -> None:
    """On SQLite a new article may get the ids of the newest deleted passages: a cache holding
    the deleted ones must not be taken for current (same count, same id sum)."""
    writer = open_service(cache_settings, opened)
    old = writer.add_document(Document(NEW_ARTICLE)).article_id
    assert old is not None
    writer.library.write_index_cache()
    old_ids = [p for p, a in zip(writer.index._passage_ids, writer.index._article_of,
                                 strict=True) if a == old]
    writer.delete_article(old)
    writer.add_document(Document(MORE[0]))  # as many passages as the deleted article
    caplog.set_level(logging.INFO, logger="knowledge.library")
    reader = open_service(cache_settings, opened)
    fresh = open_service(cache_settings, opened, cache=False)
    assert_same(reader, fresh)
    if sorted(fresh.index._passage_ids)[-len(old_ids):] == old_ids:  # ids were reused here
        assert rejected(caplog) and "ids of deleted passages" in rejected(caplog)[0]


def test_cache_file_name_does_not_depend_on_the_password(tmp_path: Path) -> None:
    """The name hashes the URL without its password: no password-guessing oracle in a file
    name (logged at INFO), and a new password keeps the cache; other parts still count, and
    a URL without a password keeps the name earlier versions gave it."""
    def name(url: str) -> str:
        return cache_path(tmp_path, url).name

    base = "postgresql+psycopg://summit:{}@db:5432/summitdesk"
    assert name(base.format("old-secret")) == name(base.format("new%40secret"))
    assert name(base.format("old-secret")) == name("postgresql+psycopg://summit@db:5432/summitdesk")
    assert name("postgresql+psycopg://summit@db/x?password=one") == \
        name("postgresql+psycopg://summit@db/x?password=two")
    assert name(base.format("pw")) != name(base.format("pw").replace("db:5432", "db2:5432"))
    without = "postgresql+psycopg://summit@db:5432/summitdesk"
    for url in (without, f"sqlite:///{tmp_path / 'summit-desk.sqlite3'}"):
        assert name(url) == f"index-{hashlib.sha256(url.encode()).hexdigest()[:16]}.bin"
    secret = hashlib.sha256(base.format("old-secret").encode()).hexdigest()[:16]
    assert secret not in name(base.format("old-secret"))

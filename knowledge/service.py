"""The one service object the CLI and the bot share: opens the store, keeps the index, answers."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import gc
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from knowledge import corpus
from knowledge.embedding import Embedder, make_embedder
from knowledge.errors import AlreadyStored, BadInput, KnowledgeError, NotFound
from knowledge.index.hybrid import (
    Filters,
    HybridIndex,
    IndexedPassage,
    NoMatchRule,
    embedding_document,
)
from knowledge.ingest import (
    Document,
    Embeddings,
    Enricher,
    PreparedArticle,
    document_from_bytes,
    embed_prepared,
    prepare,
    read_document_file,
    store,
)
from knowledge.models import AddResult, Article, ArticleSummary, Contributor, Hit, PartialDate
from knowledge.settings import Settings
from knowledge.store import queries
from knowledge.store.db import make_engine, make_sessionmaker, migrate
from knowledge.store.tables import ArticleRow, PassageRow, Person
from knowledge.text.tokens import tokenize

log = logging.getLogger(__name__)

FINGERPRINT_KEY = "model_fingerprint"
ProgressCallback = Callable[[int, int], None]


@dataclasses.dataclass(frozen=True, slots=True)
class SearchRequest:
    """A question and its filters, validated."""

    query: str
    top: int = 5
    person: str | None = None
    publisher: str | None = None
    since: PartialDate | None = None
    until: PartialDate | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class LibraryStats:
    """Counts for status displays."""

    articles: int
    passages: int
    experts: int
    model_fingerprint: str


class KnowledgeService:
    """Corpus, index and retrieval behind async methods; CPU work runs in worker threads."""

    def __init__(self, settings: Settings, embedder: Embedder, sessions: sessionmaker[Session],
                 enrichers: Sequence[Enricher] = ()) -> None:
        self.settings = settings
        self.embedder = embedder
        self.sessions = sessions
        self.enrichers: list[Enricher] = list(enrichers)
        self.index = HybridIndex(embedder.dim)
        self._write_lock = threading.Lock()
        self.started_at = time.time()

    # ----- feature areas, each in its own module (imported on first use) ---------------------
    @functools.cached_property
    def experts(self):  # type: ignore[no-untyped-def]  # -> knowledge.people.service.ExpertsService
        """People: who said what (see knowledge/people/service.py)."""
        from knowledge.people.service import ExpertsService

        return ExpertsService(self)

    @functools.cached_property
    def meetings(self):  # type: ignore[no-untyped-def]  # -> knowledge.meetings.service.MeetingsService
        """Summits and visits, and what was said about them (knowledge/meetings/service.py)."""
        from knowledge.meetings.service import MeetingsService

        return MeetingsService(self)

    @functools.cached_property
    def sources(self):  # type: ignore[no-untyped-def]  # -> knowledge.sources.service.SourcesService
        """Article URLs, feeds and uploads, and feed polling (knowledge/sources/service.py)."""
        from knowledge.sources.service import SourcesService

        return SourcesService(self)

    @functools.cached_property
    def digests(self):  # type: ignore[no-untyped-def]  # -> knowledge.digests.service.DigestService
        """Scheduled digests, exactly once (knowledge/digests/service.py)."""
        from knowledge.digests.service import DigestService

        return DigestService(self)

    # ----- start-up -------------------------------------------------------------------------
    @classmethod
    def open_sync(cls, settings: Settings, *, embedder: Embedder | None = None,
                  progress: ProgressCallback | None = None) -> KnowledgeService:
        """Migrate the database, seed the founding corpus if absent, and load the index."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        limit_blas_threads()
        engine = make_engine(settings.resolved_database_url)
        migrate(engine)
        embedder = embedder or make_embedder(settings.embedding_model,
                                             settings.embedding_batch_size)
        service = cls(settings, embedder, make_sessionmaker(engine), default_enrichers())
        if service.enrichers:  # meeting registry seeded, older articles enriched (knowledge/enrich.py)
            from knowledge.enrich import prepare_store

            prepare_store(service.sessions)
        service._ensure_founding_corpus()
        service._ensure_model_matches(progress)
        service._load_index()
        # The index is hundreds of thousands of long-lived objects: keep the cyclic garbage
        # collector from rescanning them on every full collection (a pause at 100k passages).
        gc.collect()
        gc.freeze()
        return service

    @classmethod
    async def open(cls, settings: Settings, *, embedder: Embedder | None = None
                   ) -> KnowledgeService:
        """Async wrapper of `open_sync` (the work runs in a thread)."""
        return await asyncio.to_thread(cls.open_sync, settings, embedder=embedder)

    def close(self) -> None:
        """Release database connections."""
        bind = self.sessions.kw.get("bind")
        if bind is not None:
            bind.dispose()

    def _ensure_founding_corpus(self) -> None:
        with self.sessions() as session:
            present = set(session.scalars(select(ArticleRow.slug).where(
                ArticleRow.slug.is_not(None))))
        todo = [m for m in corpus.founding_metadata() if m["slug"] not in present]
        if not todo:
            return
        prebuilt = _load_prebuilt()
        fingerprint = self.embedder.fingerprint
        usable = prebuilt is not None and prebuilt["fingerprint"] == fingerprint
        if prebuilt is not None and not usable:
            log.info("prebuilt index was built with %s, configured model is %s: embedding the "
                     "founding corpus now", prebuilt["fingerprint"], fingerprint)
        for meta in todo:
            prepared = prepare(founding_document(meta))
            vectors = _prebuilt_vectors(prebuilt, meta["slug"], prepared) if usable else None
            if vectors is None:
                if usable:
                    log.warning("prebuilt index is stale for %s: re-embedding", meta["slug"])
                vectors = embed_prepared(prepared, self.embedder)
            with self._write_lock, self.sessions.begin() as session:
                try:
                    store(session, prepared, vectors, self.enrichers)
                except AlreadyStored:
                    log.info("founding article %s already stored", meta["slug"])
                    session.rollback()
                    continue
                if queries.get_state(session, FINGERPRINT_KEY) is None:
                    queries.set_state(session, FINGERPRINT_KEY, fingerprint)
        log.info("founding corpus loaded: %d articles", len(todo))

    def _ensure_model_matches(self, progress: ProgressCallback | None) -> None:
        with self.sessions() as session:
            stored = queries.get_state(session, FINGERPRINT_KEY)
        if stored is None:
            with self.sessions.begin() as session:
                queries.set_state(session, FINGERPRINT_KEY, self.embedder.fingerprint)
        elif stored != self.embedder.fingerprint:
            log.warning("embedding model changed (%s -> %s): rebuilding the index",
                        stored, self.embedder.fingerprint)
            self._reembed_all(progress)

    def _load_index(self) -> None:
        started = time.perf_counter()
        index = HybridIndex(self.embedder.dim)
        with self.sessions() as session:
            summaries = queries.article_summaries(session)
            by_article: dict[int, list[IndexedPassage]] = {}
            for batch in queries.iter_passages(session):
                for passage in batch:
                    by_article.setdefault(passage.article_id, []).append(passage)
        for aid, summary in summaries.items():
            index.add(summary, by_article.get(aid, []))
        self.index = index
        log.info("index loaded: %d articles, %d passages in %.2f s", len(summaries), len(index),
                 time.perf_counter() - started)

    def refresh_sync(self) -> int:
        """Pick up passages other processes stored since the last load; returns how many."""
        with self.sessions() as session:
            new: dict[int, list[IndexedPassage]] = {}
            for batch in queries.iter_passages(session, after_id=self.index.max_passage_id):
                for passage in batch:
                    new.setdefault(passage.article_id, []).append(passage)
            summaries = queries.article_summaries(session, new.keys()) if new else {}
            live = set(session.scalars(select(ArticleRow.id)))
        for aid, passages in new.items():
            if aid in summaries:
                self.index.add(summaries[aid], passages)
        for gone in set(self.index.articles) - live:
            self.index.remove_article(gone)
        count = sum(len(p) for p in new.values())
        if count:
            log.info("index refreshed: %d new passages", count)
        return count

    async def refresh(self) -> int:
        """Async wrapper of `refresh_sync`."""
        return await asyncio.to_thread(self.refresh_sync)

    def _reembed_all(self, progress: ProgressCallback | None) -> int:
        """Re-embed passages and their sentences, a batch of passages at a time."""
        with self.sessions() as session:
            total = session.scalar(select(func.count()).select_from(PassageRow)) or 0
            titles = dict(session.execute(select(ArticleRow.id, ArticleRow.title)).all())
        done = 0
        batch_size = max(self.settings.embedding_batch_size * 4, 64)
        last_id = 0
        now = dt.datetime.now(dt.UTC)
        while True:
            with self.sessions() as session:
                rows = session.execute(
                    select(PassageRow.id, PassageRow.article_id, PassageRow.text,
                           PassageRow.sentence_spans)
                    .where(PassageRow.id > last_id).order_by(PassageRow.id).limit(batch_size)
                ).all()
            if not rows:
                break
            texts = [embedding_document(ArticleSummary(aid, titles.get(aid, ""), None, None,
                                                       None, "en", (), now), text)
                     for _, aid, text, _ in rows]
            sentence_texts = [text[a:b] for _, _, text, spans in rows for a, b in spans]
            vectors = self.embedder.embed(texts + sentence_texts)
            offset = len(rows)
            with self._write_lock, self.sessions.begin() as session:
                for i, (pid, _, _, spans) in enumerate(rows):
                    row = session.get(PassageRow, pid)
                    assert row is not None
                    row.embedding = vectors[i].astype(np.float32).tobytes()
                    sent = vectors[offset:offset + len(spans)]
                    row.sentence_embeddings = sent.astype(np.float16).tobytes()
                    offset += len(spans)
            done += len(rows)
            last_id = rows[-1][0]
            if progress:
                progress(done, total)
        with self.sessions.begin() as session:
            queries.set_state(session, FINGERPRINT_KEY, self.embedder.fingerprint)
        return done

    def rebuild_sync(self, progress: ProgressCallback | None = None) -> int:
        """Re-embed every passage with the configured model and reload the index."""
        count = self._reembed_all(progress)
        self._load_index()
        return count

    async def rebuild(self, progress: ProgressCallback | None = None) -> int:
        """Async wrapper of `rebuild_sync`."""
        return await asyncio.to_thread(self.rebuild_sync, progress)

    # ----- retrieval ------------------------------------------------------------------------
    def validate(self, query: str) -> str:
        """Trim a question and refuse empty or overlong ones."""
        query = " ".join(query.split())
        if not query:
            raise BadInput("the question is empty")
        limit = self.settings.search_max_query_chars
        if len(query) > limit:
            raise BadInput(f"the question is too long ({len(query)} characters; the limit is "
                           f"{limit})")
        return query

    def person_article_ids(self, name: str) -> frozenset[int]:
        """Articles whose experts match a loosely written name; NotFound when nobody matches."""
        wanted = queries.person_key(name).split()
        if not wanted:
            raise BadInput("the person's name is empty")
        with self.sessions() as session:
            people = list(session.scalars(select(Person).where(Person.kind == "expert")))
            matches = [p for p in people if all(
                any(part == w or (len(w) >= 4 and part.startswith(w)) for part in p.key.split())
                for w in wanted)]
            if not matches:
                raise NotFound(f"no expert called “{name}” in the library")
            ids = session.scalars(select(queries.ArticlePerson.article_id).where(
                queries.ArticlePerson.person_id.in_([p.id for p in matches])))
            return frozenset(ids)

    def search_sync(self, request: SearchRequest, *, filters: Filters | None = None) -> list[Hit]:
        """Rank passages for a question; [] means no good match."""
        query = self.validate(request.query)
        if not 1 <= request.top <= 50:
            raise BadInput("top must be between 1 and 50")
        if request.since and request.until and request.since.start > request.until.end:
            raise BadInput("--since is after --until")
        base = filters or Filters()
        article_ids = base.article_ids
        if request.person:
            person_ids = self.person_article_ids(request.person)
            article_ids = person_ids if article_ids is None else article_ids & person_ids
        filters = dataclasses.replace(
            base, article_ids=article_ids, publisher=request.publisher or base.publisher,
            since=request.since.start if request.since else base.since,
            until=request.until.end if request.until else base.until,
        )
        vector = self.embedder.embed([query])[0]
        ranked = self.index.search(tokenize(query), vector, top=request.top, filters=filters,
                                   min_similarity=self.settings.hit_min_similarity,
                                   no_match=self.no_match_rule)
        return [Hit(passage_id=r.passage_id, article=self.index.articles[r.article_id],
                    passage=r.text, highlight=r.highlight, score=r.score, dense_score=r.dense,
                    bm25_score=r.bm25)
                for r in ranked if r.article_id in self.index.articles]

    @property
    def no_match_rule(self) -> NoMatchRule:
        """The calibrated no-match decision (bench/retrieval_eval.py, docs/benchmarks.md)."""
        s = self.settings
        return NoMatchRule(s.no_match_threshold, s.no_match_lexical_floor,
                           s.no_match_lexical_coverage)

    def is_answerable(self, tokens: list[str], vector: np.ndarray, filters: Filters) -> bool:
        """Whether a question gets any hits at all (used by the calibration benchmark)."""
        return bool(self.index.search(tokens, vector, top=1, filters=filters,
                                      no_match=self.no_match_rule))

    async def search(self, query: str, *, top: int | None = None, person: str | None = None,
                     publisher: str | None = None, since: PartialDate | None = None,
                     until: PartialDate | None = None) -> list[Hit]:
        """Hybrid search (runs in a worker thread so the event loop stays free)."""
        request = SearchRequest(query, top or self.settings.search_default_top, person,
                                publisher, since, until)
        return await asyncio.to_thread(self.search_sync, request)

    # ----- ingestion ------------------------------------------------------------------------
    def add_document_sync(self, doc: Document, *, label: str | None = None) -> AddResult:
        """Clean, split, embed and store one document; duplicates are reported, not stored."""
        return self.add_documents_sync([doc], labels=[label])[0]

    def add_documents_sync(self, docs: Sequence[Document], *,
                           labels: Sequence[str | None] | None = None, chunk: int = 32,
                           progress: ProgressCallback | None = None) -> list[AddResult]:
        """Add many documents, embedding them in shared batches; one result per document.

        Each article is still stored in its own transaction: a failure or a kill loses at most
        the article being written, never one already stored.
        """
        from knowledge.ingest import embed_many, find_duplicate

        labels = list(labels) if labels is not None else [None] * len(docs)
        results: list[AddResult | None] = [None] * len(docs)
        todo: list[tuple[int, PreparedArticle, str]] = []
        for i, (doc, label) in enumerate(zip(docs, labels, strict=True)):
            name = label or doc.url or doc.title or "document"
            try:
                prepared = prepare(doc)
            except KnowledgeError as exc:
                log.info("refused %s: %s", name, exc)
                results[i] = AddResult(name, "error", str(exc))
                continue
            with self.sessions() as session:
                dup = find_duplicate(session, prepared)
            if dup is not None:
                results[i] = AddResult(name, "duplicate",
                                       f"already in the library as #{dup.id} “{dup.title}”",
                                       article_id=dup.id, title=dup.title)
                continue
            todo.append((i, prepared, name))
        for start in range(0, len(todo), chunk):
            batch = todo[start:start + chunk]
            vectors = embed_many([p for _, p, _ in batch], self.embedder)
            for (i, prepared, name), vecs in zip(batch, vectors, strict=True):
                results[i] = self.store_prepared(prepared, vecs, name, refresh=False)
            self.refresh_sync()
            if progress:
                progress(min(start + chunk, len(todo)), len(todo))
        return [r for r in results if r is not None]

    def store_prepared(self, prepared: PreparedArticle, vectors: Embeddings, label: str, *,
                       refresh: bool = True) -> AddResult:
        """Store an embedded article in one transaction and add it to the in-memory index."""
        try:
            with self._write_lock, self.sessions.begin() as session:
                row = store(session, prepared, vectors, self.enrichers)
                article_id = row.id
        except AlreadyStored as exc:
            return AddResult(label, "duplicate", str(exc),
                             article_id=exc.article_id if exc.article_id > 0 else None)
        if refresh:
            self.refresh_sync()
        log.info("added article #%d %r (%d passages)", article_id, prepared.title,
                 len(prepared.passages))
        return AddResult(label, "added", f"added #{article_id} “{prepared.title}” "
                         f"({len(prepared.passages)} passages)", article_id=article_id,
                         title=prepared.title, passages=len(prepared.passages))

    def add_path_sync(self, path: Path) -> AddResult:
        """Add a local text, Markdown or HTML file."""
        try:
            doc = read_document_file(path, max_bytes=self.settings.upload_max_bytes)
        except KnowledgeError as exc:
            return AddResult(str(path), "error", str(exc))
        return self.add_document_sync(doc, label=str(path))

    async def add_path(self, path: Path) -> AddResult:
        """Async wrapper of `add_path_sync`."""
        return await asyncio.to_thread(self.add_path_sync, path)

    def add_upload_sync(self, filename: str, data: bytes) -> AddResult:
        """Add an uploaded file's bytes."""
        if len(data) > self.settings.upload_max_bytes:
            return AddResult(filename, "error", f"{filename} is {len(data) / 1e6:.1f} MB; the "
                             f"limit is {self.settings.upload_max_bytes / 1e6:.1f} MB")
        try:
            doc = document_from_bytes(filename, data)
        except KnowledgeError as exc:
            return AddResult(filename, "error", str(exc))
        return self.add_document_sync(doc, label=filename)

    async def add_upload(self, filename: str, data: bytes) -> AddResult:
        """Async wrapper of `add_upload_sync`."""
        return await asyncio.to_thread(self.add_upload_sync, filename, data)

    async def add_document(self, doc: Document, *, label: str | None = None) -> AddResult:
        """Async wrapper of `add_document_sync`."""
        return await asyncio.to_thread(self.add_document_sync, doc, label=label)

    # ----- browsing -------------------------------------------------------------------------
    def list_articles_sync(self) -> list[ArticleSummary]:
        """Every article, newest publication first (undated last)."""
        with self.sessions() as session:
            summaries = list(queries.article_summaries(session).values())
        return sorted(summaries, key=lambda a: (a.published.start if a.published else dt.date.min,
                                                a.id), reverse=True)

    async def list_articles(self) -> list[ArticleSummary]:
        """Async wrapper of `list_articles_sync`."""
        return await asyncio.to_thread(self.list_articles_sync)

    def latest_sync(self, count: int = 5) -> list[ArticleSummary]:
        """The most recently added articles."""
        if not 1 <= count <= 25:
            raise BadInput("count must be between 1 and 25")
        with self.sessions() as session:
            ids = list(session.scalars(select(ArticleRow.id).order_by(
                ArticleRow.added_at.desc(), ArticleRow.id.desc()).limit(count)))
            summaries = queries.article_summaries(session, ids)
        return [summaries[i] for i in ids]

    async def latest(self, count: int = 5) -> list[ArticleSummary]:
        """Async wrapper of `latest_sync`."""
        return await asyncio.to_thread(self.latest_sync, count)

    def get_article_sync(self, article_id: int) -> Article:
        """One article with its text; NotFound for an unknown id."""
        with self.sessions() as session:
            row = session.get(ArticleRow, article_id)
            if row is None:
                raise NotFound(f"no article #{article_id}")
            summary = queries.article_summaries(session, [article_id])[article_id]
            return Article(summary=summary, text=row.text, original_text=row.original_text,
                           passages=tuple(p.text for p in row.passages))

    async def get_article(self, article_id: int) -> Article:
        """Async wrapper of `get_article_sync`."""
        return await asyncio.to_thread(self.get_article_sync, article_id)

    def delete_article_sync(self, article_id: int) -> None:
        """Remove an article and its passages from the store and the index."""
        with self._write_lock, self.sessions.begin() as session:
            deleted = session.execute(delete(ArticleRow).where(ArticleRow.id == article_id))
            if not deleted.rowcount:  # type: ignore[attr-defined]
                raise NotFound(f"no article #{article_id}")
        self.index.remove_article(article_id)

    def stats_sync(self) -> LibraryStats:
        """Counts of articles, passages and experts."""
        with self.sessions() as session:
            articles = session.scalar(select(func.count()).select_from(ArticleRow)) or 0
            passages = session.scalar(select(func.count()).select_from(PassageRow)) or 0
            experts = session.scalar(select(func.count()).select_from(Person).where(
                Person.kind == "expert")) or 0
        return LibraryStats(articles, passages, experts, self.embedder.fingerprint)

    async def stats(self) -> LibraryStats:
        """Async wrapper of `stats_sync`."""
        return await asyncio.to_thread(self.stats_sync)


def limit_blas_threads() -> None:
    """Keep NumPy's BLAS to one thread: its spinning workers otherwise fight torch's threads
    for the two cores and a 10 ms query takes 100 ms (measured in bench/speed.py)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def founding_document(meta: dict) -> Document:
    """The Document for one founding article from its curated metadata."""
    text = (corpus.FOUNDING_DIR / meta["file"]).read_text(encoding="utf-8")
    published = PartialDate(meta["published"], meta["published_precision"]) \
        if meta.get("published") else None
    return Document(
        text=text, title=meta["title"], publisher=meta["publisher"], published=published,
        url=meta.get("url"), canonical_url=meta.get("url"), language=meta.get("language", "en"),
        contributors=tuple(Contributor(c["name"], c["relation"], c.get("role"))
                           for c in meta.get("contributors", [])),
        slug=meta["slug"], announce=False,
        extra={"founding": True, "date_evidence": meta.get("date_evidence")},
    )


def _load_prebuilt() -> dict | None:
    """The shipped embeddings of the founding corpus, if present and readable."""
    path = corpus.PREBUILT_INDEX
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as data:
        fingerprint = str(data["fingerprint"])
        vectors = {key[len("vectors/"):]: data[key] for key in data.files
                   if key.startswith("vectors/")}
        sentences = {key[len("sentences/"):]: data[key] for key in data.files
                     if key.startswith("sentences/")}
    return {"fingerprint": fingerprint, "vectors": vectors, "sentences": sentences}


def _prebuilt_vectors(prebuilt: dict | None, slug: str, prepared: PreparedArticle
                      ) -> Embeddings | None:
    """The shipped vectors for one founding article, or None when missing or stale."""
    if prebuilt is None:
        return None
    passages = prebuilt["vectors"].get(slug)
    sentences = prebuilt["sentences"].get(slug)
    counts = [len(p.sentences) for p in prepared.passages]
    if passages is None or sentences is None or len(passages) != len(prepared.passages) \
            or len(sentences) != sum(counts):
        return None
    per_passage, offset = [], 0
    for count in counts:
        per_passage.append(sentences[offset:offset + count])
        offset += count
    return Embeddings(passages, tuple(per_passage))


def write_prebuilt(embedder: Embedder, path: Path | None = None) -> Path:
    """Embed the founding corpus and write the prebuilt index shipped with the package."""
    path = path or corpus.PREBUILT_INDEX
    arrays: dict[str, np.ndarray] = {"fingerprint": np.array(embedder.fingerprint)}
    for meta in corpus.founding_metadata():
        prepared = prepare(founding_document(meta))
        vectors = embed_prepared(prepared, embedder)
        arrays[f"vectors/{meta['slug']}"] = vectors.passages
        arrays[f"sentences/{meta['slug']}"] = np.concatenate(vectors.sentences)
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]
    return path


def default_enrichers() -> list[Enricher]:
    """Derived-data steps run inside each ingestion transaction (people, meeting links)."""
    enrichers: list[Enricher] = []
    try:
        from knowledge.enrich import ENRICHERS
    except ImportError:
        return enrichers
    enrichers.extend(ENRICHERS)
    return enrichers

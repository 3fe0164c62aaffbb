"""The one object every feature is built with: settings, database, embedder and in-memory index.

`Library` owns the write discipline. Every write to the database goes through `library.write()`,
which takes the process's write lock and begins a transaction, and commits or rolls back when the
block ends. Why one lock for every write: SQLite allows one writer at a time and a deferred
transaction that must upgrade its lock can fail with "database is locked" when another thread of
the same process writes; PostgreSQL does not need it, but the in-memory index is refreshed after
writes and must never see half of one. Writes are short (one article, one feed's state, one
digest claim), so serialising them inside a process costs nothing measurable. Coordination
between processes is the database's job: leases, claims and unique constraints.

Reads use `library.read()` (a session, no lock). CPU and database work is synchronous; async
callers send it to a worker thread with `await library.run(fn, *args)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import ParamSpec, TypeVar

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from knowledge import visibility
from knowledge.embedding import Embedder, embedder_from_settings
from knowledge.index import cache
from knowledge.index.hybrid import HybridIndex, embedding_document
from knowledge.index.types import IndexedPassage
from knowledge.models import ArticleSummary
from knowledge.settings import Settings
from knowledge.store import queries
from knowledge.store.db import make_engine, make_sessionmaker, migrate, schema_revision
from knowledge.store.tables import (
    MAX_ROW_ID,
    ArticleDeletionRow,
    ArticleRow,
    PassageRow,
    utcnow,
)

log = logging.getLogger(__name__)

FINGERPRINT_KEY = "model_fingerprint"
# A re-embedding under way: {"target": fingerprint, "through": last passage id done}.
REEMBED_KEY = "reembed_progress"
# The index cache is rewritten (on close) once this many passages were added or removed since
# it was written, or this share of what it holds, whichever is more.
CACHE_REWRITE_PASSAGES = 1000
CACHE_REWRITE_SHARE = 0.1
ProgressCallback = Callable[[int, int], None]
P = ParamSpec("P")
T = TypeVar("T")
# Called inside the ingestion transaction after the article and passages exist, so derived
# data (people, meeting links) is stored atomically with the article (knowledge/enrich.py).
Enricher = Callable[[Session, ArticleRow, Sequence[PassageRow]], None]


class Library:
    """Settings, engine and sessions, embedder, index and enrichers, shared by every feature."""

    def __init__(self, settings: Settings, embedder: Embedder, engine: Engine,
                 enrichers: Sequence[Enricher] = ()) -> None:
        self.settings = settings
        self.embedder = embedder
        self.engine = engine
        self.sessions: sessionmaker[Session] = make_sessionmaker(engine)
        self.enrichers: list[Enricher] = list(enrichers)
        self.index = HybridIndex(embedder.dim)
        self.deletions_seen = 0  # the last article_deletions id the index has applied
        # What the index cache file holds (None: no cache written or loaded by this process).
        self.cached: cache.CacheMeta | None = None
        self.cache_path = cache.cache_path(settings.data_dir, settings.resolved_database_url)
        self.started_at = time.time()
        self._write_lock = threading.Lock()

    # ----- opening and closing ------------------------------------------------------------
    @classmethod
    def connect(cls, settings: Settings, *, embedder: Embedder | None = None,
                enrichers: Sequence[Enricher] = ()) -> Library:
        """Create the engine and apply migrations; the index is loaded by `load_index`."""
        settings.ensure_data_dir()
        limit_blas_threads()
        engine = make_engine(settings.resolved_database_url)
        migrate(engine)
        embedder = embedder or embedder_from_settings(settings)
        return cls(settings, embedder, engine, enrichers)

    def close(self) -> None:
        """Rewrite the index cache if the index grew or shrank a lot, release connections."""
        if self.settings.index_cache and self._cache_is_behind():
            self.write_index_cache()
        self.engine.dispose()

    # ----- sessions, writes and worker threads ---------------------------------------------
    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading (no lock, nothing committed)."""
        with self.sessions() as session:
            yield session

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """The one way to write: the process's write lock, then a transaction committed at the
        end of the block (rolled back if it raises)."""
        with self._write_lock, self.sessions.begin() as session:
            yield session

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run synchronous library work in a worker thread, so an event loop stays free."""
        return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))

    # ----- model fingerprint ---------------------------------------------------------------
    def stored_fingerprint(self) -> str | None:
        """The model fingerprint the stored vectors were made with (None on a new library)."""
        with self.read() as session:
            return queries.get_state(session, FINGERPRINT_KEY)

    def ensure_model_matches(self, progress: ProgressCallback | None = None) -> None:
        """Record the model on a new library; re-embed everything when the model changed, and
        finish a re-embedding that was interrupted (its passages up to some id hold one
        model's vectors, the rest the other's: never left mixed)."""
        stored = self.stored_fingerprint()
        current = self.embedder.fingerprint
        unfinished = self._unfinished_reembed()
        if stored is None:
            try:
                with self.write() as session:
                    queries.set_state(session, FINGERPRINT_KEY, current)
            except IntegrityError:  # another process starting at the same moment was first
                self.ensure_model_matches(progress)  # theirs is stored now: compare with it
        elif unfinished is not None:
            target, through = unfinished
            if target == current:
                log.warning("finishing an interrupted re-embedding with %s (passages after "
                            "#%d)", current, through)
                self.reembed_all(progress, after=through)
            elif stored == current:
                log.warning("an interrupted re-embedding with %s left passages up to #%d "
                            "with its vectors: re-embedding them with %s", target, through,
                            current)
                self.reembed_all(progress, until=through)
            else:
                log.warning("an interrupted re-embedding (%s -> %s) and now %s: rebuilding "
                            "the index", stored, target, current)
                self.reembed_all(progress)
        elif stored != current:
            log.warning("embedding model changed (%s -> %s): rebuilding the index",
                        stored, current)
            self.reembed_all(progress)

    def model_mismatch(self) -> str | None:
        """Why the stored vectors are not all the configured model's, in words (a changed
        model, a re-embedding that stopped part-way), or None (they are, or the library is
        new): what `ensure_model_matches` would re-embed."""
        stored = self.stored_fingerprint()
        if stored is None:
            return None
        current = self.embedder.fingerprint
        unfinished = self._unfinished_reembed()
        if unfinished is not None:
            target, through = unfinished
            return (f"a re-embedding of the library ({stored} -> {target or 'unknown'}) "
                    f"stopped after passage #{through}; the configured model is {current}")
        if stored != current:
            return (f"the library's vectors were made with {stored}; the configured model "
                    f"is {current}")
        return None

    def _unfinished_reembed(self) -> tuple[str, int] | None:
        """(the model, the last passage id done) of a re-embedding that did not finish."""
        with self.read() as session:
            value = queries.get_state(session, REEMBED_KEY)
        if not value:
            return None
        try:
            found = json.loads(value)
            return str(found["target"]), int(found["through"])
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable re-embedding progress %r: rebuilding the index", value)
            return "", MAX_ROW_ID  # every passage redone, whichever model is configured

    # ----- the in-memory index -------------------------------------------------------------
    def load_index(self, *, use_cache: bool = True) -> None:
        """Load the in-memory index: from the index cache when it matches the database (then
        refreshed past it), else from every stored passage (and the cache written)."""
        if use_cache and self.settings.index_cache and self._load_cached_index():
            return
        self._load_full_index()
        if self.settings.index_cache:
            self.write_index_cache()

    def _load_full_index(self) -> None:
        """Build the in-memory index from every stored passage."""
        started = time.perf_counter()
        index = HybridIndex(self.embedder.dim)
        with self.read() as session:
            # Read first: a deletion committed while the rest loads is applied by the next refresh.
            deletions_seen = _last_deletion(session)
            summaries = queries.article_summaries(session)
            by_article: dict[int, list[IndexedPassage]] = {}
            for batch in queries.iter_passages(session):
                for passage in batch:
                    by_article.setdefault(passage.article_id, []).append(passage)
            reach = visibility.reach_since(session, 0)
        for aid, summary in summaries.items():
            index.add(summary, by_article.get(aid, []))
        index.add_reach(reach)
        self.index = index
        self.deletions_seen = deletions_seen
        _freeze_long_lived(len(index))
        log.info("index loaded: %d articles, %d passages in %.2f s", len(summaries), len(index),
                 time.perf_counter() - started)

    def _load_cached_index(self) -> bool:
        """Load the index from the cache file if it matches the database; one log line and
        False when it is missing, damaged or stale."""
        started = time.perf_counter()
        try:
            cached = cache.read(self.cache_path)
            meta, strings, arrays = cached.meta, cached.strings, cached.arrays
            with self.read() as session:
                deletions_seen = self._check_cache(session, meta, arrays)
                summaries = queries.article_summaries(session)
                stale = _changed_headers(strings, arrays, summaries, deletions_seen)
                if stale:
                    raise cache.CacheError(f"article {stale} has a new title or publisher")
                reach = visibility.reach_since(session, 0)
            index = HybridIndex.restore(self.embedder.dim, strings, arrays, summaries,
                                        cached.sentence_rows)
        except cache.CacheError as exc:
            log.info("index cache %s not used (%s): loading the index from the database",
                     self.cache_path, exc)
            return False
        index.add_reach(reach)
        self.index = index
        self.deletions_seen = meta.deletions_seen
        self.cached = meta
        added = self.refresh_index()  # passages stored and articles deleted since it was written
        _freeze_long_lived(len(index))
        log.info("index loaded from its cache: %d articles, %d passages (%d new) in %.2f s",
                 len(index.articles), len(index), added, time.perf_counter() - started)
        return True

    def _check_cache(self, session: Session, meta: cache.CacheMeta,
                     arrays: dict[str, np.ndarray]) -> dict[int, int]:
        """Raise CacheError unless the cache was built by this model from this database's
        passages (allowing for articles deleted since, which the refresh drops); returns those
        deletions (article id -> log id)."""
        if meta.dim != self.embedder.dim or meta.fingerprint != self.embedder.fingerprint \
                or queries.get_state(session, FINGERPRINT_KEY) != meta.fingerprint:
            raise cache.CacheError("built with another embedding model")
        revision = schema_revision(session)
        if revision != meta.schema_revision:
            raise cache.CacheError(f"schema revision {meta.schema_revision}, database {revision}")
        last_deletion = _last_deletion(session)
        if last_deletion < meta.deletions_seen:
            raise cache.CacheError("the deletions log is behind the cache (another database?)")
        deleted = dict(session.execute(
            select(ArticleDeletionRow.article_id, ArticleDeletionRow.id)
            .where(ArticleDeletionRow.id > meta.deletions_seen)).tuples().all())
        count, id_sum = session.execute(
            select(func.count(), func.coalesce(func.sum(PassageRow.id), 0))
            .where(PassageRow.id <= meta.max_passage_id)).one()
        gone = np.isin(arrays["article_ids"], np.fromiter(deleted, dtype=np.int64))
        gone_ids = arrays["passage_ids"][gone].tolist()
        # SQLite hands out the ids of deleted rows again: a passage stored since under a
        # deleted one's id would look like the cached one to the count and id sum below.
        if len(gone_ids) > 5000:
            raise cache.CacheError(f"{len(gone_ids)} of its passages were deleted since")
        if gone_ids and session.scalar(select(func.count()).select_from(PassageRow)
                                       .where(PassageRow.id.in_(gone_ids))):
            raise cache.CacheError("ids of deleted passages were given to new ones")
        expected_sum = meta.passage_id_sum - int(arrays["passage_ids"][gone].sum())
        if count != meta.passages - int(gone.sum()) or int(id_sum) != expected_sum:
            raise cache.CacheError(
                f"{meta.passages} passages up to id {meta.max_passage_id}, database {count}")
        return deleted

    def write_index_cache(self) -> None:
        """Write the index to its cache file (a failure is logged, never raised: the cache is
        only a copy)."""
        started = time.perf_counter()
        try:
            with self.read() as session:
                revision = str(schema_revision(session))
            with self.index.held():  # one consistent picture of the index and what it applied
                strings, arrays, pieces = self.index.export()
                deletions_seen = self.deletions_seen
            ids = arrays["passage_ids"]
            meta = cache.CacheMeta(
                fingerprint=self.embedder.fingerprint, schema_revision=revision,
                dim=self.embedder.dim, max_passage_id=self.index.max_passage_id,
                passages=len(ids), passage_id_sum=int(ids.sum()), deletions_seen=deletions_seen)
            size = cache.write(self.cache_path, meta, strings, arrays, pieces)
        except Exception as exc:  # the cache is a copy: never let it break a start or close
            log.warning("could not write the index cache %s: %s", self.cache_path, exc)
            return
        self.cached = meta
        log.info("index cache written: %d passages, %.1f MB in %.2f s", meta.passages,
                 size / 1e6, time.perf_counter() - started)

    def _cache_is_behind(self) -> bool:
        """Whether the index moved far enough from the cache file to be worth rewriting it."""
        if self.cached is None:
            return False
        changed = abs(len(self.index) - self.cached.passages) + \
            (self.index.max_passage_id > self.cached.max_passage_id) + \
            (self.deletions_seen - self.cached.deletions_seen)
        return changed >= max(CACHE_REWRITE_PASSAGES, CACHE_REWRITE_SHARE * self.cached.passages)

    def refresh_index(self) -> int:
        """Pick up passages other processes stored, and drop articles they deleted (from the
        deletions log, not by comparing every article id), since the last look; returns how
        many passages were added."""
        with self.read() as session:
            deleted = list(session.execute(
                select(ArticleDeletionRow.id, ArticleDeletionRow.article_id)
                .where(ArticleDeletionRow.id > self.deletions_seen).order_by(ArticleDeletionRow.id)))
            new: dict[int, list[IndexedPassage]] = {}
            for batch in queries.iter_passages(session, after_id=self.index.max_passage_id):
                for passage in batch:
                    new.setdefault(passage.article_id, []).append(passage)
            summaries = queries.article_summaries(session, new.keys()) if new else {}
            reach = visibility.reach_since(session, self.index.max_reach_id)
        for aid, passages in new.items():
            if aid in summaries:
                self.index.add(summaries[aid], passages)
        self.index.add_reach(reach)
        for log_id, gone in deleted:
            self.index.remove_article(gone)
            self.deletions_seen = log_id
        count = sum(len(p) for p in new.values())
        if count:
            log.info("index refreshed: %d new passages", count)
        return count

    def reembed_all(self, progress: ProgressCallback | None = None, *, after: int = 0,
                    until: int | None = None) -> int:
        """Re-embed passages and their sentences with the configured model, a batch at a time
        (the passages with ids in (after, until], by default all). Each batch's commit also
        records how far it got, so an interrupted run is finished by the next start
        (`ensure_model_matches`); the model's fingerprint is stored when all are done."""
        target = self.embedder.fingerprint
        wanted = PassageRow.id > after
        if until is not None:
            wanted = wanted & (PassageRow.id <= until)
        with self.read() as session:
            total = session.scalar(select(func.count()).select_from(PassageRow).where(wanted)) \
                or 0
            titles = dict(session.execute(select(ArticleRow.id, ArticleRow.title)).tuples().all())
        done = 0
        batch_size = max(self.settings.embedding_batch_size * 4, 64)
        last_id = after
        now = utcnow()
        while True:
            with self.read() as session:
                query = select(PassageRow.id, PassageRow.article_id, PassageRow.text,
                               PassageRow.sentence_spans).where(PassageRow.id > last_id)
                if until is not None:
                    query = query.where(PassageRow.id <= until)
                rows = session.execute(
                    query.order_by(PassageRow.id).limit(batch_size)).tuples().all()
            if not rows:
                break
            texts = [embedding_document(ArticleSummary(aid, titles.get(aid, ""), None, None,
                                                       None, "en", (), now), text)
                     for _, aid, text, _ in rows]
            sentence_texts = [text[a:b] for _, _, text, spans in rows for a, b in spans]
            vectors = self.embedder.embed(texts + sentence_texts)
            offset = len(rows)
            with self.write() as session:
                for i, (pid, _, _, spans) in enumerate(rows):
                    row = session.get(PassageRow, pid)
                    assert row is not None
                    row.embedding = vectors[i].astype(np.float32).tobytes()
                    sent = vectors[offset:offset + len(spans)]
                    row.sentence_embeddings = sent.astype(np.float16).tobytes()
                    offset += len(spans)
                # Passages up to here have the target's vectors (redoing a range keeps the
                # mark of the larger run, whose later passages are still the other model's).
                if until is None:
                    queries.set_state(session, REEMBED_KEY, json.dumps(
                        {"target": target, "through": rows[-1][0]}))
            done += len(rows)
            last_id = rows[-1][0]
            if progress:
                progress(done, total)
        with self.write() as session:
            queries.set_state(session, FINGERPRINT_KEY, target)
            queries.set_state(session, REEMBED_KEY, "")
        return done

    def rebuild(self, progress: ProgressCallback | None = None) -> int:
        """Re-embed every passage with the configured model and reload the index from the
        database (and rewrite the index cache)."""
        count = self.reembed_all(progress)
        self.load_index(use_cache=False)
        return count


def _last_deletion(session: Session) -> int:
    """The newest id in the deletions log (0 when empty)."""
    return session.scalar(select(func.max(ArticleDeletionRow.id))) or 0


def _changed_headers(strings: dict[str, Sequence[str]], arrays: dict[str, np.ndarray],
                     summaries: dict[int, ArticleSummary], deleted: dict[int, int]) -> int | None:
    """An article whose title or publisher (part of its passages' BM25 terms) differs from
    the cache's, or which vanished without a deletion logged; None when there is none."""
    for aid, header in zip(arrays["header_article_ids"].tolist(), strings["headers"],
                           strict=True):
        summary = summaries.get(aid)
        if summary is None:
            if aid not in deleted:
                return int(aid)
        elif f"{summary.title}\n{summary.publisher or ''}" != header:
            return int(aid)
    return None


FREEZE_FROM = 10_000  # passages


def _freeze_long_lived(passages: int) -> None:
    """A large index is hundreds of thousands of long-lived objects: keep the cyclic garbage
    collector from rescanning them on every full collection (a pause at 100k passages). A
    small one is not worth the full collection first (~50 ms of every start)."""
    if passages >= FREEZE_FROM:
        gc.collect()
        gc.freeze()


def limit_blas_threads() -> None:
    """Keep NumPy's BLAS to one thread: its spinning workers otherwise fight torch's threads
    for the two cores and a 10 ms query takes 100 ms (measured in bench/speed.py)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")

"""The founding corpus shipped with the package: its texts, metadata and prebuilt index, and
seeding a library with it."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from knowledge.embedding import Embedder
from knowledge.errors import AlreadyStored
from knowledge.library import FINGERPRINT_KEY, Library
from knowledge.models import Contributor, PartialDate
from knowledge.store import queries
from knowledge.store.tables import ArticleRow

if TYPE_CHECKING:  # ingestion is imported when founding articles are stored, not on each start
    from knowledge.ingest import Document, Embeddings, PreparedArticle

log = logging.getLogger(__name__)

CORPUS_DIR = Path(__file__).resolve().parent
FOUNDING_DIR = CORPUS_DIR / "founding"
FOUNDING_METADATA = CORPUS_DIR / "founding.json"
PREBUILT_INDEX = CORPUS_DIR / "founding_index.npz"
# index_state key: the slugs of founding articles an operator deleted (a JSON list), which
# `ensure_founding_corpus` must not store again at the next start.
DELETED_KEY = "founding_deleted"


def founding_metadata() -> list[dict]:
    """The curated metadata of each founding article (see founding.json)."""
    return list(json.loads(FOUNDING_METADATA.read_text(encoding="utf-8"))["articles"])


def founding_document(meta: dict) -> Document:
    """The Document for one founding article from its curated metadata."""
    from knowledge.ingest import Document

    text = (FOUNDING_DIR / meta["file"]).read_text(encoding="utf-8")
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


def ensure_founding_corpus(library: Library) -> int:
    """Store the founding articles the library lacks, with the shipped vectors when they were
    made by the configured model; returns how many were stored."""
    with library.read() as session:
        present = set(session.scalars(select(ArticleRow.slug).where(ArticleRow.slug.is_not(None))))
        deleted = _deleted_slugs(session)
    todo = [m for m in founding_metadata() if m["slug"] not in present | deleted]
    if not todo:
        return 0
    from knowledge.ingest import embed_prepared, prepare

    prebuilt = load_prebuilt()
    fingerprint = library.embedder.fingerprint
    usable = prebuilt is not None and prebuilt["fingerprint"] == fingerprint
    if prebuilt is not None and not usable:
        log.info("prebuilt index was built with %s, configured model is %s: embedding the "
                 "founding corpus now", prebuilt["fingerprint"], fingerprint)
    for meta in todo:
        prepared = prepare(founding_document(meta))
        vectors = prebuilt_vectors(prebuilt, meta["slug"], prepared) if usable else None
        if vectors is None:
            if usable:
                log.warning("prebuilt index is stale for %s: re-embedding", meta["slug"])
            vectors = embed_prepared(prepared, library.embedder)
        try:
            _store_founding(library, prepared, vectors, meta["slug"])
        except IntegrityError:
            # Another process starting on the same new database recorded the model fingerprint
            # (or a person) first: theirs is committed now, so store the article beside it.
            _store_founding(library, prepared, vectors, meta["slug"])
    log.info("founding corpus loaded: %d articles", len(todo))
    return len(todo)


def founding_slug(library: Library, article_id: int) -> str | None:
    """The founding-corpus slug of a stored article, or None for any other article."""
    with library.read() as session:
        slug = session.scalar(select(ArticleRow.slug).where(ArticleRow.id == article_id))
    return slug if slug in {m["slug"] for m in founding_metadata()} else None


def keep_deleted(library: Library, slug: str) -> None:
    """Record that the founding article ``slug`` is being deleted, so later starts do not
    store it again. Called before the deletion: a deletion that then fails leaves a record
    that changes nothing while the article is stored."""
    with library.write() as session:
        deleted = _deleted_slugs(session) | {slug}
        queries.set_state(session, DELETED_KEY, json.dumps(sorted(deleted)))


def _deleted_slugs(session: Session) -> set[str]:
    stored = queries.get_state(session, DELETED_KEY)
    return set(json.loads(stored)) if stored else set()


def _store_founding(library: Library, prepared: PreparedArticle, vectors: Embeddings,
                    slug: str) -> None:
    """Store one founding article and, with a library's first vectors, the model that made
    them, in one transaction; an article already stored is left alone."""
    from knowledge.ingest import store

    try:
        with library.write() as session:
            store(session, prepared, vectors, library.enrichers)
            if queries.get_state(session, FINGERPRINT_KEY) is None:
                queries.set_state(session, FINGERPRINT_KEY, library.embedder.fingerprint)
    except AlreadyStored:
        log.info("founding article %s already stored", slug)


def load_prebuilt() -> dict | None:
    """The shipped embeddings of the founding corpus, if present and readable."""
    if not PREBUILT_INDEX.exists():
        return None
    with np.load(PREBUILT_INDEX, allow_pickle=False) as data:
        fingerprint = str(data["fingerprint"])
        vectors = {key[len("vectors/"):]: data[key] for key in data.files
                   if key.startswith("vectors/")}
        sentences = {key[len("sentences/"):]: data[key] for key in data.files
                     if key.startswith("sentences/")}
    return {"fingerprint": fingerprint, "vectors": vectors, "sentences": sentences}


def prebuilt_vectors(prebuilt: dict | None, slug: str, prepared: PreparedArticle
                     ) -> Embeddings | None:
    """The shipped vectors for one founding article, or None when missing or stale."""
    if prebuilt is None:
        return None
    passages = prebuilt["vectors"].get(slug)
    sentences = prebuilt["sentences"].get(slug)
    from knowledge.ingest import Embeddings

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
    from knowledge.ingest import embed_prepared, prepare

    path = path or PREBUILT_INDEX
    arrays: dict[str, np.ndarray] = {"fingerprint": np.array(embedder.fingerprint)}
    for meta in founding_metadata():
        prepared = prepare(founding_document(meta))
        vectors = embed_prepared(prepared, embedder)
        arrays[f"vectors/{meta['slug']}"] = vectors.passages
        arrays[f"sentences/{meta['slug']}"] = np.concatenate(vectors.sentences)
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]
    return path

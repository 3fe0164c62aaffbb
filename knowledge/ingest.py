"""Ingestion, the one path every article takes: clean, split, embed in batches, store each article
in one transaction with its derived data.

Files, uploads, links and feed entries all become a `Document` (knowledge/sources/documents.py)
and enter through `add_documents`. A duplicate is looked up once before embedding (so a known
article costs no model time) and once more inside the write transaction (another process may
have stored it meanwhile); either way it is recorded as an `ArticleAppearanceRow`, never stored twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from knowledge.embedding import Embedder
from knowledge.embedding.batching import embed_bulk
from knowledge.errors import AlreadyStored, BadInput, KnowledgeError
from knowledge.index.hybrid import embedding_document
from knowledge.library import Enricher, Library, ProgressCallback
from knowledge.models import AddResult, ArticleSummary, Contributor, PartialDate
from knowledge.people import names_someone
from knowledge.store.queries import get_or_create_person, next_ids
from knowledge.store.tables import (
    OPERATOR_GUILD,
    ArticleAppearanceRow,
    ArticlePersonRow,
    ArticleRow,
    PassageRow,
    utcnow,
)
from knowledge.text.clean import clean_text, content_fingerprint, markdown_to_text
from knowledge.text.dates import find_dateline
from knowledge.text.html import html_to_text
from knowledge.text.remote import TITLE_LIMIT, plain_line
from knowledge.text.simhash import (
    NEAR_DUPLICATE_BITS,
    band_columns,
    distance,
    simhash,
    to_signed,
)
from knowledge.text.split import split_passages, split_sentences
from knowledge.text.tokens import readable_words
from knowledge.visibility import add_reach

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 2_000_000  # about 300k words: far beyond any article; keeps memory bounded
MIN_TEXT_CHARS = 80
MIN_WORDS = 10  # 80 characters of prose hold about 13
_BLANK = re.compile(r"\s")


@dataclasses.dataclass(frozen=True)
class Document:
    """Input to ingestion: raw text plus whatever metadata is known about it."""

    text: str
    title: str | None = None
    publisher: str | None = None
    published: PartialDate | None = None
    url: str | None = None
    canonical_url: str | None = None
    language: str = "en"
    contributors: tuple[Contributor, ...] = ()
    format: str = "text"  # text | markdown | html
    source_id: int | None = None
    slug: str | None = None
    announce: bool = True
    already_clean: bool = False
    extra: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class PreparedPassage:
    """One passage: its text, offsets in the article, and its sentences' offsets in it."""

    text: str
    start: int
    end: int
    sentences: tuple[tuple[int, int], ...]


@dataclasses.dataclass(frozen=True)
class PreparedArticle:
    """A document after cleaning and splitting, ready to embed and store."""

    document: Document
    title: str
    text: str
    original_text: str
    passages: tuple[PreparedPassage, ...]
    content_hash: str
    simhash: int | None = None  # of the cleaned text; None when too short (knowledge/text/simhash)

    def embedding_texts(self) -> list[str]:
        """What the dense model sees for each passage."""
        stub = ArticleSummary(0, self.title, self.document.publisher, None, None, "en", (),
                              utcnow())
        return [embedding_document(stub, p.text) for p in self.passages]

    def unique_sentences(self) -> list[tuple[int, int]]:
        """Article-level (start, end) of every sentence once, though overlap repeats some."""
        seen: dict[tuple[int, int], None] = {}
        for p in self.passages:
            for a, b in p.sentences:
                seen.setdefault((p.start + a, p.start + b), None)
        return list(seen)


@dataclasses.dataclass(frozen=True)
class Embeddings:
    """Vectors for an article: one per passage, and one per sentence of each passage."""

    passages: np.ndarray  # (n_passages, dim) float32
    sentences: tuple[np.ndarray, ...]  # per passage: (n_sentences, dim)

    def __len__(self) -> int:
        return len(self.passages)


# Creates the source row of a link or file inside the transaction that stores its article and
# returns the source's id: an article is never stored without the source that brought it.
SourceMaker = Callable[[Session, ArticleRow], int]
# Gives the adder of a link or an upload that turns out to be stored already its own source of
# that article (knowledge/sources/records.py: adopter), inside the transaction that records the
# appearance at the time given (the article is news for the adder from then); returns that
# source's id, or None when the adder already had the article.
SourceAdopter = Callable[[Session, ArticleRow, dt.datetime], int | None]


@dataclasses.dataclass(frozen=True)
class Origin:
    """Who a document reaches (knowledge/visibility.py; OPERATOR_GUILD: the operator's library)
    and, for a link or an upload, how to create its source row with the article (new_source)
    or, when the article is stored already, to give its adder a source of it (adopt_source)."""

    guilds: tuple[int, ...] = (OPERATOR_GUILD,)
    new_source: SourceMaker | None = None
    adopt_source: SourceAdopter | None = None


OPERATOR = Origin()


MAX_TITLE_CHARS = TITLE_LIMIT


def _has_words(text: str) -> bool:
    """True when ``text`` reads as words: at least MIN_WORDS, and words make at least half of
    its non-blank characters (not "&" × 900,000, nor a 999,000-letter string that splits into
    a thousand passages of nothing). Unspaced scripts (CJK, Thai) count a word per character."""
    count, chars = readable_words(text)
    return count >= MIN_WORDS and chars * 2 >= len(text) - len(_BLANK.findall(text))


def _guess_title(text: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if 3 <= len(line) <= 200:
            return line
    return "Untitled"


def prepare(doc: Document) -> PreparedArticle:
    """Clean and split a document; raise BadInput when nothing indexable is left."""
    if len(doc.text) > MAX_TEXT_CHARS:
        raise BadInput(f"the text is too long ({len(doc.text):,} characters; the limit is "
                       f"{MAX_TEXT_CHARS:,})")
    if "\x00" in doc.text:
        raise BadInput("this looks like a binary file, not text")
    raw = doc.text
    if doc.format == "html":
        raw = html_to_text(raw)
    elif doc.format == "markdown":
        raw = markdown_to_text(raw)
    # One plain line: no bidi overrides, zero-width or control characters (they would flip or
    # hide the rest of every line that shows the title).
    title = plain_line(doc.title or _guess_title(raw), limit=MAX_TITLE_CHARS) or "Untitled"
    text = raw.strip() if doc.already_clean else clean_text(raw, title=title,
                                                             publisher=doc.publisher)
    if len(text) < MIN_TEXT_CHARS:
        raise BadInput("there is almost no text to index here (under 80 characters after "
                       "removing page furniture)")
    if not _has_words(text):
        raise BadInput("there is almost no readable text to index here (too few words: "
                       "mostly symbols or one endless string)")
    passages = []
    for span in split_passages(text):
        sentences = tuple((s.start, s.end) for s in split_sentences(span.text))
        passages.append(PreparedPassage(span.text, span.start, span.end,
                                        sentences or ((0, len(span.text)),)))
    return PreparedArticle(
        document=doc, title=title, text=text, original_text=doc.text,
        passages=tuple(passages), content_hash=content_fingerprint(text), simhash=simhash(text),
    )


def find_duplicate(session: Session, prepared: PreparedArticle) -> ArticleRow | None:
    """An already stored article with the same canonical URL, content, or a near-copy of it."""
    found = find_duplicate_with_reason(session, prepared)
    return found[0] if found else None


def find_duplicate_with_reason(session: Session, prepared: PreparedArticle
                               ) -> tuple[ArticleRow, str] | None:
    """The stored article ``prepared`` duplicates and why: "url", "content" or "near_duplicate".

    Near-duplicates (a republication with other furniture) are texts whose SimHash is within
    NEAR_DUPLICATE_BITS of a stored one; the reasons match ArticleAppearanceRow.reason.
    """
    conditions = [ArticleRow.content_hash == prepared.content_hash]
    if prepared.document.canonical_url:
        conditions.append(ArticleRow.canonical_url == prepared.document.canonical_url)
    row = session.scalar(select(ArticleRow).where(or_(*conditions)).limit(1))
    if row is not None:
        same_url = bool(prepared.document.canonical_url) and (
            row.canonical_url == prepared.document.canonical_url)
        return row, "url" if same_url else "content"
    if prepared.simhash is None:
        return None
    # Only articles sharing one of the four quarters can be within NEAR_DUPLICATE_BITS: four
    # index lookups (about one unrelated article per 16,000 stored shares a quarter by chance).
    quarters = band_columns(prepared.simhash)
    rows = session.execute(select(ArticleRow.id, ArticleRow.simhash).where(
        or_(*(getattr(ArticleRow, name) == value for name, value in quarters.items())))).all()
    close = [(distance(stored, prepared.simhash), aid) for aid, stored in rows
             if stored is not None]
    best = min((c for c in close if c[0] <= NEAR_DUPLICATE_BITS), default=None)
    near = session.get(ArticleRow, best[1]) if best else None
    return (near, "near_duplicate") if near is not None else None


def embed_prepared(prepared: PreparedArticle, embedder: Embedder) -> Embeddings:
    """Embed every passage and every distinct sentence of an article."""
    return embed_many([prepared], embedder)[0]


def embed_many(articles: Sequence[PreparedArticle], embedder: Embedder) -> list[Embeddings]:
    """Embed several articles' passages and sentences in one bulk call (`embed_bulk`): a
    sentence that appears in several passages or articles of the batch is embedded once, and
    the texts reach the model longest first, so batches of the torch backend hold texts of
    about one length and the ONNX backend's thread pool stays evenly loaded."""
    passage_texts: list[str] = []
    sentence_texts: list[str] = []
    layout = []
    for prepared in articles:
        sentences = prepared.unique_sentences()
        layout.append((len(passage_texts), len(sentence_texts), sentences))
        passage_texts += prepared.embedding_texts()
        sentence_texts += [prepared.text[a:b] for a, b in sentences]
    vectors = embed_bulk(embedder.embed, passage_texts + sentence_texts)
    passage_vectors, sentence_vectors = vectors[:len(passage_texts)], vectors[len(passage_texts):]
    out = []
    for prepared, (p0, s0, sentences) in zip(articles, layout, strict=True):
        row_of = {span: s0 + i for i, span in enumerate(sentences)}
        per_passage = tuple(
            sentence_vectors[[row_of[(p.start + a, p.start + b)] for a, b in p.sentences]]
            for p in prepared.passages
        )
        out.append(Embeddings(passage_vectors[p0:p0 + len(prepared.passages)], per_passage))
    return out


def store(session: Session, prepared: PreparedArticle, vectors: Embeddings,
          enrichers: Sequence[Enricher] = (), *,
          reach: Sequence[int] = (OPERATOR_GUILD,)) -> ArticleRow:
    """Insert the article, its passages, contributors and reach (the guilds that may see it,
    knowledge/visibility.py: by default the operator's library); the caller commits once.

    Raises AlreadyStored when a duplicate exists (checked again inside the transaction).
    """
    if len(vectors) != len(prepared.passages):
        raise ValueError("one vector per passage expected")
    dup = find_duplicate(session, prepared)
    if dup is not None:
        raise AlreadyStored(f"already in the library as #{dup.id} “{dup.title}”", dup.id)
    doc = prepared.document
    # A document without a date takes the dateline printed in its header, if any.
    published = doc.published or find_dateline(doc.text)
    row = ArticleRow(
        source_id=doc.source_id, slug=doc.slug, title=prepared.title, publisher=doc.publisher,
        published_iso=published.iso if published else None,
        published_precision=published.precision if published else None,
        published_start=published.start if published else None,
        published_end=published.end if published else None,
        language=doc.language, url=doc.url, canonical_url=doc.canonical_url,
        content_hash=prepared.content_hash, text=prepared.text,
        simhash=to_signed(prepared.simhash) if prepared.simhash is not None else None,
        **band_columns(prepared.simhash),
        original_text=prepared.original_text, added_at=utcnow(), announce=doc.announce,
        extra=doc.extra,
    )
    first_ids = next_ids(session)  # after a delete, never an id used before
    if first_ids is not None:
        row.id = first_ids[0]
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent writer stored the same article first
        raise AlreadyStored("already in the library (added concurrently)", -1) from exc
    passages = []
    for ordinal, (p, vec, sent_vecs) in enumerate(zip(prepared.passages, vectors.passages,
                                                      vectors.sentences, strict=True)):
        passage = PassageRow(
            article_id=row.id, ordinal=ordinal, text=p.text, char_start=p.start, char_end=p.end,
            embedding=np.asarray(vec, np.float32).tobytes(),
            sentence_spans=[list(s) for s in p.sentences],
            sentence_embeddings=np.asarray(sent_vecs, np.float16).tobytes(),
        )
        if first_ids is not None:
            passage.id = first_ids[1] + ordinal
        passages.append(passage)
    session.add_all(passages)
    # One link per person (what enrichment merges the text's mentions into): metadata may name
    # someone twice ("Anna Ivanova", "ANNA  IVANOVA" are one person); the first relation and
    # the first stated role are kept.
    links: dict[int, ArticlePersonRow] = {}
    for contributor in doc.contributors:
        if not names_someone(contributor.name):
            log.info("article #%d: metadata author %r names no one (a title or an "
                     "institution's words); not stored as an expert", row.id,
                     contributor.name[:80])
            continue
        person = get_or_create_person(session, contributor.name)
        link = links.get(person.id)
        if link is not None:
            link.role = link.role or contributor.role
            continue
        links[person.id] = ArticlePersonRow(
            article_id=row.id, person_id=person.id, relation=contributor.relation,
            role=contributor.role, evidence="metadata")
        session.add(links[person.id])
    session.flush()
    add_reach(session, row.id, reach)
    for enrich in enrichers:
        enrich(session, row, passages)
    return row


# ----- the one way in ---------------------------------------------------------------------------
REASON_TEXT = {
    "url": "same link",
    "content": "same text",
    "near_duplicate": "a near-copy of it",
    "entry_id": "an edited feed entry",
}


def add_document(library: Library, doc: Document, *, label: str | None = None,
                 origin: Origin = OPERATOR) -> AddResult:
    """Add one document (see `add_documents`)."""
    return add_documents(library, [doc], labels=[label], origins=[origin])[0]


def add_documents(library: Library, docs: Sequence[Document], *,
                  labels: Sequence[str | None] | None = None, chunk: int = 32,
                  progress: ProgressCallback | None = None,
                  origins: Sequence[Origin] | None = None) -> list[AddResult]:
    """Add documents, embedding them in shared batches; one AddResult per document, in order.

    Each article is stored in its own transaction, with its reach and (``origin.new_source``)
    its source row: a failure or a kill loses at most the article being written, never one
    already stored, and never leaves an article without its source. A duplicate records its
    reach too. Derived data (people, meeting links: ``library.enrichers``) is stored in the
    article's own transaction, so no article is ever stored without it. The next batch is
    embedded while one is stored; the in-memory index is refreshed after each batch.
    """
    names = list(labels) if labels is not None else [None] * len(docs)
    froms = list(origins) if origins is not None else [OPERATOR] * len(docs)
    results: list[AddResult | None] = [None] * len(docs)
    todo: list[tuple[int, PreparedArticle, str]] = []
    for i, (doc, given) in enumerate(zip(docs, names, strict=True)):
        name = given or doc.url or doc.title or "document"
        try:
            prepared = prepare(doc)
        except KnowledgeError as exc:
            log.info("refused %s: %s", name, exc)
            results[i] = AddResult(name, "error", str(exc))
            continue
        with library.read() as session:
            found = find_duplicate_with_reason(session, prepared)
            seen = (found[0].id, found[0].title, found[1]) if found else None
        if seen is not None:
            results[i] = _seen_again(library, prepared, name, *seen, origin=froms[i])
            continue
        todo.append((i, prepared, name))
    # The next batch is embedded while this one is stored and enriched (Python work that
    # holds the GIL; onnxruntime and torch release it): the model keeps the cores busy that
    # storing alone would leave idle.
    batches = [todo[start:start + chunk] for start in range(0, len(todo), chunk)]
    done = 0
    with ThreadPoolExecutor(1, thread_name_prefix="ingest-embed") as ahead:
        def embed(n: int) -> Future[list[Embeddings]] | None:
            if n >= len(batches):
                return None
            return ahead.submit(embed_many, [p for _, p, _ in batches[n]], library.embedder)

        upcoming = embed(0)
        for n, batch in enumerate(batches):
            assert upcoming is not None
            vectors = upcoming.result()
            upcoming = embed(n + 1)
            for (i, prepared, name), vecs in zip(batch, vectors, strict=True):
                results[i] = _store(library, prepared, vecs, name, froms[i])
            library.refresh_index()
            done += len(batch)
            if progress:
                progress(done, len(todo))
    return [r for r in results if r is not None]


def _store(library: Library, prepared: PreparedArticle, vectors: Embeddings, label: str,
           origin: Origin = OPERATOR) -> AddResult:
    """Store one embedded article, its reach and its new source in one transaction; a late
    duplicate becomes an appearance."""
    try:
        with library.write() as session:
            row = store(session, prepared, vectors, library.enrichers, reach=origin.guilds)
            article_id = row.id
            if origin.new_source is not None:
                row.source_id = origin.new_source(session, row)
    except AlreadyStored as exc:
        # Another writer stored the same article between our check and our insert.
        with library.read() as session:
            found = find_duplicate_with_reason(session, prepared)
            seen = (found[0].id, found[0].title, found[1]) if found else None
        if seen is None:
            return AddResult(label, "duplicate", str(exc),
                             article_id=exc.article_id if exc.article_id > 0 else None)
        return _seen_again(library, prepared, label, *seen, origin=origin)
    log.info("added article #%d %r (%d passages)", article_id, prepared.title,
             len(prepared.passages))
    count = len(prepared.passages)
    return AddResult(label, "added", f"added #{article_id} “{prepared.title}” "
                     f"({count} passage{'s' * (count != 1)})", article_id=article_id,
                     title=prepared.title, passages=len(prepared.passages))


def _seen_again(library: Library, prepared: PreparedArticle, label: str, article_id: int,
                title: str, reason: str, *, origin: Origin) -> AddResult:
    """Record that a stored article was met again (and reached ``origin.guilds``), and say so,
    naming the source its adder got now (``origin.adopt_source``), which it lists and removes
    like any other: what an adder is told it has is what it sees."""
    doc = prepared.document
    adopted = record_appearance(library, article_id, source_id=doc.source_id, url=doc.url,
                                title=prepared.title, reason=reason, guilds=origin.guilds,
                                adopt=origin.adopt_source)
    yours = f"; now yours too, as source #{adopted}" if adopted is not None else ""
    return AddResult(label, "duplicate",
                     f"already in the library as #{article_id} “{title}” ({REASON_TEXT[reason]})"
                     f"{yours}", article_id=article_id, title=title, adopted_source=adopted)


def record_appearance(library: Library, article_id: int, *, source_id: int | None,
                      url: str | None, title: str | None, reason: str,
                      guilds: Sequence[int] = (), adopt: SourceAdopter | None = None
                      ) -> int | None:
    """Note that a stored article was seen again (same link, same text, a near-copy, an edited
    feed entry), and why; the guilds it came through may see it from now on (it is news there
    from now). With ``adopt``, its adder gets a source of it first (in the same transaction,
    before the new reach): returns that source's id, recorded on the appearance, or None."""
    adopted = None
    with library.write() as session:
        now = utcnow()  # the article is news from now for a guild it newly reaches
        article = session.get(ArticleRow, article_id)
        if adopt is not None and article is not None:
            adopted = adopt(session, article, now)
        session.add(ArticleAppearanceRow(
            article_id=article_id, source_id=source_id if adopted is None else adopted,
            url=url, title=title, reason=reason, seen_at=now))
        if article is not None:
            add_reach(session, article_id, guilds, reached_at=now)
    if guilds:
        library.refresh_index()  # the index picks up the new reach
    log.info("article #%d seen again (%s)%s", article_id, reason,
             f", now through source #{adopted}" if adopted is not None else "")
    return adopted


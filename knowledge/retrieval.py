"""Retrieval: a question and its filters, validated, ranked over the library's hybrid index.

Every search-backed feature (questions, an expert's views on a topic, a meeting's commentary on a
topic, comparisons) goes through `Retriever.search`, so validation, filters and the no-match rule
are the same everywhere.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.errors import BadInput, NotFound
from knowledge.index.hybrid import publisher_fits
from knowledge.index.types import Browse, Filters, NamesCheck, NoMatchRule
from knowledge.library import Library
from knowledge.models import Hit, PartialDate
from knowledge.store import queries
from knowledge.store.tables import ArticlePersonRow, PassageRow
from knowledge.text.clean import echo
from knowledge.text.remote import visible_text
from knowledge.text.split import split_sentences
from knowledge.text.tokens import request_stems, tokenize
from knowledge.understand import Interpretation, PersonReading, QuestionReader
from knowledge.understand.times import Period

MAX_TOP = 50
QUERY_VECTORS_KEPT = 64
# Questions embedded at once (torch's micro-batching gathers concurrent ones; ONNX runs each
# in its own thread, outside the GIL).
EMBEDDING_WORKERS = 8
EMBED_ALONGSIDE_FROM = 20_000  # passages (see Retriever._embed_soon)
# Within a narrowed pool (one expert's passages, one meeting's commentary) a passage is shown
# only when it shares a word with the topic or clears the no-match threshold by this much:
# among a pool's few passages the next best are often merely the least unrelated (measured on
# the founding corpus: unrelated passages score 0.20-0.34 cosine with no shared word, passages
# on the topic 0.37 and up or share its words; docs/benchmarks.md "Narrowed searches").
NARROWED_DENSE_MARGIN = 0.05


@dataclasses.dataclass(frozen=True, slots=True)
class SearchRequest:
    """A question and its filters, as a user gave them."""

    query: str
    top: int = 5
    person: str | None = None
    publisher: str | None = None
    since: PartialDate | None = None
    until: PartialDate | None = None
    # Whose view (knowledge/visibility.py): None every article, 0 the operator's library
    # alone (a DM), else a server's id. Required: a caller that forgot it would see all.
    guild_id: int | None = dataclasses.field(kw_only=True)


def validate_query(query: str, limit: int, what: str = "question") -> str:
    """A question (or a topic: `what`) with its whitespace tidied and its invisible
    characters (zero-width, direction overrides) gone; BadInput when nothing is left or it is
    over ``limit`` chars."""
    query = visible_text(query)
    if not query:
        raise BadInput(f"the {what} is empty")
    if len(query) > limit:
        raise BadInput(f"the {what} is too long ({len(query)} characters; the limit is "
                       f"{limit})")
    return query


class Retriever:
    """Hybrid search over the library's index, with filters and the no-match rule."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self.reader = QuestionReader(library.read)
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._vectors_lock = threading.Lock()
        # (question, index version) -> its reading: /ask reads a question to rank it and again
        # for the "read as" line of its answer.
        self._readings: OrderedDict[tuple[str, object, int | None], Interpretation] = OrderedDict()
        # Questions are embedded here while the question is read and BM25 ranks it (the model
        # runs outside the GIL, on the other core); made on first use.
        self._embedding: ThreadPoolExecutor | None = None

    @property
    def no_match_rule(self) -> NoMatchRule:
        """The calibrated no-match decision (bench/retrieval_eval.py, docs/benchmarks.md)."""
        s = self.library.settings
        return NoMatchRule(s.no_match_threshold, s.no_match_lexical_floor,
                           s.no_match_lexical_coverage, s.no_match_names_margin,
                           s.no_match_names_ceiling)

    def validate(self, query: str, what: str = "question") -> str:
        """Trim a question (or a topic: `what`) and refuse empty or overlong ones
        (SEARCH_MAX_QUERY_CHARS)."""
        return validate_query(query, self.library.settings.search_max_query_chars, what)

    def person_article_ids(self, name: str, guild_id: int | None) -> frozenset[int]:
        """Articles of the experts (of those ``guild_id`` may see) a loosely written name
        ("akiyama") or a description ("the Kyoto professor") denotes, through the one person
        matcher; NotFound when nobody."""
        return self._articles_of(self._people(name, guild_id))

    def _articles_of(self, people: frozenset[int]) -> frozenset[int]:
        """The articles these experts are people of."""
        with self.library.read() as session:
            ids = session.scalars(select(ArticlePersonRow.article_id).where(
                ArticlePersonRow.person_id.in_(people)))
            return frozenset(ids)

    def match_experts(self, name: str, guild_id: int | None
                      ) -> tuple[PersonReading, ...]:
        """The experts (of those ``guild_id`` may see) a loosely written name ("akiyama",
        "D. Streltsov", "Togo's") or a description ("the Kyoto professor") denotes: the one
        person matcher of /expert, the expert filter and the question reader. BadInput when
        the name is blank, NotFound when nobody fits."""
        if not name.strip():
            raise BadInput("the expert's name is empty")
        people = self.reader.match_people(name, version=self.library.index.version,
                                          viewer=guild_id)
        if not people:
            raise NotFound(f"no expert matches “{echo(name)}”",
                           listing="experts")
        return people

    def _people(self, name: str, guild_id: int | None) -> frozenset[int]:
        """The ids of the experts an expert filter names."""
        return frozenset(p.expert_id for p in self.match_experts(name, guild_id))

    def check_publisher(self, name: str, visible_to: int | None) -> None:
        """NotFound unless some article the viewer may see has a publisher containing ``name``
        (case-insensitive, as the index's publisher filter matches); BadInput when blank."""
        if not name.strip():
            raise BadInput("the publisher's name is empty")
        index = self.library.index
        articles = index.articles
        for article_id in index.visible_article_ids(visible_to):
            article = articles.get(article_id)
            if article is not None and article.publisher \
                    and publisher_fits(name, article.publisher):
                return
        raise NotFound(f"no publisher called “{echo(name)}” in the library")

    def search(self, request: SearchRequest, *, filters: Filters | None = None) -> list[Hit]:
        """Rank passages for a question; [] means no good match."""
        query = self.validate(request.query)
        if not 1 <= request.top <= MAX_TOP:
            raise BadInput(f"top must be between 1 and {MAX_TOP}")
        check_period(request.since, request.until)
        base = filters or Filters()
        article_ids = base.article_ids
        named = None  # the experts the expert filter names (matched once per search)
        if request.person is not None:  # (a blank name is BadInput, never ignored)
            named = self._people(request.person, request.guild_id
                                 if request.guild_id is not None else base.visible_to)
            person_ids = self._articles_of(named)
            article_ids = person_ids if article_ids is None else article_ids & person_ids
        filters = dataclasses.replace(
            base, article_ids=article_ids,
            publisher=request.publisher.strip() if request.publisher else base.publisher,
            since=request.since.start if request.since else base.since,
            until=request.until.end if request.until else base.until,
            visible_to=request.guild_id if request.guild_id is not None else base.visible_to,
        )
        if request.publisher is not None:
            self.check_publisher(request.publisher, filters.visible_to)
        index = self.library.index
        given = [(label, value) for label, value in (
            ("expert", request.person), ("publisher", request.publisher),
            ("since", request.since), ("until", request.until)) if value is not None]
        if len(given) > 1 and (request.person is not None or request.publisher is not None) \
                and not index.allows_any(filters):
            # each name alone was checked above (a name nobody has is NotFound); with another
            # filter they may still leave nothing: say so rather than "no good match" (a period
            # with no article keeps "no good match", which repeats the question)
            raise NotFound("no article in the library fits these filters together ("
                           + ", ".join(f"{label}: {echo(str(value))}" for label, value in given)
                           + "); drop one to search more widely")
        # Who, when and which meeting the question means: evidence for the ranking, not a filter.
        vector = self._embed_soon(query)
        reading = self._narrowed(self._read(query, index.version, filters.visible_to),
                                 request, filters.visible_to, named)
        evidence = self.reader.evidence(reading, version=index.version)
        ranked = index.search(tokenize(query), vector, top=request.top, filters=filters,
                              min_similarity=self.library.settings.hit_min_similarity,
                              no_match=self.no_match_rule, evidence=evidence, feedback=True,
                              names=self._names_check(query, index.version, reading),
                              browse=_browse(reading))
        return [Hit(passage_id=r.passage_id, article=index.articles[r.article_id],
                    passage=r.text, highlight=r.highlight, score=r.score, dense_score=r.dense,
                    bm25_score=r.bm25, why=r.why)
                for r in ranked if r.article_id in index.articles]

    def search_within(self, request: SearchRequest, passage_ids: Iterable[int]) -> list[Hit]:
        """`search` among the given passages only (an expert's, a meeting's), keeping the hits
        that are on the topic by themselves: a shared word (BM25 > 0) or a dense cosine at
        least NARROWED_DENSE_MARGIN above the no-match threshold. [] when none is."""
        self.validate(request.query, "topic")  # (a narrowed search is on a topic)
        pool = frozenset(passage_ids)
        if not pool:
            return []
        floor = self.library.settings.no_match_threshold + NARROWED_DENSE_MARGIN
        return [hit for hit in self.search(request, filters=Filters(passage_ids=pool))
                if hit.bm25_score > 0 or hit.dense_score >= floor]

    def _embed_soon(self, query: str) -> np.ndarray | Future[np.ndarray]:
        """The question's vector if remembered; for a large index its embedding under way in a
        worker (BM25 over 100k passages takes long enough to hide part of it), else computed
        here: on a small index the worker's return waits for this thread's GIL (measured +10%)."""
        if len(self.library.index) < EMBED_ALONGSIDE_FROM:
            return self.embed_query(query)
        with self._vectors_lock:
            vector = self._vectors.get(query)
            if vector is not None:
                self._vectors.move_to_end(query)
                return vector
            if self._embedding is None:
                self._embedding = ThreadPoolExecutor(EMBEDDING_WORKERS,
                                                     thread_name_prefix="question-embed")
            return self._embedding.submit(self.embed_query, query)

    def close(self) -> None:
        """Stop the embedding workers (questions under way finish)."""
        with self._vectors_lock:
            pool, self._embedding = self._embedding, None
        if pool is not None:
            pool.shutdown(wait=False)

    def embed_query(self, query: str) -> np.ndarray:
        """The question's vector, remembered for the last few questions: /compare searches once
        per expert and "More" repeats a question, and neither should pay the model again."""
        with self._vectors_lock:
            vector = self._vectors.get(query)
            if vector is not None:
                self._vectors.move_to_end(query)
                return vector
        vector = self.library.embedder.embed_query(query)
        vector.setflags(write=False)
        with self._vectors_lock:
            self._vectors[query] = vector
            while len(self._vectors) > QUERY_VECTORS_KEPT:
                self._vectors.popitem(last=False)
        return vector

    def forget_questions(self) -> None:
        """Drop the remembered question vectors and readings (a benchmark asking the same
        question twice times the whole path both times)."""
        with self._vectors_lock:
            self._vectors.clear()
            self._readings.clear()

    def interpret(self, query: str, guild_id: int | None) -> Interpretation:
        """Who, when and which meeting a question was read to be about (knowledge/understand),
        among the experts ``guild_id`` may see."""
        return self._read(self.validate(query), self.library.index.version, guild_id)

    def reading(self, request: SearchRequest) -> Interpretation:
        """The reading `search` ranks a request's question by: `interpret`, narrowed by the
        request's explicit filters (`_narrowed`), so a "read as" line never claims an expert,
        a period or a meeting the filters rule out."""
        query = self.validate(request.query)
        return self._narrowed(self._read(query, self.library.index.version, request.guild_id),
                              request, request.guild_id)

    def _narrowed(self, reading: Interpretation, request: SearchRequest,
                  viewer: int | None, named: frozenset[int] | None = None) -> Interpretation:
        """The part of a reading the explicit filters leave room for: with an expert filter,
        only the read experts it names (`named`, when the caller matched the filter already);
        with --since/--until, each read window clipped to them (dropped when outside) and only
        the read meetings inside them."""
        if not reading or not (request.person or request.since or request.until):
            return reading
        people = reading.people
        if request.person and people:
            if named is None:
                named = self._people(request.person, viewer)
            people = tuple(p for p in people if p.expert_id in named)
        low = request.since.start if request.since else dt.date.min
        high = request.until.end if request.until else dt.date.max
        windows = []
        for window in reading.windows:
            if window.start < low or window.end > high:
                start, end = max(window.start, low), min(window.end, high)
                if start > end:
                    continue
                window = Period(start, end, _span_label(start, end))
            windows.append(window)
        meetings = tuple(m for m in reading.meetings if m.start <= high and m.end >= low)
        return Interpretation(people, tuple(windows), meetings)

    def _read(self, query: str, version: tuple[int, ...], viewer: int | None) -> Interpretation:
        """The reader's interpretation, remembered for the last few questions at this version
        of the index and viewer (the reading depends on nothing else)."""
        key = (query, version, viewer)
        with self._vectors_lock:
            found = self._readings.get(key)
            if found is not None:
                self._readings.move_to_end(key)
                return found
        reading = self.reader.interpret(query, version=version, viewer=viewer)
        with self._vectors_lock:
            self._readings[key] = reading
            while len(self._readings) > QUERY_VECTORS_KEPT:
                self._readings.popitem(last=False)
        return reading

    def is_answerable(self, query: str, vector: np.ndarray, filters: Filters) -> bool:
        """Whether a question gets any hits at all (used by the calibration benchmark)."""
        index = self.library.index
        reading = self._read(query, index.version, filters.visible_to)
        return bool(index.search(tokenize(query), vector, top=1, filters=filters,
                                 no_match=self.no_match_rule,
                                 names=self._names_check(query, index.version, reading),
                                 evidence=self.reader.evidence(reading, version=index.version),
                                 browse=_browse(reading)))

    def _names_check(self, query: str, version: tuple[int, ...],
                     reading: Interpretation | None = None) -> NamesCheck | None:
        """The names the question carries, for the no-match rule (their vector embedded only
        if the rule asks for it, and remembered like a question's). The period the question
        was read to name is no more its topic than its names are: "weather in Moscow in
        January 2019" says "weather" besides them, not "January" and "2019"."""
        found = self.reader.names_in(query, version=version)
        if found is None:
            return None
        names, rest = found
        if reading is not None and reading.windows:
            dates = frozenset(tokenize(" ".join(w.label for w in reading.windows)))
            rest = tuple(t for t in rest
                         if t not in dates and not any(c.isdigit() for c in t))
        return NamesCheck(rest, lambda: self.embed_query(names))


def check_period(since: PartialDate | None, until: PartialDate | None) -> None:
    """BadInput when the start date is after the end date; worded for every adapter (a CLI's
    --since, a slash command's since:)."""
    if since and until and since.start > until.end:
        raise BadInput(f"the start date ({since.display()}) is after the end date "
                       f"({until.display()})")


def _browse(reading: Interpretation) -> Browse | None:
    """The stems of a reading (its experts' words as typed, periods and meetings as labelled)
    and of the words asking for commentary, for a question that may ask only for what its
    reading names (`Browse`); None without a reading."""
    if not reading:
        return None
    text = " ".join([*(w for p in reading.people for w in (*p.words, p.name)),
                     *(w.label for w in reading.windows),
                     *(m.name for m in reading.meetings)])
    return Browse(frozenset(tokenize(text)) | request_stems(), dated=bool(reading.windows))


def _span_label(start: dt.date, end: dt.date) -> str:
    """A clipped window's label: "March 2017", "March – December 2017", "2016 – 2017"."""
    if (start.year, start.month) == (end.year, end.month):
        return f"{start:%B %Y}"
    if start.year == end.year:
        return f"{start:%B} – {end:%B %Y}"
    return f"{start:%B %Y} – {end:%B %Y}"


def unranked_hits(session: Session, passage_ids: Iterable[int],
                  highlights: dict[int, str] | None = None,
                  scores: dict[int, float] | None = None) -> list[Hit]:
    """Passages as hits without a query (score from ``scores``, default 0), in the given order;
    the highlight is the given sentence or the passage's first sentence."""
    ids = list(dict.fromkeys(passage_ids))
    if not ids:
        return []
    rows = {r.id: r for r in session.scalars(select(PassageRow).where(PassageRow.id.in_(ids)))}
    summaries = queries.article_summaries(session, {r.article_id for r in rows.values()})
    hits = []
    for pid in ids:
        row = rows.get(pid)
        if row is None or row.article_id not in summaries:
            continue
        highlight = (highlights or {}).get(pid) or _first_sentence(row.text)
        score = (scores or {}).get(pid, 0.0)
        hits.append(Hit(passage_id=pid, article=summaries[row.article_id], passage=row.text,
                        highlight=highlight, score=score, dense_score=0.0, bm25_score=0.0))
    return hits


def _first_sentence(text: str) -> str:
    spans = split_sentences(text)
    return spans[0].text if spans else text[:300]

"""Hybrid retrieval: dense cosines and BM25 scores added (the single-signal modes fuse ranks),
diversified across articles.

Two optional inputs sharpen the ranking without ever filtering: `Evidence` (what the question
was read to be about: an expert, a date window, a meeting; knowledge/understand) adds a bounded
bonus to the passages it fits, and pseudo-relevance feedback adds to the BM25 side the library's
own words that dominate the best dense passages, so a paraphrase that shares no word with its
answer still gets lexical support.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future

import numpy as np

from knowledge.index.bm25 import BM25Index
from knowledge.index.dense import DenseIndex, DenseScores
from knowledge.index.ranking import (
    best_sentence,
    diversified,
    sentence_terms,
    top_positions,
    union,
    why_ranked,
)
from knowledge.index.rows import Rows
from knowledge.index.types import (
    Browse,
    Evidence,
    Filters,
    IndexedPassage,
    NamesCheck,
    NoMatchRule,
    RankedPassage,
)
from knowledge.models import ArticleSummary
from knowledge.text.clean import fold, folded_words
from knowledge.text.tokens import tokenize
from knowledge.visibility import guilds_seen_by

# Fusion constants, tuned with bench/retrieval_eval.py (docs/benchmarks.md). The single-ranker
# modes ("dense", "bm25") order by reciprocal rank; the hybrid adds scores, not ranks, so how
# far ahead a passage is counts: the dense signal (passage cosine + best sentence cosine, an
# absolute scale), plus BM25_SHARE times its BM25 score as a share of the best candidate's,
# plus EVIDENCE_SHARE times the evidence it fits (0..1 for each part of the reading it fits).
RRF_K = 10
BM25_WEIGHT = 0.7  # the BM25 ranking's weight in the rank-fused `why` order
BM25_SHARE = 0.2
CANDIDATES = 100  # per ranker, before fusion
# Each further passage of an already-chosen article counts for less, on an open question: on
# the benchmark's questions the top five then span as many articles as the rank-fused
# ranking's did (4.25). A question read as one expert, meeting or time (evidence) wants the
# passages that fit it, however few articles hold them: no discount then (MRR +0.01 to +0.05
# on every question set, docs/benchmarks.md).
SAME_ARTICLE_DECAY = 0.8
# Evidence read from the question: bounded (a passage fitting one part of the reading fully,
# the expert, the time or the meeting, gains 0.3, about what a clearly better sentence match
# gives), so a wrong reading moves the right passage down a few places and never hides it.
# Each part counts: a passage by the expert asked about *and* of the year asked about beats
# one that is only by the expert ("What did Akiyama write in 2015?": his 2015 article, not
# his 2017 one, whose words happen to be closer).
EVIDENCE_SHARE = 0.3
EVIDENCE_CANDIDATES = 50  # best dense passages among those the evidence names, added as candidates
# Up to this many named passages, their exact cosines are computed directly (cheaper than the
# int8 estimate's pass over every row at 100k passages; the same passages either way).
EXACT_EVIDENCE_ROWS = 1000
# Pseudo-relevance feedback: words of the best dense passages, weighted into the BM25 query,
# only when those passages agree (the best two come from one article).
FEEDBACK_PASSAGES = 5
FEEDBACK_TERMS = 8
FEEDBACK_WEIGHT = 0.3
FEEDBACK_BELOW = 0.5  # only when the best BM25 passage holds less of the question's words
# Hits under the similarity floor are still shown when the reading fits them this well, down
# to this much under the floor.
EVIDENCE_FLOOR_FIT = 0.5
EVIDENCE_FLOOR_RELIEF = 0.05
# The no-match rule's names check applies when fewer than this share of the words a question
# says besides its names occur in the library ("weather", "cheap hotels"; NoMatchRule).
NAMES_KNOWN_SHARE = 0.5
FEEDBACK_MAX_DF = 0.1  # words in more than this share of passages say nothing about a topic
TERMS_CACHE = 4096  # passages whose BM25 terms stay cached
# The hybrid score of a passage ranked first by both signals and fitting evidence of one part
# (each further part of the reading adds EVIDENCE_SHARE to it).
FUSED_BEST = 2.0 + BM25_SHARE + EVIDENCE_SHARE
_NO_DATE_START = dt.date.min.toordinal()
_NO_DATE_END = dt.date.max.toordinal()


def _overlaps(start: int, end: int, span: tuple[dt.date, dt.date]) -> bool:
    """Whether a dated article's publication period (ordinals) overlaps a span of dates."""
    return start != _NO_DATE_START and start <= span[1].toordinal() and end >= span[0].toordinal()


def _within(start: int, end: int, span: tuple[dt.date, dt.date]) -> bool:
    """Whether a dated article's publication period (ordinals) lies within a span of dates."""
    return start != _NO_DATE_START and start >= span[0].toordinal() and end <= span[1].toordinal()


def bm25_document(article: ArticleSummary, text: str) -> list[str]:
    """Tokens BM25 sees for a passage: its text plus the article's title and publisher."""
    return tokenize(f"{article.title}\n{article.publisher or ''}\n{text}")


def embedding_document(article: ArticleSummary, text: str) -> str:
    """Text the dense model sees for a passage: the title gives context to a lone paragraph."""
    return f"{article.title}\n{text}"


_NO_FILTERS = Filters()


def publisher_fits(wanted: str, publisher: str) -> bool:
    """Whether a publisher filter ("valdai club", "Tokyo Foundation", "east asia") means this
    publisher ("Valdai Discussion Club"): every word typed begins a word of its name, in any
    order; case and accents do not count."""
    typed = folded_words(wanted)
    names = folded_words(publisher)
    return bool(typed) and all(any(n.startswith(t) for n in names) for t in typed)


def publisher_suggested(typed: str, publisher: str) -> bool:
    """Whether autocomplete offers this publisher for what was typed: whenever the filter
    accepts it (`publisher_fits`), and also when its name contains the text ("dai" offers
    "Valdai Discussion Club"); folded alike, so "sudd" offers "Süddeutsche Zeitung"."""
    needle = " ".join(fold(typed).split())
    return needle in " ".join(fold(publisher).split()) or publisher_fits(typed, publisher)


class _SentenceSims:
    """One search's sentence cosines: `best[i]` is the best of the i-th asked position's
    sentences; `sims[pos]` all of that passage's (for its highlight)."""

    __slots__ = ("_flat", "_where", "best")

    def __init__(self, flat: np.ndarray, where: dict[int, tuple[int, int]],
                 best: list[float]) -> None:
        self._flat, self._where, self.best = flat, where, best

    def __getitem__(self, pos: int) -> np.ndarray:
        a, b = self._where[pos]
        return self._flat[a:b]


@dataclasses.dataclass(frozen=True, slots=True)
class _SentenceRows:
    """Some passages' sentence vectors, one block: `sizes[i]` rows for `positions[i]`."""

    positions: list[int]
    block: np.ndarray
    sizes: list[int]


class HybridIndex:
    """All indexed passages in memory, with their article metadata; thread-safe."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._lock = threading.RLock()
        self._bm25 = BM25Index()
        self._dense = DenseIndex(dim)
        self._passage_ids: list[int] = []
        self._article_of: list[int] = []
        # Rows: lists that may start as the index cache file's rows (knowledge/index/rows.py).
        self._texts: Rows[str] = Rows()
        self._sentence_spans: Rows[tuple[tuple[int, int], ...]] = Rows()
        self._sentence_vectors: Rows[np.ndarray] = Rows()
        # For the rows from the index cache file: how many, their offsets into its sentence
        # vectors, and a reader of several passages' rows at once (None: no cache rows).
        self._sentence_read: tuple[int, list[int],
                                   Callable[[Sequence[tuple[int, int]]], np.ndarray]] | None = None
        self._alive = np.ones(0, dtype=bool)
        self._arrays_dirty = True
        self._article_pos: np.ndarray = np.zeros(0, dtype=np.int64)
        self._start_pos: np.ndarray = np.zeros(0, dtype=np.int64)
        self._end_pos: np.ndarray = np.zeros(0, dtype=np.int64)
        self._pid_pos: np.ndarray = np.zeros(0, dtype=np.int64)
        self._position_of: dict[int, int] = {}
        # BM25 terms of recently read passages (feedback and coverage read a few per search).
        self._terms_cache: OrderedDict[int, Counter[str]] = OrderedDict()
        # Each sentence's tokens, for the highlights of recently returned passages.
        self._sentence_terms_cache: OrderedDict[int, tuple[frozenset[str], ...]] = OrderedDict()
        self.articles: dict[int, ArticleSummary] = {}
        # Title and publisher lines (the BM25 header) of passages loaded from the index cache
        # whose article was deleted before the load: its removal still needs their terms.
        self._orphan_headers: dict[int, str] = {}
        self.max_passage_id = 0
        # Which guilds each article reached (OPERATOR_GUILD: the operator's library), and per
        # viewer a cached boolean mask over passage positions, extended as passages are
        # appended. Who sees what is visibility.guilds_seen_by, the rule the SQL side uses.
        self._reach: dict[int, set[int]] = {}
        self._visible: dict[int, np.ndarray] = {}
        self.max_reach_id = 0

    def __len__(self) -> int:
        return int(self._alive.sum()) if len(self._alive) else 0

    @property
    def version(self) -> tuple[int, int, int]:
        """Changes when passages or articles are added or removed, or an article reaches
        another server (caches key on it)."""
        return self.max_passage_id, len(self.articles), self.max_reach_id

    def add(self, article: ArticleSummary, passages: Iterable[IndexedPassage]) -> None:
        """Add (or refresh the metadata of) an article and append its passages."""
        items = list(passages)
        with self._lock:
            self.articles[article.id] = article
            if not items:
                return
            self._dense.add(np.stack([p.embedding for p in items]))
            for p in items:
                self._bm25.add(bm25_document(article, p.text))
                self._passage_ids.append(p.passage_id)
                self._article_of.append(p.article_id)
                self._texts.append(p.text)
                self._sentence_spans.append(p.sentence_spans)
                self._sentence_vectors.append(np.asarray(p.sentence_embeddings, np.float16))
                self.max_passage_id = max(self.max_passage_id, p.passage_id)
            self._alive = np.concatenate([self._alive, np.ones(len(items), dtype=bool)])
            self._arrays_dirty = True

    def remove_article(self, article_id: int) -> None:
        """Stop returning an article's passages (positions stay, masked out)."""
        with self._lock:
            article = self.articles.pop(article_id, None)
            header = f"{article.title}\n{article.publisher or ''}" if article is not None \
                else self._orphan_headers.pop(article_id, None)
            self._refresh_arrays()
            gone = self._alive & (self._article_pos == article_id)
            if header is not None:  # BM25 statistics as if the passages had never been added
                for pos in np.flatnonzero(gone).tolist():  # (the tokens bm25_document made)
                    self._bm25.remove(pos, tokenize(f"{header}\n{self._texts[pos]}"))
            self._alive &= ~gone

    # ----- visibility (knowledge/visibility.py) --------------------------------------------
    def add_reach(self, rows: Iterable[tuple[int, int, int]]) -> None:
        """Record (reach id, article id, guild id) rows: the guild may now see the article."""
        with self._lock:
            changed: list[tuple[int, int]] = []
            for reach_id, article_id, guild_id in rows:
                self.max_reach_id = max(self.max_reach_id, reach_id)
                guilds = self._reach.setdefault(article_id, set())
                if guild_id not in guilds:
                    guilds.add(guild_id)
                    changed.append((article_id, guild_id))
            if not changed or not self._visible:
                return
            if len(changed) > 256:  # a bulk load: rebuilding on the next search is cheaper
                self._visible.clear()
                return
            self._refresh_arrays()
            for article_id, guild_id in changed:
                for viewer, mask in self._visible.items():
                    if guild_id in guilds_seen_by(viewer):
                        mask[np.flatnonzero(self._article_pos[:len(mask)] == article_id)] = True

    def _visible_mask(self, viewer: int) -> np.ndarray:
        """Passage positions the viewer may see (cached; new positions computed on demand)."""
        n = len(self._article_of)
        mask = self._visible.get(viewer, np.zeros(0, dtype=bool))
        if len(mask) < n:
            seen = frozenset(guilds_seen_by(viewer))
            if n - len(mask) > 1000:  # many positions (the first search): one vectorised pass
                self._refresh_arrays()
                allowed = np.fromiter((aid for aid, guilds in self._reach.items()
                                       if not seen.isdisjoint(guilds)), dtype=np.int64)
                extra = np.isin(self._article_pos[len(mask):n], allowed)
            else:
                extra = np.fromiter((not seen.isdisjoint(self._reach.get(aid, ()))
                                     for aid in self._article_of[len(mask):n]), dtype=bool,
                                    count=n - len(mask))
            mask = np.concatenate([mask, extra])
            self._visible[viewer] = mask
        return mask

    def visible_article_ids(self, viewer: int | None) -> frozenset[int]:
        """Ids of the indexed articles the viewer may see (every one for None)."""
        return frozenset(a.id for a in self.visible_articles(viewer))

    def visible_articles(self, viewer: int | None) -> list[ArticleSummary]:
        """The summaries of the indexed articles the viewer may see (every one for None), from
        memory: what autocomplete filters on every keystroke without reading the database."""
        with self._lock:
            if viewer is None:
                return list(self.articles.values())
            seen = frozenset(guilds_seen_by(viewer))
            return [a for aid, a in self.articles.items()
                    if not seen.isdisjoint(self._reach.get(aid, ()))]

    def _refresh_arrays(self) -> None:
        if not self._arrays_dirty:
            return
        self._article_pos = np.asarray(self._article_of, dtype=np.int64)
        self._pid_pos = np.asarray(self._passage_ids, dtype=np.int64)
        self._position_of = {pid: pos for pos, pid in enumerate(self._passage_ids)}
        # Publication periods per article once, then spread over its passages (at 100k
        # passages a loop per passage took ~0.5 s of the first search).
        ids = np.fromiter(self.articles, dtype=np.int64, count=len(self.articles))
        periods = np.asarray(
            [(a.published.start.toordinal(), a.published.end.toordinal()) if a.published
             else (_NO_DATE_START, _NO_DATE_END) for a in self.articles.values()],
            dtype=np.int64).reshape(-1, 2)
        order = np.argsort(ids)
        ids, periods = ids[order], periods[order]
        at = np.minimum(np.searchsorted(ids, self._article_pos), max(len(ids) - 1, 0))
        known = ids[at] == self._article_pos if len(ids) else \
            np.zeros(len(self._article_pos), dtype=bool)
        self._start_pos = np.where(known, periods[at, 0] if len(ids) else 0, _NO_DATE_START)
        self._end_pos = np.where(known, periods[at, 1] if len(ids) else 0, _NO_DATE_END)
        self._arrays_dirty = False

    def _mask(self, filters: Filters) -> np.ndarray:
        if filters == _NO_FILTERS:
            return self._alive
        mask = self._alive.copy()
        if filters.article_ids is not None:
            mask &= np.isin(self._article_pos, np.fromiter(filters.article_ids, dtype=np.int64))
        if filters.passage_ids is not None:
            mask &= np.isin(self._pid_pos, np.fromiter(filters.passage_ids, dtype=np.int64))
        if filters.visible_to is not None:
            mask &= self._visible_mask(filters.visible_to)
        if filters.publisher:
            ids = [a.id for a in self.articles.values()
                   if a.publisher and publisher_fits(filters.publisher, a.publisher)]
            mask &= np.isin(self._article_pos, np.asarray(ids, dtype=np.int64))
        # Partial dates: an article counts when its period overlaps the requested range.
        if filters.since:
            mask &= self._end_pos >= filters.since.toordinal()
            mask &= self._end_pos != _NO_DATE_END
        if filters.until:
            mask &= self._start_pos <= filters.until.toordinal()
            mask &= self._start_pos != _NO_DATE_START
        return mask

    def search(self, query_tokens: list[str], query_vector: np.ndarray | Future[np.ndarray],
               *, top: int,
               filters: Filters | None = None, min_similarity: float = -1.0,
               mode: str = "hybrid", no_match: NoMatchRule | None = None,
               names: NamesCheck | None = None,
               evidence: Evidence | None = None, feedback: bool = False,
               browse: Browse | None = None,
               ) -> list[RankedPassage]:
        """Fuse BM25 and dense rankings and return up to `top` diversified passages.

        `mode` "bm25" or "dense" ranks by one signal alone, undiversified (for evaluation).
        `query_vector` may still be on its way (a Future): the lexical side runs first.
        `evidence` (hybrid only) adds its bounded bonus; `feedback` expands the BM25 query with
        the best dense passages' distinctive words. Neither changes which passages may be
        returned nor the no-match decision. `names`: the names the question carries, for
        the no-match rule's names check (`NoMatchRule`). `browse`: the question asks only for
        what its reading names (`Browse`); below the no-match rule it then gets the passages
        the evidence fits, under the similarity floor too.
        """
        with self._lock:
            self._refresh_arrays()
            n = len(self._passage_ids)
            if n == 0 or top <= 0:
                return []
            mask = self._mask(filters or Filters())
            if not mask.any():
                return []
            bm25 = self._bm25.scores(query_tokens)
            # the allowed passages holding a word of the question (ascending)
            matching = np.flatnonzero(mask & (bm25 > 0))
            k = min(CANDIDATES, n)
            cand_bm25 = top_positions(matching, bm25[matching], k)
            ready = None
            if isinstance(query_vector, Future):
                if not query_vector.done():  # meanwhile, read what the BM25 side will need
                    ready = self._sentence_rows(cand_bm25.tolist())
                query_vector = query_vector.result()
            dense = self._dense.scores(query_vector)
            cand_dense, top_dense = dense.top(mask, k)
            browsing = False
            if no_match is not None and not self._answerable(
                    query_tokens, int(cand_dense[0]), float(top_dense[0]), bm25, matching,
                    no_match, names):
                if not (evidence and mode == "hybrid" and self._browses(query_tokens, browse)):
                    return []
                browsing = True
            expansion: list[str] = []
            # Feedback only for a paraphrase: when the best lexical match lacks much of the
            # question's own (idf-weighted) words; a question in the answer's words keeps its
            # own BM25 ranking ("joint economic activities" must find the passage saying so).
            if feedback and mode == "hybrid" and (not len(cand_bm25) or self._coverage(
                    set(query_tokens), int(cand_bm25[0])) < FEEDBACK_BELOW):
                expansion = self._feedback_terms(query_tokens, cand_dense[:FEEDBACK_PASSAGES])
            if expansion:
                # Re-rank what either ranker found by the question's words and the feedback
                # words: scoring only those passages keeps it cheap at any library size.
                pool = union(cand_dense, cand_bm25)
                pool_scores = self._bm25.scores_at(query_tokens, pool) + \
                    FEEDBACK_WEIGHT * self._bm25.scores_at(expansion, pool)
                found = pool_scores > 0
                cand_bm25 = pool[found][np.argsort(-pool_scores[found], kind="stable")][:k]
            candidates = union(cand_dense, cand_bm25) if mode == "hybrid" else \
                (cand_dense if mode == "dense" else cand_bm25)
            bonus: dict[int, tuple[float, tuple[str, ...]]] = {}
            if evidence and mode == "hybrid":
                extra = self._evidence_candidates(evidence, dense, mask)
                candidates = union(candidates, extra)
                bonus = self._evidence_bonus(evidence, candidates)
            # The dense signal: the passage's cosine plus its best sentence's cosine, so a
            # passage with one sentence squarely on the question beats a vaguely related one.
            q = np.asarray(query_vector, dtype=np.float32)
            cosine = dict(zip(candidates.tolist(), dense.at(candidates).tolist(), strict=True))
            sentence_sims = self._sentence_sims(list(cosine), q, ready)
            semantic = {p: c + b for (p, c), b in zip(cosine.items(), sentence_sims.best,
                                                      strict=True)}
            fused: dict[int, float] = {}
            dense_rank: dict[int, int] = {}
            bm25_rank: dict[int, int] = {}
            if mode in ("hybrid", "dense"):
                order = sorted(semantic, key=lambda p: (-semantic[p], p))
                for rank, pos in enumerate(order):
                    fused[pos] = 1.0 / (RRF_K + rank + 1)
                    dense_rank[pos] = rank + 1
            if mode in ("hybrid", "bm25"):
                weight = BM25_WEIGHT if mode == "hybrid" else 1.0
                order = [int(p) for p in cand_bm25]
                for rank, pos in enumerate(order):
                    fused[pos] = fused.get(pos, 0.0) + weight / (RRF_K + rank + 1)
                    bm25_rank[pos] = rank + 1
            if mode == "hybrid":  # scores, not ranks (see BM25_SHARE)
                fused = self._fuse(semantic, bm25, expansion, bonus)
            # A passage the reading fits (the expert, the period, the meeting asked about) may
            # be shown a little under the floor: "what was expected in spring 2017?" is about
            # the spring 2017 commentary even where its wording is far from the question's.
            # A question asking only for what its reading names is answered by what fits it.
            final = diversified(
                {p: s for p, s in fused.items() if p in bonus} if browsing else
                {p: s for p, s in fused.items() if cosine[p] >= min_similarity or (
                    bonus.get(p, (0.0,))[0] >= EVIDENCE_FLOOR_FIT
                    and cosine[p] >= min_similarity - EVIDENCE_FLOOR_RELIEF)},
                self._article_of, top,
                SAME_ARTICLE_DECAY if mode == "hybrid" and not evidence else 1.0)
            chosen = list(final)
            idf = {t: self._bm25.idf(t) for t in set(query_tokens)}
            # Ranked first by both rankers (and fitting all the evidence, in the hybrid).
            parts = len({group for group, _ in evidence.boosts}) if evidence else 1
            best = FUSED_BEST + EVIDENCE_SHARE * max(parts - 1, 0) if mode == "hybrid" \
                else (1.0 + BM25_WEIGHT) / (RRF_K + 1)
            return [
                RankedPassage(
                    passage_id=self._passage_ids[pos], article_id=self._article_of[pos],
                    text=self._texts[pos],
                    highlight=self._highlight(pos, sentence_sims[pos], query_tokens, idf),
                    score=min(1.0, final[pos] / best), dense=cosine[pos],
                    bm25=float(bm25[pos]),
                    why=why_ranked(dense_rank.get(pos), bm25_rank.get(pos), bool(expansion),
                             bonus.get(pos, (0.0, ()))[1]),
                )
                for pos in chosen
            ]

    def _highlight(self, pos: int, similarities: np.ndarray, query_tokens: list[str],
                   idf: dict[str, float]) -> str:
        """The passage's best sentence for the query; its sentences' tokens are cached (LRU),
        so a passage that answers again is not tokenised again."""
        text, spans = self._texts[pos], self._sentence_spans[pos]
        terms = self._sentence_terms_cache.get(pos)
        if terms is None and spans:
            terms = self._sentence_terms_cache[pos] = sentence_terms(text, spans)
            if len(self._sentence_terms_cache) > TERMS_CACHE:
                self._sentence_terms_cache.popitem(last=False)
        elif terms is not None:
            self._sentence_terms_cache.move_to_end(pos)
        return best_sentence(text, spans, similarities, query_tokens, idf, terms)

    def _sentence_rows(self, positions: list[int]) -> _SentenceRows:
        """The sentence vectors of the given positions as one block: those from the index
        cache file in one read, then those added since."""
        base, at, read = self._sentence_read or (0, [], None)
        from_file = [p for p in positions if p < base]
        rest = [p for p in positions if p >= base]
        blocks = [read([(at[p], at[p + 1]) for p in from_file])] if read and from_file else []
        blocks += [self._sentence_vectors[p] for p in rest]
        sizes = [at[p + 1] - at[p] for p in from_file] + \
            [len(self._sentence_vectors[p]) for p in rest]
        block = np.concatenate(blocks) if blocks else np.zeros((0, self.dim), np.float16)
        return _SentenceRows(from_file + rest, block, sizes)

    def _sentence_sims(self, positions: list[int], q: np.ndarray,
                       ready: _SentenceRows | None = None) -> _SentenceSims:
        """The cosines of each position's sentences with `q`, and each one's best (-1 for a
        passage without sentences): every passage's sentence vectors in one product (`ready`:
        rows read beforehand, while the question was being embedded), the maxima in one
        reduction."""
        parts = [ready] if ready is not None else []
        known = set(ready.positions) if ready is not None else set()
        parts.append(self._sentence_rows([p for p in positions if p not in known]))
        order = [p for part in parts for p in part.positions]
        sizes = np.fromiter((n for part in parts for n in part.sizes), dtype=np.int64,
                            count=len(order))
        sims = np.concatenate([part.block.astype(np.float32) @ q for part in parts])
        ends = np.cumsum(sizes)
        starts = ends - sizes
        best = np.full(len(order), -1.0)
        filled = sizes > 0
        if filled.any():
            best[filled] = np.maximum.reduceat(sims, starts[filled])
        where = dict(zip(order, zip(starts.tolist(), ends.tolist(), strict=True), strict=True))
        by_position = dict(zip(order, best.tolist(), strict=True))
        return _SentenceSims(sims, where, [by_position[p] for p in positions])

    def _feedback_terms(self, query_tokens: list[str], positions: np.ndarray) -> list[str]:
        """The words that dominate the given (best dense) passages and are rare in the library:
        pseudo-relevance feedback, so the BM25 side also finds a paraphrase's answer."""
        if len(positions) >= 2 and self._article_of[int(positions[0])] != \
                self._article_of[int(positions[1])]:
            return []  # the best dense passages disagree: their words are no safer than ours
        n = len(self._passage_ids)
        asked = set(query_tokens)
        weights: dict[str, float] = {}
        for pos in positions:
            pos = int(pos)
            for term, tf in self._terms(pos).items():
                if term in asked or self._bm25.document_frequency(term) > max(
                        FEEDBACK_MAX_DF * n, 1):
                    continue
                weights[term] = weights.get(term, 0.0) + tf * self._bm25.idf(term)
        return sorted(weights, key=lambda t: (-weights[t], t))[:FEEDBACK_TERMS]

    def _fuse(self, semantic: dict[int, float], bm25: np.ndarray, expansion: list[str],
              bonus: dict[int, tuple[float, tuple[str, ...]]]) -> dict[int, float]:
        """Hybrid scores of the candidates (positions): the dense signal, plus BM25_SHARE times
        the BM25 score (with the feedback words, if any) as a share of the best candidate's,
        plus EVIDENCE_SHARE times the evidence strength; kept positive for the repeat-article
        discount."""
        positions = np.fromiter(semantic, dtype=np.int64, count=len(semantic))
        lexical = np.asarray(bm25[positions], dtype=np.float64)
        if expansion:
            lexical = lexical + FEEDBACK_WEIGHT * self._bm25.scores_at(expansion, positions)
        top = float(lexical.max(initial=0.0))
        if top > 0:
            lexical = lexical / top
        return {p: max(semantic[p] + BM25_SHARE * lex + EVIDENCE_SHARE
                       * bonus.get(p, (0.0, ()))[0], 1e-6)
                for p, lex in zip(positions.tolist(), lexical.tolist(), strict=True)}

    def _evidence_candidates(self, evidence: Evidence, dense: DenseScores,
                             mask: np.ndarray) -> np.ndarray:
        """The best dense passages among those the evidence names by id (allowed ones only)."""
        named = {self._position_of[pid] for _, boost in evidence.boosts
                 for pid in boost.passage_ids if pid in self._position_of}
        if not named:
            return np.zeros(0, dtype=np.int64)
        rows = np.sort(np.fromiter(named, dtype=np.int64, count=len(named)))
        rows = rows[mask[rows]]
        if len(rows) <= EXACT_EVIDENCE_ROWS:
            return dense.top_among(rows, EVIDENCE_CANDIDATES)[0]
        wanted = np.zeros(len(mask), dtype=bool)
        wanted[rows] = True
        positions, _ = dense.top(wanted, EVIDENCE_CANDIDATES)
        return positions

    def _evidence_bonus(self, evidence: Evidence, candidates: np.ndarray
                        ) -> dict[int, tuple[float, tuple[str, ...]]]:
        """Per candidate position: the evidence strength (strongest boost of each group,
        summed: up to 1 per group, so a passage fitting more of the reading gains more) and
        the labels of the boosts that fit it."""
        out: dict[int, tuple[float, tuple[str, ...]]] = {}
        for pos in candidates:
            pos = int(pos)
            pid, aid = self._passage_ids[pos], self._article_of[pos]
            start, end = int(self._start_pos[pos]), int(self._end_pos[pos])
            best: dict[str, float] = {}
            labels: list[str] = []
            for group, boost in evidence.boosts:
                fits = pid in boost.passage_ids or aid in boost.article_ids or (
                    boost.window is not None and _overlaps(start, end, boost.window))
                if fits and (boost.published is None or _within(start, end, boost.published)):
                    best[group] = max(best.get(group, 0.0), boost.weight)
                    if boost.label not in labels:
                        labels.append(boost.label)
            if best:
                out[pos] = (sum(best.values()), tuple(labels))
        return out

    def _answerable(self, query_tokens: list[str], best_position: int, best_dense: float,
                    bm25: np.ndarray, matching: np.ndarray, rule: NoMatchRule,
                    names: NamesCheck | None = None) -> bool:
        if best_dense < rule.threshold:
            if best_dense < rule.lexical_floor or not len(matching):
                return False
            best = int(matching[np.argmax(bm25[matching])])
            if self._coverage(set(query_tokens), best) < rule.coverage:
                return False
        if names is None or rule.names_margin <= 0 or best_dense >= rule.names_ceiling:
            return True
        # The library speaks of what the question says besides its names ("the Sochi
        # Olympics opening ceremony"): that is its topic, whatever the names add.
        known = sum(self._bm25.document_frequency(t) > 0 for t in names.rest)
        if known >= NAMES_KNOWN_SHARE * len(names.rest):
            return True
        vector = np.asarray(names.vector(), dtype=np.float32)
        names_alone = float(self._dense.vectors()[best_position] @ vector)
        return best_dense - names_alone >= rule.names_margin

    @staticmethod
    def _browses(query_tokens: list[str], browse: Browse | None) -> bool:
        """Whether the question says nothing besides its reading and the words asking for
        commentary (`Browse`): "What was written in March 2017?" browses; "weather in 2015"
        and "Who won the election in 2016?" do not."""
        return browse is not None and bool(query_tokens) and all(
            t in browse.words or (browse.dated and any(c.isdigit() for c in t))
            for t in query_tokens)

    def _terms(self, pos: int) -> Counter[str]:
        """The BM25 terms of the passage at a position, with their counts (cached, LRU)."""
        counts = self._terms_cache.get(pos)
        if counts is None:
            counts = Counter(bm25_document(self.articles[self._article_of[pos]],
                                           self._texts[pos]))
            self._terms_cache[pos] = counts
            if len(self._terms_cache) > TERMS_CACHE:
                self._terms_cache.popitem(last=False)
        else:
            self._terms_cache.move_to_end(pos)
        return counts

    def _coverage(self, terms: set[str], pos: int) -> float:
        found = self._terms(pos)
        total = sum(self._bm25.idf(t) for t in terms)
        return sum(self._bm25.idf(t) for t in terms if t in found) / total if total else 0.0

    def allows_any(self, filters: Filters) -> bool:
        """Whether any live passage passes the filters."""
        with self._lock:
            self._refresh_arrays()
            return bool(self._passage_ids) and bool(self._mask(filters).any())

    def best_similarity(self, query_vector: np.ndarray, filters: Filters | None = None) -> float:
        """Highest dense cosine among the allowed passages (for the no-match decision)."""
        with self._lock:
            self._refresh_arrays()
            if not self._passage_ids:
                return -1.0
            mask = self._mask(filters or Filters())
            if not mask.any():
                return -1.0
            return self._dense.scores(query_vector).best(mask)

    # ----- the index cache (knowledge/index/cache.py) ----------------------------------------
    def held(self) -> threading.RLock:
        """The index's own lock, for a caller that reads the index together with what it keeps
        beside it (the library's deletions applied) as one consistent picture; re-entrant, so
        `export` inside it is fine."""
        return self._lock

    def export(self) -> tuple[dict[str, Sequence[str]], dict[str, np.ndarray],
                              dict[str, list[np.ndarray]]]:
        """The live passages as flat arrays, string lists and (sentence vectors) per-passage
        pieces, in position order, as a fresh load of the same database would place them
        (removed articles' passages left out)."""
        with self._lock:
            self._refresh_arrays()
            keep = self._alive.copy()
            kept = np.flatnonzero(keep)
            spans = [self._sentence_spans[p] for p in kept]
            sentences = [self._sentence_vectors[p] for p in kept]
            vocab, bm25 = self._bm25.export(keep)
            headers = {aid: f"{a.title}\n{a.publisher or ''}" for aid, a in self.articles.items()}
            header_ids = sorted({int(self._article_of[p]) for p in kept} & set(headers))
            arrays = {
                "passage_ids": self._pid_pos[kept],
                "article_ids": self._article_pos[kept],
                # All live (the usual case): the matrix itself, not a 150 MB copy of it.
                "vectors": self._dense.vectors() if len(kept) == len(keep)
                else self._dense.vectors()[kept],
                "span_offsets": np.cumsum([0, *map(len, spans)], dtype=np.int64),
                "spans": np.asarray([s for one in spans for s in one], dtype=np.int32
                                    ).reshape(-1, 2),
                "sentence_offsets": np.cumsum([0, *map(len, sentences)], dtype=np.int64),
                "header_article_ids": np.asarray(header_ids, dtype=np.int64),
                "max_passage_id": np.asarray([self.max_passage_id], dtype=np.int64),
                **bm25,
            }
            quantized = self._dense.quantized()
            if quantized is not None:  # the int8 copy (dense.py), so a cached start has it
                arrays.update({f"vector_{name}": rows if len(kept) == len(keep) else rows[kept]
                               for name, rows in quantized.items()})
            strings: dict[str, Sequence[str]] = {
                "texts": [self._texts[p] for p in kept], "bm25_vocab": vocab,
                       "headers": [headers[aid] for aid in header_ids]}
            pieces = {"sentence_vectors": [np.zeros((0, self.dim), dtype=np.float16),
                                           *sentences]}
            return strings, arrays, pieces

    @classmethod
    def restore(cls, dim: int, strings: dict[str, Sequence[str]], arrays: dict[str, np.ndarray],
                articles: dict[int, ArticleSummary],
                sentence_rows: Callable[[Sequence[tuple[int, int]]], np.ndarray] | None = None
                ) -> HybridIndex:
        """An index from `export`'s output (arrays may be memory-mapped, read-only), with the
        articles' current summaries from the database."""
        index = cls(dim)
        n = len(arrays["passage_ids"])
        index._dense = DenseIndex.restore(arrays["vectors"], {
            name: arrays[f"vector_{name}"] for name in ("codes", "scales", "bounds")
        } if "vector_codes" in arrays else None)
        index._bm25 = BM25Index.restore(list(strings["bm25_vocab"]), arrays)
        index._passage_ids = arrays["passage_ids"].tolist()
        index._article_of = arrays["article_ids"].tolist()
        texts = strings["texts"]
        index._texts = Rows(n, texts.__getitem__)
        spans, span_at = arrays["spans"], arrays["span_offsets"].tolist()
        index._sentence_spans = Rows(n, lambda i: tuple(
            (a, b) for a, b in spans[span_at[i]:span_at[i + 1]].tolist()))
        vectors, sent_at = arrays["sentence_vectors"], arrays["sentence_offsets"].tolist()
        # rows a..b of the vectors for each (a, b), joined
        rows = sentence_rows or (lambda spans: np.concatenate(
            [vectors[0:0], *(vectors[a:b] for a, b in spans)]))
        index._sentence_vectors = Rows(n, lambda i: rows(((sent_at[i], sent_at[i + 1]),)))
        index._sentence_read = (n, sent_at, rows)
        index._alive = np.ones(n, dtype=bool)
        index.articles = dict(articles)
        index._orphan_headers = {
            aid: header for aid, header in zip(arrays["header_article_ids"].tolist(),
                                               strings["headers"], strict=True)
            if aid not in articles}
        index.max_passage_id = int(arrays["max_passage_id"][0])
        return index

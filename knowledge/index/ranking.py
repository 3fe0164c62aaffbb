"""Ranking helpers of the in-memory index, free of its state: the top k of some scores, a
union of candidate positions, the diversified selection across articles, the best sentence of
a passage (its highlight) and the `why` of a ranked passage."""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import numpy as np

from knowledge.text.split import split_sentences
from knowledge.text.tokens import tokenize


def top_positions(positions: np.ndarray, scores: np.ndarray, k: int) -> np.ndarray:
    """The k of `positions` (ascending) with the highest `scores` (theirs, in the same order),
    best first; equal scores by position, so the cut at k is the same on every run."""
    if k < len(positions):
        kth = np.partition(scores, len(scores) - k)[len(scores) - k]
        keep = scores > kth
        ties = np.flatnonzero(scores == kth)[: k - int(keep.sum())]
        keep[ties] = True
        positions, scores = positions[keep], scores[keep]
    return positions[np.lexsort((positions, -scores))]


def union(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The sorted distinct positions of both (np.union1d without its first-call import of
    numpy.ma, ~14 ms of every cold start)."""
    both = np.sort(np.concatenate((a, b)).astype(np.int64, copy=False))
    if len(both) < 2:
        return both
    return both[np.concatenate(([True], both[1:] != both[:-1]))]


def diversified(scores: dict[int, float], article_of: Sequence[int], top: int, decay: float
                 ) -> dict[int, float]:
    """Greedy diversified selection, in the order chosen: each step takes the position with the
    highest score times `decay` to the power of the passages already taken from its article
    (repeat articles are discounted, not banned); ties go to the lower position. Lazily: a
    heap of scores that may be stale, as a discount only ever lowers one, so an entry found
    stale is re-scored and pushed back (the same choices as re-scoring everything each step,
    at O(n log n) instead of O(top x n))."""
    taken: dict[int, int] = {}  # article -> passages chosen from it
    heap = [(-score, pos, 0) for pos, score in scores.items()]
    heapq.heapify(heap)
    chosen: dict[int, float] = {}
    while heap and len(chosen) < top:
        negative, pos, seen = heapq.heappop(heap)
        now = taken.get(article_of[pos], 0)
        if now != seen:
            heapq.heappush(heap, (-(scores[pos] * decay ** now), pos, now))
            continue
        chosen[pos] = -negative
        taken[article_of[pos]] = now + 1
    return chosen


def sentence_terms(passage: str, spans: tuple[tuple[int, int], ...]
                   ) -> tuple[frozenset[str], ...]:
    """The tokens of each sentence of a passage (what `best_sentence` matches the query on)."""
    return tuple(frozenset(tokenize(passage[a:b])) for a, b in spans)


def best_sentence(passage: str, spans: tuple[tuple[int, int], ...], similarities: np.ndarray,
                  query_tokens: list[str], idf: dict[str, float],
                  terms: tuple[frozenset[str], ...] | None = None) -> str:
    """The sentence closest in meaning to the query, nudged by shared rare query terms;
    `terms` are the sentences' tokens when the caller has them (`sentence_terms`)."""
    if not spans:
        spans = tuple((s.start, s.end) for s in split_sentences(passage)) or ((0, len(passage)),)
        similarities = np.zeros(len(spans), dtype=np.float32)
        terms = None
    if terms is None:
        terms = sentence_terms(passage, spans)
    wanted = set(query_tokens)
    total_idf = sum(idf.get(t, 1.0) for t in wanted) or 1.0
    best, best_score = passage[spans[0][0]:spans[0][1]], -np.inf
    for (a, b), sim, words in zip(spans, similarities.tolist(), terms, strict=True):
        shared = words & wanted
        score = sim + 0.15 * sum(idf.get(t, 1.0) for t in shared) / total_idf
        if score > best_score:
            best, best_score = passage[a:b], score
    return best


def why_ranked(dense_rank: int | None, bm25_rank: int | None, expanded: bool,
         evidence: tuple[str, ...]) -> tuple[str, ...]:
    """The signals that ranked a passage, for people: its places in the two rankings (the
    top ten only) and the evidence it fits."""
    out = []
    if dense_rank is not None and dense_rank <= 10:
        out.append(f"meaning #{dense_rank}")
    if bm25_rank is not None and bm25_rank <= 10:
        out.append(f"words{'+feedback' if expanded else ''} #{bm25_rank}")
    return (*out, *evidence)

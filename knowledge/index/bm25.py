"""Okapi BM25 over growing postings lists, so new passages are added without a rebuild."""

from __future__ import annotations

import math
from collections import Counter, OrderedDict

import numpy as np


class _Postings:
    """Positions and term frequencies of one term, appended to and frozen lazily to arrays."""

    __slots__ = ("_frozen", "positions", "tfs")

    def __init__(self) -> None:
        self.positions: list[int] = []
        self.tfs: list[int] = []
        self._frozen: tuple[np.ndarray, np.ndarray] | None = None

    def add(self, position: int, tf: int) -> None:
        self.positions.append(position)
        self.tfs.append(tf)
        self._frozen = None

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if self._frozen is None:
            self._frozen = (np.asarray(self.positions, dtype=np.int64),
                            np.asarray(self.tfs, dtype=np.float32))
        return self._frozen


class BM25Index:
    """BM25 scores for token lists; positions are the caller's document numbers (0, 1, 2, ...)."""

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._postings: dict[str, _Postings] = {}
        self._lengths: list[int] = []
        self._lengths_arr: np.ndarray | None = None
        self._total_length = 0
        # Per-term score vectors, valid until the next add (lengths and idf change then).
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return len(self._lengths)

    def add(self, tokens: list[str]) -> int:
        """Index one document's tokens; returns its position."""
        position = len(self._lengths)
        for term, tf in Counter(tokens).items():
            postings = self._postings.get(term)
            if postings is None:
                postings = self._postings[term] = _Postings()
            postings.add(position, tf)
        self._lengths.append(len(tokens))
        self._total_length += len(tokens)
        self._lengths_arr = None
        self._cache.clear()
        return position

    def document_frequency(self, term: str) -> int:
        """How many documents hold the term."""
        postings = self._postings.get(term)
        return len(postings.positions) if postings else 0

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency (never negative)."""
        postings = self._postings.get(term)
        df = len(postings.positions) if postings else 0
        n = len(self._lengths)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every document for the query (zeros where no term matches)."""
        n = len(self._lengths)
        total = np.zeros(n, dtype=np.float32)
        for term, qtf in Counter(query_tokens).items():
            term_scores = self._term_scores(term)
            if term_scores is not None:
                total += term_scores if qtf == 1 else qtf * term_scores
        return total

    def scores_at(self, query_tokens: list[str], positions: np.ndarray) -> np.ndarray:
        """BM25 scores of the given documents only (the same values `scores` gives them),
        without building a score vector over the whole index for an uncached term."""
        total = np.zeros(len(positions), dtype=np.float32)
        n = len(self._lengths)
        if not len(positions) or not n:
            return total
        if self._lengths_arr is None:
            self._lengths_arr = np.asarray(self._lengths, dtype=np.float32)
        avgdl = self._total_length / n or 1.0
        norm = self.k1 * (1.0 - self.b + self.b * self._lengths_arr[positions] / avgdl)
        for term, qtf in Counter(query_tokens).items():
            cached = self._cache.get(term)
            if cached is not None:
                total += qtf * cached[positions]
                continue
            postings = self._postings.get(term)
            if postings is None:
                continue
            at, tfs = postings.arrays()  # positions ascending: documents are appended in order
            index = np.minimum(np.searchsorted(at, positions), len(at) - 1)
            tf = np.where(at[index] == positions, tfs[index], 0.0).astype(np.float32)
            total += (qtf * self.idf(term) * tf * (self.k1 + 1.0) / (tf + norm)).astype(np.float32)
        return total

    def _term_scores(self, term: str) -> np.ndarray | None:
        """One term's BM25 contribution to every document, cached (LRU) between adds."""
        cached = self._cache.get(term)
        if cached is not None:
            self._cache.move_to_end(term)
            return cached
        postings = self._postings.get(term)
        if postings is None:
            return None
        n = len(self._lengths)
        if self._lengths_arr is None:
            self._lengths_arr = np.asarray(self._lengths, dtype=np.float32)
        avgdl = self._total_length / n or 1.0
        positions, tfs = postings.arrays()
        norm = self.k1 * (1.0 - self.b + self.b * self._lengths_arr[positions] / avgdl)
        contrib = self.idf(term) * tfs * (self.k1 + 1.0) / (tfs + norm)
        scores = np.bincount(positions, weights=contrib, minlength=n).astype(np.float32)
        self._cache[term] = scores
        if len(self._cache) > 256:  # at most ~100 MB at 100k passages
            self._cache.popitem(last=False)
        return scores

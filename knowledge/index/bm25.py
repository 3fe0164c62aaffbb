"""Okapi BM25 over growing postings lists, so new passages are added without a rebuild."""

from __future__ import annotations

import math
from collections import Counter, OrderedDict

import numpy as np


class _Postings:
    """Positions and term frequencies of one term, appended to and frozen lazily to arrays.

    A postings list loaded from the index cache starts from read-only arrays (``base``);
    passages added later are appended after them."""

    __slots__ = ("_base", "_frozen", "positions", "tfs")

    def __init__(self, base: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self.positions: list[int] = []
        self.tfs: list[int] = []
        self._base = base
        self._frozen: tuple[np.ndarray, np.ndarray] | None = base

    def __len__(self) -> int:
        return len(self.positions) + (len(self._base[0]) if self._base is not None else 0)

    def add(self, position: int, tf: int) -> None:
        self.positions.append(position)
        self.tfs.append(tf)
        self._frozen = None

    def discard(self, position: int) -> None:
        """Forget one document (its term no longer counts there, nor in the term's df)."""
        positions, tfs = self.arrays()
        keep = positions != position
        self._base = self._frozen = (positions[keep], tfs[keep])
        self.positions, self.tfs = [], []

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if self._frozen is None:
            positions = np.asarray(self.positions, dtype=np.int64)
            tfs = np.asarray(self.tfs, dtype=np.float32)
            if self._base is not None:
                positions = np.concatenate([self._base[0].astype(np.int64), positions])
                tfs = np.concatenate([self._base[1], tfs])
            self._frozen = (positions, tfs)
        return self._frozen


# Contributions kept in the per-term cache (4 bytes each; the positions are the postings'
# own arrays): 32 MB, thousands of terms at 100k passages.
CACHED_CONTRIBUTIONS = 8_000_000
# Terms whose (document frequency, idf) are remembered between adds.
STATS_KEPT = 100_000


class BM25Index:
    """BM25 scores for token lists; positions are the caller's document numbers (0, 1, 2, ...)."""

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._postings: dict[str, _Postings] = {}
        # Terms loaded from the index cache whose postings object is made on first use:
        # term -> (start, end) into the flat arrays `_flat_positions` / `_flat_tfs`.
        self._flat_terms: dict[str, tuple[int, int]] = {}
        self._flat_positions = np.zeros(0, dtype=np.int32)
        self._flat_tfs = np.zeros(0, dtype=np.float32)
        self._lengths: list[int] = []
        self._lengths_arr: np.ndarray | None = None
        self._total_length = 0
        self._removed: set[int] = set()  # positions of removed documents (never scored again)
        # Per term, its documents' positions and BM25 contributions (LRU, bounded by the
        # contributions held), valid until the next add or removal (lengths and idf change).
        self._cache: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._cached_values = 0
        # Per term looked up since the last add or removal: (document frequency, idf).
        self._stats: dict[str, tuple[int, float]] = {}

    def __len__(self) -> int:
        return len(self._lengths)

    def add(self, tokens: list[str]) -> int:
        """Index one document's tokens; returns its position."""
        position = len(self._lengths)
        for term, tf in Counter(tokens).items():
            postings = self._postings.get(term)
            if postings is None and self._flat_terms:
                postings = self._get(term)
            if postings is None:
                postings = self._postings[term] = _Postings()
            postings.add(position, tf)
        self._lengths.append(len(tokens))
        self._total_length += len(tokens)
        self._lengths_arr = None
        self._clear_cache()
        return position

    def _get(self, term: str) -> _Postings | None:
        """A term's postings (made from the cached flat arrays on first use)."""
        postings = self._postings.get(term)
        if postings is None:
            span = self._flat_terms.pop(term, None)
            if span is not None:
                start, end = span
                postings = self._postings[term] = _Postings(
                    (self._flat_positions[start:end], self._flat_tfs[start:end]))
        return postings

    def remove(self, position: int, tokens: list[str]) -> None:
        """Stop counting a document (given the tokens it was added with) in document
        frequencies, lengths and the document count, as if it had never been added; its
        position stays (scoring it is the caller's to avoid)."""
        if position in self._removed or not 0 <= position < len(self._lengths):
            return
        for term in set(tokens):
            postings = self._get(term)
            if postings is not None:
                postings.discard(position)
        self._removed.add(position)
        self._total_length -= self._lengths[position]
        self._lengths_arr = None
        self._clear_cache()

    def _clear_cache(self) -> None:
        self._cache.clear()
        self._cached_values = 0
        self._stats.clear()

    def _term_stats(self, term: str) -> tuple[int, float]:
        """(document frequency, idf) of a term, remembered until the next add or removal."""
        found = self._stats.get(term)
        if found is None:
            if len(self._stats) >= STATS_KEPT:  # questions' unknown words must not pile up
                self._stats.clear()
            postings = self._get(term)
            df = len(postings) if postings else 0
            n = len(self._lengths) - len(self._removed)
            found = self._stats[term] = (df, math.log(1.0 + (n - df + 0.5) / (df + 0.5)))
        return found

    def document_frequency(self, term: str) -> int:
        """How many documents hold the term."""
        return self._term_stats(term)[0]

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency (never negative)."""
        return self._term_stats(term)[1]

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every document for the query (zeros where no term matches)."""
        n = len(self._lengths)
        total = np.zeros(n, dtype=np.float32)
        for term, qtf in Counter(query_tokens).items():
            found = self._term_scores(term)
            if found is not None:  # a term's positions are distinct: += adds once to each
                at, contrib = found
                total[at] += contrib if qtf == 1 else qtf * contrib
        return total

    def scores_at(self, query_tokens: list[str], positions: np.ndarray) -> np.ndarray:
        """BM25 scores of the given documents only (the same values `scores` gives them)."""
        total = np.zeros(len(positions), dtype=np.float32)
        if not len(positions) or not self._lengths:
            return total
        for term, qtf in Counter(query_tokens).items():
            found = self._term_scores(term)
            if found is None or not len(found[0]):  # unknown, or its every document removed
                continue
            at, contrib = found  # positions ascending: documents are appended in order
            index = np.minimum(np.searchsorted(at, positions), len(at) - 1)
            total += qtf * np.where(at[index] == positions, contrib[index], 0.0
                                    ).astype(np.float32)
        return total

    def _term_scores(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        """One term's documents (positions, ascending) and its BM25 contribution to each,
        cached (LRU) between adds: work in proportion to the term's documents, not the index."""
        cached = self._cache.get(term)
        if cached is not None:
            self._cache.move_to_end(term)
            return cached
        postings = self._get(term)
        if postings is None:
            return None
        n = len(self._lengths)
        if self._lengths_arr is None:
            self._lengths_arr = np.asarray(self._lengths, dtype=np.float32)
        avgdl = self._total_length / max(n - len(self._removed), 1) or 1.0
        positions, tfs = postings.arrays()
        norm = self.k1 * (1.0 - self.b + self.b * self._lengths_arr[positions] / avgdl)
        contrib = (self.idf(term) * tfs * (self.k1 + 1.0) / (tfs + norm)).astype(np.float32)
        self._cache[term] = (positions, contrib)
        self._cached_values += len(contrib)
        while self._cached_values > CACHED_CONTRIBUTIONS and len(self._cache) > 1:
            _, (_, dropped) = self._cache.popitem(last=False)
            self._cached_values -= len(dropped)
        return positions, contrib

    # ----- the index cache (knowledge/index/cache.py) ------------------------------------------
    def export(self, keep: np.ndarray) -> tuple[list[str], dict[str, np.ndarray]]:
        """The postings of the documents where `keep` is true, renumbered 0, 1, 2, ... in order,
        as flat arrays: vocabulary (sorted), per-term offsets, positions, frequencies, lengths."""
        new_position = np.cumsum(keep, dtype=np.int64) - 1
        terms = sorted(set(self._postings) | set(self._flat_terms))
        vocab: list[str] = []
        offsets = [0]
        positions: list[np.ndarray] = []
        tfs: list[np.ndarray] = []
        for term in terms:
            postings = self._get(term)
            assert postings is not None
            at, tf = postings.arrays()
            kept = keep[at]
            if not kept.any():
                continue
            vocab.append(term)
            positions.append(new_position[at[kept]].astype(np.int32))
            tfs.append(tf[kept].astype(np.float32))
            offsets.append(offsets[-1] + int(kept.sum()))
        lengths = np.asarray(self._lengths, dtype=np.int32)[keep]
        return vocab, {
            "bm25_offsets": np.asarray(offsets, dtype=np.int64),
            "bm25_positions": np.concatenate(positions) if positions
            else np.zeros(0, dtype=np.int32),
            "bm25_tfs": np.concatenate(tfs) if tfs else np.zeros(0, dtype=np.float32),
            "bm25_lengths": lengths,
        }

    @classmethod
    def restore(cls, vocab: list[str], arrays: dict[str, np.ndarray]) -> BM25Index:
        """An index from `export`'s vocabulary and arrays (memory-mapped, read-only)."""
        index = cls()
        offsets = arrays["bm25_offsets"].tolist()
        index._flat_terms = {term: (offsets[i], offsets[i + 1])
                             for i, term in enumerate(vocab)}
        index._flat_positions = arrays["bm25_positions"]
        index._flat_tfs = arrays["bm25_tfs"]
        index._lengths = arrays["bm25_lengths"].tolist()
        index._total_length = sum(index._lengths)
        return index

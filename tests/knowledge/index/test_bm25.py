"""BM25 scores computed term by term over each term's documents equal the textbook formula,
with repeated query terms, removed documents and a per-term cache small enough to evict."""

from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
import pytest

from knowledge.index import bm25 as bm25_module
from knowledge.index.bm25 import BM25Index

WORDS = [f"w{i}" for i in range(60)]


def reference(docs: list[list[str]], removed: set[int], query: list[str],
              k1: float = 1.2, b: float = 0.75) -> np.ndarray:
    """Okapi BM25 written out directly (smoothed idf as the index uses it)."""
    # (a term found in no live document scores nothing)
    live = [i for i in range(len(docs)) if i not in removed]
    n = len(live)
    avgdl = sum(len(docs[i]) for i in live) / n
    df = Counter(t for i in live for t in set(docs[i]))
    out = np.zeros(len(docs))
    for i in live:
        tf = Counter(docs[i])
        for term, qtf in Counter(query).items():
            if tf[term]:
                idf = math.log(1.0 + (n - df[term] + 0.5) / (df[term] + 0.5))
                norm = k1 * (1 - b + b * len(docs[i]) / avgdl)
                out[i] += qtf * idf * tf[term] * (k1 + 1) / (tf[term] + norm)
    return out


@pytest.mark.parametrize("cache_limit", [8_000_000, 40])
def test_scores_match_the_formula(monkeypatch: pytest.MonkeyPatch, cache_limit: int) -> None:
    monkeypatch.setattr(bm25_module, "CACHED_CONTRIBUTIONS", cache_limit)
    rng = random.Random(4)
    docs = [[rng.choice(WORDS[: 10 + i % 50]) for _ in range(rng.randint(3, 40))]
            for i in range(300)]
    docs[50].append("solo")  # a word only in a document that is removed below
    index = BM25Index()
    for doc in docs:
        index.add(doc)
    removed: set[int] = set()
    queries = [rng.sample(WORDS, 4) for _ in range(30)] + [["w1", "w1", "w2"], ["nothing"],
                                                         ["solo", "w3"]]
    for round_ in range(2):
        for query in queries:
            got = index.scores(query)
            np.testing.assert_allclose(got, reference(docs, removed, query), rtol=2e-5,
                                       atol=1e-6)
            positions = np.asarray(sorted(rng.sample(range(len(docs)), 12)), dtype=np.int64)
            np.testing.assert_allclose(index.scores_at(query, positions), got[positions],
                                       rtol=2e-5, atol=1e-6)
        if round_ == 0:  # drop some documents: statistics and cached contributions change
            for pos in (3, 50, 299):
                index.remove(pos, docs[pos])
                removed.add(pos)
    # the cache holds at most its limit (or the one term just scored, if that is larger)
    assert index._cached_values <= cache_limit or len(index._cache) == 1


def test_remembered_term_statistics_follow_adds_and_removals() -> None:
    """idf and document frequency are remembered between changes, never past one: an add or a
    removal gives the values a fresh index over the same documents gives."""
    docs = [["kuril", "islands"], ["peace", "treaty"], ["kuril", "fisheries"]]
    index = BM25Index()
    for doc in docs:
        index.add(doc)
    before = (index.document_frequency("kuril"), index.idf("kuril"), index.idf("treaty"))
    added = index.add(["kuril", "treaty", "visit"])
    fresh = BM25Index()
    for doc in [*docs, ["kuril", "treaty", "visit"]]:
        fresh.add(doc)
    assert index.document_frequency("kuril") == 3 == fresh.document_frequency("kuril")
    assert index.idf("kuril") == fresh.idf("kuril") < before[1]
    assert index.idf("treaty") == fresh.idf("treaty") < before[2]
    index.remove(added, ["kuril", "treaty", "visit"])
    assert (index.document_frequency("kuril"), index.idf("kuril"), index.idf("treaty")) == before
    assert index.document_frequency("visit") == 0

"""The dense side of a search: the int8 estimate with exact rescoring returns exactly what the
float32 product over every passage vector returns (top rows, their cosines, any cosine asked
for), on random, duplicated and adversarially close vectors, under masks, and through the
hybrid ranking and the index cache; the integer kernel's file is the one the code describes."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from knowledge.embedding import HashingEmbedder
from knowledge.index import dense
from knowledge.index.dense import DenseIndex, build_kernel_model, quantize_rows
from knowledge.index.hybrid import HybridIndex
from knowledge.index.types import Filters, IndexedPassage
from knowledge.models import ArticleSummary
from knowledge.retrieval import SearchRequest
from knowledge.service import KnowledgeService
from knowledge.settings import Settings
from knowledge.text.split import split_sentences

DIM = 384


def unit(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


@pytest.fixture
def quantize_from_100(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Small indexes take the int8 path too (it is normally for large ones), quantised in
    several slices."""
    monkeypatch.setattr(dense, "QUANTIZED_FROM", 100)
    monkeypatch.setattr(dense, "_QUANTIZE_SLICE", 256)
    yield


def adversarial_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random unit rows, plus exact duplicates, near-duplicates closer than the int8 rounding,
    and rows made to sit just above and below one another for the queries used."""
    base = unit(rng.standard_normal((n, DIM)))
    base[10:20] = base[0]  # exact ties
    base[20:40] = unit(base[1] + 1e-4 * rng.standard_normal((20, DIM)))  # below int8 step
    base[40:60] = unit(base[2] + 3e-3 * rng.standard_normal((20, DIM)))  # about one step
    spiky = np.zeros((20, DIM), dtype=np.float32)  # one large component: coarse int8 scale
    spiky[:, 0] = 1.0
    spiky[:, 1:] = 1e-3 * rng.standard_normal((20, DIM - 1))
    base[60:80] = unit(spiky)
    return base


def reference_check(vectors: np.ndarray, query: np.ndarray, mask: np.ndarray, k: int,
                    positions: np.ndarray, scores: np.ndarray) -> None:
    """`positions`/`scores` are a correct top-k under float32 rounding: scores are the rows'
    exact cosines, best first, and no allowed row left out beats the k-th by more than the
    rounding of a float32 product."""
    exact = vectors.astype(np.float64) @ query.astype(np.float64)
    allowed = np.flatnonzero(mask)
    assert len(positions) == min(k, len(allowed))
    assert len(set(positions.tolist())) == len(positions)
    assert mask[positions].all()
    np.testing.assert_allclose(scores, exact[positions], atol=1e-5)
    assert np.all(np.diff(scores) <= 0)
    if len(positions) < len(allowed):
        left_out = np.setdiff1d(allowed, positions)
        assert exact[left_out].max() <= scores[-1] + 1e-5


@pytest.mark.parametrize("seed", range(6))
def test_int8_top_is_the_exact_top(quantize_from_100: None, seed: int) -> None:
    rng = np.random.default_rng(seed)
    vectors = adversarial_vectors(rng, 3000)
    index = DenseIndex(DIM)
    index.add(vectors[:1700])
    index.add(vectors[1700:])  # appended after the first int8 copy: copied incrementally
    queries = [vectors[0], vectors[1], vectors[2], vectors[60],
               unit(vectors[1] + 0.01 * rng.standard_normal(DIM)),
               unit(rng.standard_normal(DIM)), unit(-vectors[5])]
    masks = [np.ones(3000, dtype=bool), rng.random(3000) < 0.5, rng.random(3000) < 0.01,
             np.zeros(3000, dtype=bool)]
    masks[3][[5, 15, 25]] = True  # fewer rows allowed than asked for
    for query in queries:
        scores = index.scores(query)
        assert index.estimate(query) is not None  # the int8 path ran
        for mask in masks:
            for k in (1, 10, 100):
                positions, top = scores.top(mask, k)
                reference_check(vectors, query, mask, k, positions, top)
                # the same rows given by position (the evidence's few named passages)
                among, among_top = scores.top_among(np.flatnonzero(mask), k)
                reference_check(vectors, query, mask, k, among, among_top)
        at = rng.integers(0, 3000, 50)
        np.testing.assert_allclose(scores.at(at), vectors[at] @ query, atol=1e-6)
        assert scores.best(masks[0]) == pytest.approx(float((vectors @ query).max()), abs=1e-6)


def test_int8_estimate_stays_within_its_bound(quantize_from_100: None) -> None:
    rng = np.random.default_rng(11)
    vectors = adversarial_vectors(rng, 2000)
    index = DenseIndex(DIM)
    index.add(vectors)
    for _ in range(20):
        query = unit(rng.standard_normal(DIM))
        estimate = index.estimate(query)
        assert estimate is not None
        approx, bound = estimate
        error = np.abs(vectors.astype(np.float64) @ query.astype(np.float64) - approx)
        assert np.all(error <= bound)
        assert float(np.median(bound)) < 0.012  # tight enough to leave few rows to rescore


def test_quantize_rows_round_trip_and_zero_rows() -> None:
    rng = np.random.default_rng(3)
    rows = np.vstack([unit(rng.standard_normal((5, DIM))), np.zeros((1, DIM), np.float32)])
    codes, scales, bounds = quantize_rows(rows)
    restored = (codes.astype(np.float64) - 128) * scales[:, None].astype(np.float64)
    errors = np.linalg.norm(rows.astype(np.float64) - restored, axis=1)
    assert np.all(errors <= bounds[:, 0])
    assert np.all(np.linalg.norm(rows, axis=1) <= bounds[:, 1])
    assert bounds[5, 0] == pytest.approx(0.0, abs=1e-30) and (codes[5] == 128).all()


def test_small_index_uses_float32_alone() -> None:
    index = DenseIndex(DIM)
    index.add(unit(np.random.default_rng(0).standard_normal((50, DIM))))
    assert index.estimate(unit(np.ones(DIM))) is None
    assert index.quantized() is None


def test_shipped_kernel_is_the_described_graph() -> None:
    assert dense.KERNEL_FILE.read_bytes() == build_kernel_model()


def test_unusable_kernel_falls_back_to_float32(
        quantize_from_100: None, monkeypatch: pytest.MonkeyPatch, tmp_path,
        caplog: pytest.LogCaptureFixture) -> None:
    broken = tmp_path / "int8_dot.onnx"
    broken.write_bytes(b"not a model")
    monkeypatch.setattr(dense, "KERNEL_FILE", broken)
    monkeypatch.setattr(dense._IntegerKernel, "_session", None)
    monkeypatch.setattr(dense._IntegerKernel, "_failed", False)
    rng = np.random.default_rng(5)
    vectors = unit(rng.standard_normal((500, DIM)))
    index = DenseIndex(DIM)
    index.add(vectors)
    query = vectors[7]
    with caplog.at_level(logging.WARNING, logger="knowledge.index.dense"):
        positions, scores = index.scores(query).top(np.ones(500, dtype=bool), 5)
        index.scores(query).top(np.ones(500, dtype=bool), 5)
    assert positions[0] == 7
    reference_check(vectors, query, np.ones(500, dtype=bool), 5, positions, scores)
    assert len([r for r in caplog.records if "int8 dense scoring unavailable" in r.message]) == 1


# ----- through the hybrid ranking and the index cache ----------------------------------------
WORDS = ("icebreaker sanctions tariff summit port insurance route treaty islands fishing "
         "visa energy pipeline grain ceasefire talks minister visit forum declaration").split()


def synthetic_index(seed: int, passages: int) -> tuple[HybridIndex, np.ndarray]:
    rng = np.random.default_rng(seed)
    vectors = adversarial_vectors(rng, passages)
    index = HybridIndex(DIM)
    for a in range(passages // 10):
        article = ArticleSummary(id=a + 1, title=f"Article {a}", publisher="Outlet",
                                 published=None, url=None, language="en", contributors=(),
                                 added_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        items = []
        for o in range(10):
            pid = a * 10 + o + 1
            text = ". ".join(" ".join(rng.choice(WORDS, 6)) for _ in range(3)) + "."
            spans = tuple((x.start, x.end) for x in split_sentences(text))
            items.append(IndexedPassage(
                pid, a + 1, text, vectors[pid - 1], spans,
                unit(rng.standard_normal((len(spans), DIM))).astype(np.float16)))
        index.add(article, items)
    return index, vectors


def test_hybrid_rankings_identical_with_and_without_int8(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    index, vectors = synthetic_index(2, 2000)
    rng = np.random.default_rng(9)
    queries = [(vectors[i], " ".join(rng.choice(WORDS, 3))) for i in (0, 1, 2, 65, 900)]
    queries += [(unit(rng.standard_normal(DIM)), " ".join(rng.choice(WORDS, 2)))
                for _ in range(5)]
    filters = [None, Filters(article_ids=frozenset(range(1, 200, 3))),
               Filters(passage_ids=frozenset({1, 11, 21, 500}))]
    for vector, text in queries:
        tokens = text.split()
        for flt in filters:
            for mode in ("hybrid", "dense", "bm25"):
                runs = []
                for quantize_from in (1 << 62, 100):
                    monkeypatch.setattr(dense, "QUANTIZED_FROM", quantize_from)
                    runs.append(index.search(tokens, vector, top=8, filters=flt, mode=mode,
                                             feedback=True))
                float32, int8 = runs  # (the second run's highlights use cached sentence tokens)
                assert [(r.passage_id, r.highlight) for r in int8] == \
                    [(r.passage_id, r.highlight) for r in float32]
                np.testing.assert_allclose([r.dense for r in int8],
                                           [r.dense for r in float32], atol=1e-6)
                np.testing.assert_allclose([r.score for r in int8],
                                           [r.score for r in float32], atol=1e-6)
        monkeypatch.setattr(dense, "QUANTIZED_FROM", 100)
        assert index.best_similarity(vector) == pytest.approx(
            float((vectors @ vector).max()), abs=1e-6)


def test_cache_keeps_the_int8_copy(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """A start from the cache file finds the int8 copy in it (not recomputed) and answers
    exactly like a start from the database with the float32 product alone."""
    monkeypatch.setattr(dense, "QUANTIZED_FROM", 10)  # the test library is small
    base = settings.model_copy(update={"no_match_threshold": 0.05, "hit_min_similarity": 0.0})
    questions = ["icebreaker escorts dredging ports", "sanctions on oil exports",
                 "what did the summit agree on security guarantees", "trade talks tariffs"]
    embedder = HashingEmbedder(DIM)
    first = KnowledgeService.open(base.model_copy(update={"index_cache": True}),
                                  embedder=embedder)  # loads the database, writes the file
    first.close()
    cached = KnowledgeService.open(base.model_copy(update={"index_cache": True}),
                                   embedder=embedder)
    try:
        assert len(cached.index) >= 10
        codes = cached.index._dense._codes  # what the cache gave it
        assert codes is not None and not codes.flags.writeable  # mapped from the file
        int8 = [cached.retriever.search(SearchRequest(q, guild_id=None)) for q in questions]
    finally:
        cached.close()
    monkeypatch.setattr(dense, "QUANTIZED_FROM", 1 << 62)
    plain = KnowledgeService.open(base.model_copy(update={"index_cache": False}),
                                  embedder=embedder)
    try:
        float32 = [plain.retriever.search(SearchRequest(q, guild_id=None)) for q in questions]
    finally:
        plain.close()
    assert any(float32)
    for a, b in zip(int8, float32, strict=True):
        assert [(h.passage_id, round(h.score, 6)) for h in a] == \
            [(h.passage_id, round(h.score, 6)) for h in b]


def test_search_takes_a_question_vector_still_being_computed() -> None:
    """The retriever embeds the question while BM25 ranks it: a vector still on its way (a
    Future) gives exactly the answer the finished vector gives."""
    index, vectors = synthetic_index(3, 300)
    tokens = "icebreaker tariff summit".split()

    def slow_vector() -> np.ndarray:
        time.sleep(0.05)  # still computing when the search starts
        return vectors[5]

    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(slow_vector)
        later = index.search(tokens, pending, top=5, feedback=True)
    ready = index.search(tokens, vectors[5], top=5, feedback=True)
    assert later and [(r.passage_id, r.score, r.highlight) for r in later] == \
        [(r.passage_id, r.score, r.highlight) for r in ready]


def test_a_vector_on_its_way_over_rows_from_the_cache_and_rows_added_since() -> None:
    """While the question is being embedded, the search reads the BM25 side's sentence
    vectors ahead; over an index restored from its cache arrays, with passages appended since
    (both kinds of rows in one search), the answers are those of the finished vector and of
    the index that was never restored."""
    original, vectors = synthetic_index(4, 300)
    strings, arrays, pieces = original.export()
    arrays = dict(arrays, sentence_vectors=np.concatenate(pieces["sentence_vectors"]))
    restored = HybridIndex.restore(DIM, strings, arrays, dict(original.articles))
    rng = np.random.default_rng(5)
    extra = ArticleSummary(id=999, title="Added later", publisher="Outlet", published=None,
                           url=None, language="en", contributors=(),
                           added_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
    added = []
    for o in range(10):
        text = "icebreaker tariff summit. " + " ".join(rng.choice(WORDS, 6)) + "."
        spans = tuple((x.start, x.end) for x in split_sentences(text))
        added.append(IndexedPassage(5000 + o, 999, text, unit(rng.standard_normal(DIM)), spans,
                                    unit(rng.standard_normal((len(spans), DIM))
                                         ).astype(np.float16)))
    for index in (original, restored):
        index.add(extra, added)
    tokens = "icebreaker tariff summit".split()

    def slow_vector() -> np.ndarray:
        time.sleep(0.05)  # still computing when the search has ranked BM25
        return vectors[7]

    answers = []
    for index in (restored, original):
        for pending in (True, False):
            with ThreadPoolExecutor(1) as pool:
                vector = pool.submit(slow_vector) if pending else vectors[7]
                answers.append([(r.passage_id, round(r.score, 6), r.highlight) for r in
                                index.search(tokens, vector, top=8, feedback=True)])
    assert {r[0] for r in answers[0]} & {5000 + o for o in range(10)}  # rows added since
    assert {r[0] for r in answers[0]} - {5000 + o for o in range(10)}  # rows from the arrays
    assert answers[0] == answers[1] == answers[2] == answers[3]

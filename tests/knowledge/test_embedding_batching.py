"""Micro-batching: questions asked at the same moment from several threads share model calls."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from knowledge.embedding import HashingEmbedder
from knowledge.embedding.batching import QueryBatcher, embed_bulk

QUESTIONS = [f"question {n} about the summit in year {2000 + n}" for n in range(20)]


class CountingModel:
    """A stand-in model: real hashing vectors, a fixed cost per call, every call recorded."""

    def __init__(self, cost_s: float = 0.005) -> None:
        self.inner = HashingEmbedder(64)
        self.cost_s = cost_s
        self.calls: list[int] = []
        self.fail = False

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls.append(len(texts))
        time.sleep(self.cost_s)
        if self.fail:
            raise RuntimeError("model exploded")
        return self.inner.embed(texts)


def ask_concurrently(batcher: QueryBatcher, questions: list[str]) -> list[object]:
    """Every question from its own thread, released together; vectors or exceptions back."""
    start = threading.Barrier(len(questions))
    results: list[object] = [None] * len(questions)

    def ask(n: int) -> None:
        start.wait()
        try:
            results[n] = batcher.embed(questions[n])
        except Exception as exc:
            results[n] = exc

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(len(questions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a question never got its vector"
    return results


def test_concurrent_questions_share_calls_and_get_their_own_vectors() -> None:
    """20 questions at once take far fewer than 20 model calls, each with its own exact vector."""
    model = CountingModel()
    batcher = QueryBatcher(model.embed)
    results = ask_concurrently(batcher, QUESTIONS)
    assert len(model.calls) < len(QUESTIONS) // 2
    assert sum(model.calls) == len(QUESTIONS)
    expected = HashingEmbedder(64).embed(QUESTIONS)
    for n, vector in enumerate(results):
        assert isinstance(vector, np.ndarray)
        assert np.array_equal(vector, expected[n])


def test_questions_one_after_another_are_embedded_alone() -> None:
    """Without company, each question is its own call (waiting a moment for none)."""
    model = CountingModel(cost_s=0)
    batcher = QueryBatcher(model.embed)
    for question in QUESTIONS[:3]:
        assert np.array_equal(batcher.embed(question), HashingEmbedder(64).embed([question])[0])
    assert model.calls == [1, 1, 1]


def test_a_failing_call_fails_every_question_in_it_and_the_next_batch_works() -> None:
    """A model error reaches each waiting thread (none hangs); later questions still work."""
    model = CountingModel()
    batcher = QueryBatcher(model.embed)
    model.fail = True
    results = ask_concurrently(batcher, QUESTIONS[:8])
    assert all(isinstance(r, RuntimeError) for r in results)
    model.fail = False
    assert isinstance(batcher.embed("after the failure"), np.ndarray)


def test_batches_are_capped() -> None:
    """No call carries more than max_batch questions."""
    model = CountingModel()
    batcher = QueryBatcher(model.embed, max_batch=4)
    results = ask_concurrently(batcher, QUESTIONS)
    assert all(isinstance(r, np.ndarray) for r in results)
    assert max(model.calls) <= 4 and sum(model.calls) == len(QUESTIONS)


@pytest.mark.model
def test_sentence_transformer_queries_are_micro_batched() -> None:
    """The torch backend's embed_query batches concurrent questions and agrees with embed."""
    from knowledge.embedding import SentenceTransformerEmbedder
    from knowledge.settings import BUNDLED_MODEL

    embedder = SentenceTransformerEmbedder(BUNDLED_MODEL)
    embedder.load()
    results = ask_concurrently(embedder.query_batcher, QUESTIONS)
    assert embedder.query_batcher.calls < len(QUESTIONS)
    alone = embedder.embed(QUESTIONS)
    for n, vector in enumerate(results):
        assert isinstance(vector, np.ndarray)
        assert float(vector @ alone[n]) > 0.9999


# ----- bulk embedding (ingestion) ----------------------------------------------------------------

class RecordingModel:
    """A stand-in model: real hashing vectors; every text it is asked for, call by call."""

    def __init__(self) -> None:
        self.inner = HashingEmbedder(64)
        self.calls: list[list[str]] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return self.inner.embed(texts)


def test_bulk_embeds_each_distinct_text_once_longest_first() -> None:
    """Repeated texts reach the model once, longest first, and every row is its own text's."""
    texts = ["a short one", "a rather longer sentence about the summit", "a short one",
             "mid-length text here", "a rather longer sentence about the summit", "x"]
    model = RecordingModel()
    vectors = embed_bulk(model.embed, texts)
    assert model.calls == [["a rather longer sentence about the summit", "mid-length text here",
                            "a short one", "x"]]
    assert vectors.shape == (len(texts), 64)
    assert np.array_equal(vectors, HashingEmbedder(64).embed(texts))


def test_bulk_splits_into_blocks_of_sorted_texts() -> None:
    """Many texts go in calls of at most `block`, each call's texts no longer than the last's."""
    texts = [f"text {'word ' * (n % 13)}{n}" for n in range(50)]
    model = RecordingModel()
    vectors = embed_bulk(model.embed, texts, block=16)
    assert [len(c) for c in model.calls] == [16, 16, 16, 2]
    lengths = [len(t) for call in model.calls for t in call]
    assert lengths == sorted(lengths, reverse=True)
    assert np.array_equal(vectors, HashingEmbedder(64).embed(texts))


def test_bulk_of_nothing_is_empty() -> None:
    """No texts: an empty (0, dim) array, as the model gives."""
    assert embed_bulk(HashingEmbedder(64).embed, []).shape == (0, 64)

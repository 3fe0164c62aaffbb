"""Batching: concurrent questions share one model call; bulk texts are embedded once each,
longest first.

Questions (`QueryBatcher`): searches run in worker threads. Each question is tiny, and a transformer pays mostly per call,
so 20 users asking at once are served faster by one batch of 20 than by 20 calls in a row.
The first thread to arrive leads: it waits a couple of milliseconds for company, embeds every
question that has queued and hands each thread its row; a question that queued meanwhile
leads the next batch at once.

Bulk texts (`embed_bulk`, ingestion): every distinct text is embedded once, and the texts go to
the model ordered by length. sentence-transformers then fills each batch with texts of about
the same length (little padding); the ONNX embedder, which runs one text at a time on a small
thread pool, gets the longest texts first, so no thread is left with a long text at the end
while the others idle.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

# Long enough for a burst of threads to join, short next to a question's ~1.5 ms encode.
DEFAULT_WINDOW_S = 0.002
DEFAULT_MAX_BATCH = 64


# Texts handed to the model per call in bulk embedding: large enough that the thread pool and
# the sorted batches stay full, small enough that a call's inputs and outputs stay a few MB.
BULK_BLOCK = 4096


def embed_bulk(embed: Callable[[list[str]], np.ndarray], texts: Sequence[str], *,
               block: int = BULK_BLOCK) -> np.ndarray:
    """(len(texts), dim) vectors for many texts: each distinct text embedded once, longest
    first, ``block`` texts per model call; row i is the vector of texts[i]."""
    distinct = list(dict.fromkeys(texts))
    if not distinct:
        return embed([])
    longest_first = sorted(range(len(distinct)), key=lambda i: -len(distinct[i]))
    vectors: np.ndarray | None = None
    for start in range(0, len(longest_first), block):
        rows = longest_first[start:start + block]
        out = embed([distinct[i] for i in rows])
        if vectors is None:
            vectors = np.empty((len(distinct), out.shape[1]), dtype=np.float32)
        vectors[rows] = out
    assert vectors is not None
    row_of = {text: i for i, text in enumerate(distinct)}
    return vectors[[row_of[t] for t in texts]]


class _Pending:
    """One question waiting for its vector, or for its turn to lead the next batch."""

    __slots__ = ("error", "lead", "text", "vector", "wake")

    def __init__(self, text: str) -> None:
        self.text = text
        self.vector: np.ndarray | None = None
        self.error: BaseException | None = None
        self.lead = False
        self.wake = threading.Event()


class QueryBatcher:
    """Thread-safe: `embed(text)` returns one vector; calls that overlap share a batch."""

    def __init__(self, embed_batch: Callable[[list[str]], np.ndarray], *,
                 window_s: float = DEFAULT_WINDOW_S, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        self._embed_batch = embed_batch
        self.window_s = window_s
        self.max_batch = max_batch
        self._lock = threading.Lock()
        # Invariant: the queue is non-empty only while some thread leads, and a leader's own
        # question is always at the head of the queue, so its batch includes it.
        self._queue: list[_Pending] = []
        self._leading = False
        self.calls = 0  # model calls made, for benchmarks and tests

    def embed(self, text: str) -> np.ndarray:
        """The (dim,) vector of `text`, computed alone or with questions that arrived with it."""
        mine = _Pending(text)
        with self._lock:
            self._queue.append(mine)
            if not self._leading:
                self._leading = mine.lead = True
        if mine.lead:
            time.sleep(self.window_s)  # company arriving now joins this batch
        else:
            mine.wake.wait()  # a vector, an error, or the lead for the next batch
        if mine.lead:
            self._run_batch()
        if mine.error is not None:
            raise mine.error
        assert mine.vector is not None
        return mine.vector

    def _run_batch(self) -> None:
        with self._lock:
            batch = self._queue[: self.max_batch]
            del self._queue[: self.max_batch]
            self.calls += 1
        try:
            vectors = self._embed_batch([p.text for p in batch])
        except BaseException as exc:  # every waiting thread gets the failure; none hangs
            for pending in batch:
                pending.error = exc
        else:
            for pending, vector in zip(batch, vectors, strict=True):
                pending.vector = vector
        with self._lock:
            if self._queue:  # whoever waited longest leads the next batch, without delay
                self._queue[0].lead = True
                self._queue[0].wake.set()
            else:
                self._leading = False
        for pending in batch:
            pending.wake.set()

"""Passage vectors and the dense (cosine) side of a search.

A small index answers with one float32 matrix-vector product. From `QUANTIZED_FROM` rows on,
that product is memory-bound (100,000 x 384 floats are 153 MB to read per question, 11-13 ms on
one core), so the index also keeps an int8 copy of every row (a quarter of the bytes) and a
search runs in two steps:

1. onnxruntime's integer kernel multiplies the int8 rows by a 7-bit copy of the question,
   giving every row an estimate of its cosine and a proven bound on the estimate's error
   (from the rounding of the row and of the question, both known exactly);
2. exact float32 cosines are computed only for the rows whose upper bound reaches the k-th best
   lower bound: no other row can be among the k best.

So the top rows, their scores and every score asked for by position are the float32 ones, as
before; only the work to find them differs. (`tests/knowledge/index/test_dense.py` checks it
against the plain product, adversarial ties and near-ties included.)
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

QUANTIZED_FROM = 20_000  # rows; below this the float32 product is already well under a ms
_QUERY_LEVELS = 63  # 7-bit question codes: u8 x s8 pair sums cannot saturate int16 (AVX2 path)
_ROW_LEVELS = 127
_QUANTIZE_SLICE = 8192  # rows quantised at a time
# Added to every error bound: float32 rounding in the exact product (384 terms, |sum| <= 1) is
# below 1e-5 (the estimate's own rounding is bounded per question); the margin costs a few
# extra exact rows, nothing else.
_SLACK = 1e-4


KERNEL_FILE = Path(__file__).with_name("int8_dot.onnx")


class _IntegerKernel:
    """onnxruntime's MatMulInteger (uint8 rows x int8 question -> int32) from the shipped
    `int8_dot.onnx`, loaded once per process on first use; None when it cannot be (then
    searches use the float32 product alone)."""

    _lock = threading.Lock()
    _session: Any = None
    _failed = False

    @classmethod
    def get(cls) -> Any:
        with cls._lock:
            if cls._session is None and not cls._failed:
                try:
                    import onnxruntime as ort

                    options = ort.SessionOptions()
                    # Two threads: the product reads ~40 MB per 100k passages and one core
                    # cannot draw the memory bandwidth two can (3.1 vs 1.8 ms measured); no
                    # spinning, so an idle pool costs nothing between searches.
                    options.intra_op_num_threads = min(2, os.cpu_count() or 1)
                    options.inter_op_num_threads = 1
                    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                    cls._session = ort.InferenceSession(
                        KERNEL_FILE.read_bytes(), options, providers=["CPUExecutionProvider"])
                except Exception as exc:  # any failure: the float32 path
                    cls._failed = True
                    log.warning("int8 dense scoring unavailable (%s); searching with float32 "
                                "alone", exc)
            return cls._session


def build_kernel_model() -> bytes:
    """The bytes of `int8_dot.onnx` (maintainers, with the `onnx` package: the `build` extra;
    a test checks the shipped file is exactly this)."""
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["rows", "question"], ["dots"])], "dense_int8",
        [helper.make_tensor_value_info("rows", TensorProto.UINT8, [None, None]),
         helper.make_tensor_value_info("question", TensorProto.INT8, [None, None])],
        [helper.make_tensor_value_info("dots", TensorProto.INT32, [None, None])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="summit-desk")
    model.ir_version = 8
    return bytes(model.SerializeToString())


def quantize_rows(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the int8 codes, stored as uint8 (code + 128); the scale (row ~ scale * code);
    and (||row - scale * code||, ||row||), rounded up, for the error bound."""
    v = np.asarray(vectors, dtype=np.float32)
    peak = np.abs(v).max(axis=1) if len(v) else np.zeros(0, np.float32)
    scale = np.where(peak > 0, peak / _ROW_LEVELS, 1.0).astype(np.float32)
    codes = np.clip(np.rint(v / scale[:, None]), -_ROW_LEVELS, _ROW_LEVELS).astype(np.int16)
    v64 = v.astype(np.float64)
    error = np.linalg.norm(v64 - scale[:, None].astype(np.float64) * codes, axis=1)
    norm = np.linalg.norm(v64, axis=1)
    # (error, norm) per row, rounded up so float32 storage never understates them
    bounds = np.stack([np.nextafter(error.astype(np.float32), np.float32(np.inf)),
                       np.nextafter(norm.astype(np.float32), np.float32(np.inf))], axis=1)
    return (codes + 128).astype(np.uint8), scale, bounds


class DenseScores:
    """The dense side of one search: exact cosines where they are asked for.

    `top(mask, k)` gives the k best allowed rows with their exact cosines, best first (ties by
    position); `at(positions)` the exact cosines of any rows."""

    def __init__(self, index: DenseIndex, query: np.ndarray) -> None:
        self._index = index
        self._query = np.asarray(query, dtype=np.float32).reshape(-1)
        self._full: np.ndarray | None = None  # exact cosines of every row (small indexes)
        self._estimate: np.ndarray | None = None
        self._bound: np.ndarray | None = None
        estimate = index.estimate(self._query)
        if estimate is None:
            self._full = index.vectors() @ self._query
        else:
            self._estimate, self._bound = estimate

    def at(self, positions: np.ndarray) -> np.ndarray:
        """Exact cosines of the rows at `positions` (float32)."""
        positions = np.asarray(positions, dtype=np.int64)
        if self._full is not None:
            return self._full[positions]
        if not len(positions):
            return np.zeros(0, dtype=np.float32)
        return self._index.vectors()[positions] @ self._query

    def top(self, mask: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the k highest cosines among rows where `mask` is true, best first
        (equal cosines by position), and those cosines."""
        if k <= 0 or not mask.any():
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if self._full is not None:
            candidates = np.flatnonzero(mask)
            scores = self._full[candidates]
        else:
            candidates = self._could_be_top(mask, k)
            scores = self.at(candidates)
        if k < len(candidates):
            keep = np.argpartition(-scores, k - 1)[:k]
            candidates, scores = candidates[keep], scores[keep]
        order = np.lexsort((candidates, -scores))
        return candidates[order], scores[order]

    def _could_be_top(self, mask: np.ndarray, k: int) -> np.ndarray:
        """Allowed rows whose upper bound reaches the k-th highest lower bound: every row of
        the exact top k is among them (its cosine is at least that lower bound)."""
        assert self._estimate is not None and self._bound is not None
        lower = self._estimate - self._bound
        if not mask.all():
            np.putmask(lower, ~mask, -np.inf)
        upper = self._estimate + self._bound
        n = len(lower)
        if k >= n:
            return np.flatnonzero(mask)
        # A cheap floor first: split the rows into k runs; the smallest of the runs' maxima
        # is at most the k-th highest lower bound (k distinct rows reach it), so the rows
        # above it include the true top k. The k-th highest is then found among those few.
        runs = n // k
        floor = float(lower[: runs * k].reshape(k, runs).max(axis=1).min())
        rows = np.flatnonzero(mask & (upper >= floor))
        low = lower[rows]
        if k < len(rows):
            floor = max(floor, float(np.partition(low, len(rows) - k)[len(rows) - k]))
        return rows[upper[rows] >= floor]

    def top_among(self, positions: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """`top` over the given rows only (ascending, distinct positions): for a few hundred
        rows their exact cosines cost less than a pass over every row's bound."""
        positions = np.asarray(positions, dtype=np.int64)
        if k <= 0 or not len(positions):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = self.at(positions)
        order = np.lexsort((positions, -scores))[:k]
        return positions[order], scores[order]

    def best(self, mask: np.ndarray) -> float:
        """The highest cosine among the allowed rows (-1 when none is allowed)."""
        _, scores = self.top(mask, 1)
        return float(scores[0]) if len(scores) else -1.0


class DenseIndex:
    """Unit vectors stored row by row, with capacity doubling so appends stay cheap; from
    `QUANTIZED_FROM` rows on, with an int8 copy that makes searches read a quarter of it."""

    def __init__(self, dim: int, capacity: int = 1024) -> None:
        self.dim = dim
        self._matrix = np.zeros((capacity, dim), dtype=np.float32)
        self._size = 0
        # The int8 copy (module docstring): codes (uint8, code + 128), per-row scale, and per
        # row (rounding error, norm) for the bound; None until the index is large enough.
        self._codes: np.ndarray | None = None
        self._scales = np.zeros(0, dtype=np.float32)
        self._bounds = np.zeros((0, 2), dtype=np.float32)
        self._quantized = 0  # rows covered by the int8 copy
        self._max_scale = 0.0  # the largest row scale (for the rounding bound)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._size

    def add(self, vectors: np.ndarray) -> None:
        """Append rows (n, dim)."""
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        needed = self._size + len(vectors)
        if needed > len(self._matrix) or not self._matrix.flags.writeable:
            # A matrix loaded from the index cache is read-only and exactly full: grow it by a
            # quarter, not double (at 100k passages doubling would add 150 MB for one passage).
            capacity = max(needed, 2 * len(self._matrix) if self._matrix.flags.writeable
                           else needed + max(1024, len(self._matrix) // 4))
            grown = np.zeros((capacity, self.dim), dtype=np.float32)
            grown[: self._size] = self._matrix[: self._size]
            self._matrix = grown
        self._matrix[self._size:needed] = vectors
        self._size = needed

    def scores(self, query: np.ndarray) -> DenseScores:
        """The dense side of a search for a unit query vector (see `DenseScores`)."""
        return DenseScores(self, query)

    def vectors(self) -> np.ndarray:
        """The stored rows (a view)."""
        return self._matrix[: self._size]

    # ----- the int8 copy ---------------------------------------------------------------------
    def quantized(self) -> dict[str, np.ndarray] | None:
        """The int8 copy, current with every row, for the index cache (None below the size)."""
        if not self._sync_codes():
            return None
        assert self._codes is not None
        n = self._size
        return {"codes": self._codes[:n], "scales": self._scales[:n],
                "bounds": self._bounds[:n]}

    def estimate(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Per row: an estimate of the cosine with `query` and a bound on its error, from the
        int8 copy; None when the index is small or the integer kernel is unavailable."""
        if self._size < QUANTIZED_FROM or not self._sync_codes():
            return None
        kernel = _IntegerKernel.get()
        if kernel is None:
            return None
        assert self._codes is not None
        n = self._size
        # The question as two 7-bit columns, codes and the codes of what they left over, so
        # one pass over the rows (the cost is reading them) gives a ~14-bit question. Scales
        # are float32 numbers, so the float32 arithmetic below uses exactly these.
        q = query.astype(np.float64)
        columns, scales = [], []
        rest = q
        for _ in range(2):
            peak = float(np.abs(rest).max())
            scale = float(np.float32(peak / _QUERY_LEVELS)) if peak > 0 else 1.0
            codes = np.clip(np.rint(rest / scale), -_QUERY_LEVELS, _QUERY_LEVELS)
            columns.append(codes)
            scales.append(scale)
            rest = rest - codes * scale
        q_error = float(np.linalg.norm(rest))
        q_norm = float(np.linalg.norm(q - rest))
        question = np.stack(columns, axis=1).astype(np.int8)
        dots = kernel.run(None, {"rows": self._codes[:n], "question": question})[0]
        # Rows were stored as code + 128: the dots hold 128 x (sum of each column's codes)
        # too, taken off after scaling (`offset`). Every dot is below 2**24 (255 x 63 x 384),
        # so its float32 copy is exact; what the float32 arithmetic can round is bounded by
        # `rounding` (a few units in the last place of the largest possible terms).
        offset = 128.0 * sum(scale * float(col.sum()) for scale, col in zip(scales, columns, strict=True))
        estimate = dots.astype(np.float32) @ np.asarray(scales, dtype=np.float32)
        estimate -= np.float32(offset)
        estimate *= self._scales[:n]
        largest = 255.0 * sum(scale * float(np.abs(col).sum())
                              for scale, col in zip(scales, columns, strict=True))
        rounding = 8 * 2.0 ** -24 * (largest + abs(offset)) * self._max_scale
        # bounds columns: (row rounding error, row norm)
        bound = self._bounds[:n] @ np.asarray([q_norm, q_error], dtype=np.float32)
        bound += np.float32(_SLACK + rounding)
        return estimate, bound

    def _sync_codes(self) -> bool:
        """Bring the int8 copy up to date with the rows (made once the index is large)."""
        if self._size < QUANTIZED_FROM:
            return False
        if self._quantized == self._size and self._codes is not None:
            return True
        with self._lock:
            start, n = self._quantized, self._size
            if start == n and self._codes is not None:
                return True
            if self._codes is None or n > len(self._codes) or not self._codes.flags.writeable:
                capacity = max(n, len(self._matrix))
                grown_codes = np.zeros((capacity, self.dim), dtype=np.uint8)
                grown_scales = np.zeros(capacity, dtype=np.float32)
                grown_bounds = np.zeros((capacity, 2), dtype=np.float32)
                if self._codes is not None:
                    grown_codes[:start] = self._codes[:start]
                    grown_scales[:start] = self._scales[:start]
                    grown_bounds[:start] = self._bounds[:start]
                self._codes, self._scales, self._bounds = grown_codes, grown_scales, grown_bounds
            # in slices, so the float64 temporaries stay small (100k rows at once: ~400 MB)
            for a in range(start, n, _QUANTIZE_SLICE):
                b = min(n, a + _QUANTIZE_SLICE)
                self._codes[a:b], self._scales[a:b], self._bounds[a:b] = quantize_rows(
                    self._matrix[a:b])
            self._max_scale = max(self._max_scale, float(self._scales[start:n].max()))
            self._quantized = n
        return True

    @classmethod
    def restore(cls, matrix: np.ndarray,
                quantized: dict[str, np.ndarray] | None = None) -> DenseIndex:
        """An index over existing rows (e.g. memory-mapped from the index cache), not copied;
        with their int8 copy when the cache holds one (else it is made on first use)."""
        index = cls(matrix.shape[1], capacity=0)
        index._matrix = matrix
        index._size = len(matrix)
        if quantized is not None and len(quantized["codes"]) == len(matrix):
            index._codes = quantized["codes"]
            index._scales = quantized["scales"]
            index._bounds = quantized["bounds"]
            index._quantized = len(matrix)
            index._max_scale = float(index._scales.max(initial=0.0))
        return index

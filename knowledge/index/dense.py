"""A growing matrix of unit vectors; cosine similarity is one matrix-vector product."""

from __future__ import annotations

import numpy as np


class DenseIndex:
    """Unit vectors stored row by row, with capacity doubling so appends stay cheap."""

    def __init__(self, dim: int, capacity: int = 1024) -> None:
        self.dim = dim
        self._matrix = np.zeros((capacity, dim), dtype=np.float32)
        self._size = 0

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

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Cosine similarity of every stored vector with a unit query vector."""
        return self._matrix[: self._size] @ np.asarray(query, dtype=np.float32)

    def vectors(self) -> np.ndarray:
        """The stored rows (a view)."""
        return self._matrix[: self._size]

    @classmethod
    def restore(cls, matrix: np.ndarray) -> DenseIndex:
        """An index over existing rows (e.g. memory-mapped from the index cache), not copied."""
        index = cls(matrix.shape[1], capacity=0)
        index._matrix = matrix
        index._size = len(matrix)
        return index

"""A tiny deterministic embedder (hashed stemmed tokens) for fast unit tests only."""

from __future__ import annotations

import hashlib

import numpy as np

from knowledge.text.tokens import tokenize


class HashingEmbedder:
    """Bag of hashed stems: no model, microseconds per text; tests and benchmarks only."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    @property
    def fingerprint(self) -> str:
        """Stable identity for this embedder and dimension."""
        return f"hashing:{self.dim}"

    def embed(self, texts: list[str]) -> np.ndarray:
        """Bag of hashed stems, L2-normalised."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in tokenize(text):
                h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "big")
                out[row, h % self.dim] += 1.0 if (h >> 63) else -1.0
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """One text's vector (no batching: there is no model call to share)."""
        return self.embed([text])[0]

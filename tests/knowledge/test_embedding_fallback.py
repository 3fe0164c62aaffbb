"""A library embedded with the ONNX file, reopened when that file has gone bad: one warning, the
torch fallback, and every stored vector re-embedded with it when asked (never two models'
vectors mixed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from knowledge.corpus import PREBUILT_INDEX
from knowledge.embedding import BUNDLED_ONNX, SentenceTransformerEmbedder, make_embedder
from knowledge.errors import ConfigurationError
from knowledge.settings import BUNDLED_MODEL
from knowledge.store.tables import IndexStateRow, PassageRow

pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parents[2]
QUESTION = "What did experts expect from the Moscow summit in January 2019?"


def search(home: Path, *command: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """`python -m knowledge search` (or another command) on the library under `home`, as an
    operator runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMBEDDING_")}
    env.update(DATA_DIR=str(home / "data"), DATABASE_URL="", PYTHONPATH=str(REPO), **settings)
    return subprocess.run([sys.executable, "-m", "knowledge", *(command or ("search", QUESTION))],
                          cwd=home, env=env, capture_output=True, text=True, timeout=600)


def stored(home: Path) -> tuple[str, list[tuple[str, np.ndarray]]]:
    """The library's recorded model fingerprint and its passages' stored vectors."""
    engine = create_engine(f"sqlite:///{home / 'data' / 'summit-desk.sqlite3'}")
    with Session(engine) as session:
        fingerprint = session.get(IndexStateRow, "model_fingerprint")
        rows = session.execute(select(PassageRow.text, PassageRow.embedding)).all()
    engine.dispose()
    assert fingerprint is not None
    return fingerprint.value, [(text, np.frombuffer(blob, np.float32)) for text, blob in rows]


def test_damaged_onnx_file_falls_back_and_reembeds_everything(tmp_path: Path) -> None:
    """The ONNX-built library with a damaged file: a one-off search refuses to re-embed it
    (one warning, one error line naming the file's fault, nothing rewritten); `rebuild` re-embeds it with
    sentence-transformers, after which searches answer, no traceback. (The bot re-embeds at
    its start instead: tests/knowledge/test_library.py.)"""
    first = search(tmp_path)
    assert first.returncode == 0, first.stderr
    onnx = make_embedder(BUNDLED_MODEL)
    fingerprint, before = stored(tmp_path)
    assert fingerprint == onnx.fingerprint

    damaged = tmp_path / "damaged.onnx"
    shutil.copyfile(BUNDLED_ONNX.with_suffix(".json"), damaged.with_suffix(".json"))
    data = bytearray(BUNDLED_ONNX.read_bytes())
    data[1000] ^= 0xFF
    damaged.write_bytes(bytes(data))
    refused = search(tmp_path, EMBEDDING_ONNX_FILE=str(damaged))
    assert refused.returncode == 2, refused.stderr
    error = refused.stderr.splitlines()[-1]
    # the error line itself says why the model is another one: the file, then the models
    assert error.startswith(f"error: {damaged} does not match its manifest ("), error
    assert (f"so the bundled model fell back to sentence-transformers; the library's vectors "
            f"were made with {onnx.fingerprint}; the configured model is st:") in error
    assert stored(tmp_path)[0] == onnx.fingerprint
    rebuilt = search(tmp_path, "rebuild", EMBEDDING_ONNX_FILE=str(damaged))
    assert rebuilt.returncode == 0, rebuilt.stderr
    second = search(tmp_path, EMBEDDING_ONNX_FILE=str(damaged))
    assert second.returncode == 0, second.stderr
    assert "Abe-Putin Summit in Moscow" in second.stdout
    assert "Traceback" not in second.stderr
    warnings = [line for line in second.stderr.splitlines() if "ONNX embedder unavailable" in line]
    assert len(warnings) == 1 and "does not match its manifest" in warnings[0]

    torch_embedder = SentenceTransformerEmbedder(BUNDLED_MODEL)
    fingerprint, after = stored(tmp_path)
    assert fingerprint == torch_embedder.fingerprint
    assert len(after) == len(before)
    texts = [text for text, _ in after]
    old = np.stack([vector for _, vector in before])
    new = np.stack([vector for _, vector in after])
    assert texts == [text for text, _ in before]
    assert not np.any(np.all(np.isclose(old, new, atol=1e-6), axis=1)), \
        "a passage kept its ONNX vector"
    assert np.sum(old * new, axis=1).min() > 0.98  # the same model's vectors, from torch now


def test_fresh_install_with_a_bad_file_does_not_use_the_onnx_prebuilt_vectors(
        tmp_path: Path) -> None:
    """The shipped prebuilt vectors belong to the ONNX file: a fresh install that fell back to
    torch embeds the founding corpus itself, and its vectors are torch's."""
    result = search(tmp_path, EMBEDDING_ONNX_FILE=str(tmp_path / "absent.onnx"))
    assert result.returncode == 0, result.stderr
    assert "Abe-Putin Summit in Moscow" in result.stdout
    assert "Traceback" not in result.stderr
    assert sum("ONNX embedder unavailable" in line for line in result.stderr.splitlines()) == 1
    torch_embedder = SentenceTransformerEmbedder(BUNDLED_MODEL)
    fingerprint, rows = stored(tmp_path)
    assert fingerprint == torch_embedder.fingerprint
    with np.load(PREBUILT_INDEX) as prebuilt:
        shipped = np.concatenate([prebuilt[k] for k in prebuilt.files if k.startswith("vectors/")])
    vectors = np.stack([vector for _, vector in rows])
    assert len(vectors) == len(shipped)
    # No stored vector is a shipped (ONNX) one: every row was embedded by torch at start-up.
    assert (vectors @ shipped.T).max(axis=1).max() < 0.99999


def test_the_fallback_says_why(tmp_path: Path) -> None:
    """The torch embedder standing in for a bad ONNX file carries the reason (`bot check`
    prints it); one chosen on purpose carries none."""
    fallback = make_embedder(BUNDLED_MODEL, onnx_file=tmp_path / "absent.onnx")
    assert isinstance(fallback, SentenceTransformerEmbedder)
    assert fallback.fallback_reason == f"{tmp_path / 'absent.onnx'} is missing"
    chosen = make_embedder(BUNDLED_MODEL, backend="torch")
    assert isinstance(chosen, SentenceTransformerEmbedder) and chosen.fallback_reason is None


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_a_model_path_that_is_no_folder_says_so(tmp_path: Path, kind: str) -> None:
    """EMBEDDING_MODEL=/nonexistent is "folder not found" at once, not the model hub's "Repo id
    must use alphanumeric chars" when the model first loads."""
    path = tmp_path / "model"
    if kind == "file":
        path.write_text("not a model", encoding="utf-8")
    problem = "folder not found" if kind == "missing" else "is a file, not a model folder"
    embedder = make_embedder(str(path))  # nothing is loaded (or checked) before first use
    with pytest.raises(ConfigurationError) as refused:
        embedder.embed(["a question"])
    assert str(refused.value).startswith(f"cannot load embedding model {str(path)!r}: {problem}")

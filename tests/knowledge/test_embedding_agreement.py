"""The int8 ONNX embedder agrees with the float sentence-transformers model it was made from."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from knowledge.corpus import founding_document, founding_metadata
from knowledge.embedding import (
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    bundled_model_folder,
    make_embedder,
)
from knowledge.ingest import prepare
from knowledge.settings import BUNDLED_MODEL

pytestmark = pytest.mark.model

QUESTIONS = Path(__file__).resolve().parents[2] / "bench" / "questions.jsonl"


def founding_texts() -> tuple[list[str], list[str]]:
    """Every founding passage as it is embedded, and every distinct sentence of them."""
    passages, sentences = [], []
    for meta in founding_metadata():
        prepared = prepare(founding_document(meta))
        passages += prepared.embedding_texts()
        sentences += [prepared.text[a:b] for a, b in prepared.unique_sentences()]
    return passages, sentences


def bench_questions() -> list[str]:
    """The retrieval benchmark's questions."""
    return [json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines()
            if line.strip()]


def test_onnx_agrees_with_sentence_transformers(real_embedder: OnnxEmbedder) -> None:
    """Founding passages, their sentences and the bench questions: mean cosine >= 0.99 and none
    below 0.98 for each set (one scale per tensor would give 0.95 and 0.87)."""
    assert isinstance(real_embedder, OnnxEmbedder)
    torch_embedder = make_embedder(BUNDLED_MODEL, backend="torch")
    assert isinstance(torch_embedder, SentenceTransformerEmbedder)
    passages, sentences = founding_texts()
    for name, texts in (("passages", passages), ("sentences", sentences),
                        ("questions", bench_questions())):
        assert len(texts) > 20, name
        cosines = np.sum(real_embedder.embed(texts) * torch_embedder.embed(texts), axis=1)
        assert cosines.mean() >= 0.99, (name, float(cosines.mean()))
        assert cosines.min() >= 0.98, (name, texts[int(cosines.argmin())], float(cosines.min()))


def test_build_onnx_remakes_the_shipped_file(tmp_path: Path) -> None:
    """`python -m knowledge build-onnx` from the bundled weights gives a file that embeds like
    the shipped one, with a manifest the loader accepts (the shipped file is not stale)."""
    import subprocess
    import sys

    out = tmp_path / "rebuilt.onnx"
    result = subprocess.run([sys.executable, "-m", "knowledge", "build-onnx", "--output", str(out)],
                            capture_output=True, text=True, timeout=600,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"wrote {out}" in result.stdout
    rebuilt = OnnxEmbedder(out, bundled_model_folder())
    shipped = make_embedder(BUNDLED_MODEL, backend="onnx")
    texts = bench_questions()[:10] + founding_texts()[0][:5]
    cosines = np.sum(rebuilt.embed(texts) * shipped.embed(texts), axis=1)
    assert cosines.min() > 0.9999

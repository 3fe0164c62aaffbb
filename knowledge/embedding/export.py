"""Maintainers' tool: export the bundled model to ONNX with torch and quantise it to int8.

Dynamic int8 quantisation with one scale per output channel: with one scale per tensor the
vectors agree poorly with the float model (mean cosine 0.95, worst passage 0.87); per channel
they agree to a mean of 0.99+ (tests/knowledge/test_embedding_agreement.py). Needs torch and
the `onnx` package (the `build` extra); the running library needs neither.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

from knowledge.embedding.base import bundled_model_folder, sentence_transformer_fingerprint
from knowledge.embedding.onnx_model import (
    BUNDLED_ONNX,
    file_sha256,
    manifest_path,
    onnx_fingerprint,
)
from knowledge.errors import ConfigurationError

log = logging.getLogger(__name__)

OPSET = 17


def build_onnx(output: Path = BUNDLED_ONNX, model_folder: Path | None = None) -> dict:
    """Write the int8 ONNX file and its manifest; return the manifest."""
    try:
        import onnx  # noqa: F401  (torch's exporter writes through it)
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ConfigurationError(
            f"building the ONNX file needs {exc.name}: pip install torch==2.13.0 -e '.[build]'"
        ) from exc
    folder = model_folder or bundled_model_folder()
    model = SentenceTransformer(str(folder), device="cpu")
    transformer = model[0].auto_model
    if not isinstance(transformer, torch.nn.Module):
        raise ConfigurationError(f"{folder}: the first module holds no transformer")
    transformer.eval()

    class LastHiddenState(torch.nn.Module):
        """The transformer alone: pooling happens in NumPy as the model's config says."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    token_type_ids: torch.Tensor) -> torch.Tensor:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = model.tokenizer(["An example sentence to trace the graph.", "Another one."],
                             padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "tokens"} for name in names}
    axes["last_hidden_state"] = {0: "batch", 1: "tokens"}
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        float_path = Path(tmp) / "model.onnx"
        with torch.no_grad():
            torch.onnx.export(LastHiddenState(transformer), tuple(sample[n] for n in names),
                              str(float_path), input_names=names, output_names=["last_hidden_state"],
                              dynamic_axes=axes, opset_version=OPSET, dynamo=False)
        quantize_dynamic(float_path, output, per_channel=True, weight_type=QuantType.QInt8)
    sha256 = file_sha256(output.read_bytes())
    manifest = {
        "fingerprint": onnx_fingerprint(folder, sha256),
        "sha256": sha256,
        "source_fingerprint": sentence_transformer_fingerprint(str(folder), folder.name),
        "quantization": "dynamic int8 (QInt8 weights, per-channel scales)",
        "opset": OPSET,
        "torch": torch.__version__,
    }
    manifest_path(output).write_text(json.dumps(manifest, indent=2) + "\n")
    log.info("wrote %s (%s)", output, manifest["fingerprint"])
    return manifest

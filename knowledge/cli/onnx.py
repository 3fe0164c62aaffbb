"""`python -m knowledge build-onnx`: (maintainers) make the shipped int8 ONNX embedder file.

Exports the bundled model with torch, quantises it to int8 (per-channel scales), writes it with
its manifest into the package, then regenerates the shipped prebuilt index with it, so a fresh
install's founding-corpus vectors come from the file every install runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Add `build-onnx` to the CLI."""
    p = sub.add_parser("build-onnx",
                       help="(maintainers) export the bundled model to int8 ONNX and rebuild "
                            "the shipped prebuilt index with it")
    p.add_argument("--output", type=Path, default=None,
                   help="write the .onnx file (and its .json) here instead of into the package; "
                        "the prebuilt index is then left alone")
    p.add_argument("--skip-prebuilt", action="store_true",
                   help="do not regenerate knowledge/corpus/founding_index.npz")
    p.set_defaults(handler=cmd_build_onnx)


def cmd_build_onnx(args: argparse.Namespace) -> int:
    """Build the file, load it as the library would, and rebuild the prebuilt index with it."""
    from knowledge.corpus import write_prebuilt
    from knowledge.embedding import BUNDLED_ONNX, OnnxEmbedder, bundled_model_folder
    from knowledge.embedding.export import build_onnx
    from knowledge.topic_check import use_topic

    use_topic(None)  # the founding corpus is the bundled topic's, whatever TOPIC_DIR says
    output = args.output or BUNDLED_ONNX
    manifest = build_onnx(output)
    print(f"wrote {output} ({output.stat().st_size / 1e6:.1f} MB, {manifest['fingerprint']})")
    if args.skip_prebuilt or output.resolve() != BUNDLED_ONNX.resolve():
        return 0
    embedder = OnnxEmbedder(output, bundled_model_folder())
    print(f"wrote {write_prebuilt(embedder)} with {embedder.fingerprint}")
    print("now run: python -m knowledge build-seed (the seed database holds these vectors)")
    return 0

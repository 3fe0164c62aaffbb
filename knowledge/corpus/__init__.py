"""The founding corpus shipped with the package, its metadata and its prebuilt index."""

from __future__ import annotations

import json
from pathlib import Path

CORPUS_DIR = Path(__file__).resolve().parent
FOUNDING_DIR = CORPUS_DIR / "founding"
FOUNDING_METADATA = CORPUS_DIR / "founding.json"
PREBUILT_INDEX = CORPUS_DIR / "founding_index.npz"


def founding_metadata() -> list[dict]:
    """The curated metadata of each founding article (see founding.json)."""
    return list(json.loads(FOUNDING_METADATA.read_text(encoding="utf-8"))["articles"])

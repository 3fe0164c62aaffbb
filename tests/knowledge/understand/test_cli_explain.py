"""`search --json --explain` prints the question's reading beside the hits, each hit says why
it ranked, and the plain `--json` array keeps its shape (the CLI's contract)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
QUESTION = "What did the MGIMO professor say about the 17th meeting in April 2017?"


def _search(tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_"))}
    env.update(DATA_DIR=str(tmp_path), EMBEDDING_MODEL="hashing:256", NO_MATCH_THRESHOLD="0.05", NO_MATCH_NAMES_MARGIN="0",
               NO_MATCH_LEXICAL_FLOOR="0.05", HIT_MIN_SIMILARITY="0", PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "knowledge", "search", QUESTION, *flags],
                          capture_output=True, text=True, env=env, timeout=180, cwd=tmp_path)


def test_explain_shows_the_reading_and_why(tmp_path: Path) -> None:
    """The reading names the expert, the month and the meeting; the first hit says which
    signals ranked it; without --explain the output is still an array of hits."""
    out = _search(tmp_path, "--json", "--explain")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    reading = result["interpreted"]
    assert [p["name"] for p in reading["people"]] == ["Dmitry Streltsov"]
    assert reading["window"] == {"start": "2017-04-01", "end": "2017-04-30",
                                 "label": "April 2017"}
    assert [m["id"] for m in reading["meetings"]] == ["2017-04-moscow-abe-visit"]
    assert reading["line"] == ("read as: Dmitry Streltsov · April 2017 · Abe visits Moscow "
                               "(17th Putin-Abe meeting)")
    hits = result["hits"]
    assert hits and "by Dmitry Streltsov" in hits[0]["why"]
    plain = _search(tmp_path, "--json")
    assert isinstance(json.loads(plain.stdout), list)
    text = _search(tmp_path)
    assert text.stdout.splitlines()[0] == reading["line"]

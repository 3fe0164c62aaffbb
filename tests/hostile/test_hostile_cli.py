"""Hostile inputs through the real fetch path and the real CLI: each ends in one clear line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.web_server import FakeWeb
from tests.hostile.cases import HostileCase, cases

REPO = Path(__file__).resolve().parents[2]
CASES = cases()


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[str, str]]]:
    """Every case added by one `python -m knowledge add URL...`: status and message per case."""
    data_dir = tmp_path_factory.mktemp("hostile")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_"))}
    # Short extraction time so the quadratic page surely hits it on any machine.
    env.update(DATA_DIR=str(data_dir), EMBEDDING_MODEL="hashing:256", PYTHONPATH=str(REPO),
               FETCH_ALLOW_PRIVATE_ADDRESSES="true", EXTRACT_TIMEOUT_SECONDS="4")
    with FakeWeb() as web:
        for case in CASES:
            case.serve(web, case.path)
        out = subprocess.run(
            [sys.executable, "-m", "knowledge", "add", "--json",
             *(web.url(case.path) for case in CASES)],
            capture_output=True, text=True, env=env, cwd=data_dir, timeout=600)
        sources = subprocess.run([sys.executable, "-m", "knowledge", "sources", "--json"],
                                 capture_output=True, text=True, env=env, cwd=data_dir,
                                 timeout=120)
    assert "Traceback" not in out.stderr, out.stderr
    assert out.returncode == 2, out.stderr  # some inputs failed, none crashed the command
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    by_url = {line["input"]: (line["status"], line["message"]) for line in lines}
    found = {case.name: by_url[web.url(case.path)] for case in CASES}
    stored = {s["url"] for s in json.loads(sources.stdout)}
    found["stored sources"] = ("", json.dumps(sorted(stored)))
    yield found


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_hostile_input_ends_in_one_clear_line(
    results: dict[str, tuple[str, str]], case: HostileCase,
) -> None:
    """The input gets its expected status and a one-line reason, never an internal error."""
    status, message = results[case.name]
    assert status == case.status, message
    assert "\n" not in message
    assert re.search(case.reason, message), message
    assert "internal error" not in message


def test_refused_inputs_leave_nothing_stored(results: dict[str, tuple[str, str]]) -> None:
    """Only the inputs that were added have a source row: a refusal stores nothing half-way."""
    stored = set(json.loads(results["stored sources"][1]))
    added = {case.path for case in CASES if case.status == "added"}
    assert {url.rsplit("/", 1)[-1] for url in stored} == added

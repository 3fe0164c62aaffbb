"""`python -m knowledge add/sources/poll` in a subprocess, against the local fake web server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.web_server import FIXTURES, FakeWeb

REPO = Path(__file__).resolve().parents[3]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a subprocess with an isolated environment."""
    return subprocess.run([sys.executable, "-m", "knowledge", *args], capture_output=True,
                          text=True, env=env, timeout=180, cwd=env["DATA_DIR"])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A fresh data dir, the fast test embedder, and fetches allowed to reach 127.0.0.1."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_"))}
    base.update(DATA_DIR=str(tmp_path), EMBEDDING_MODEL="hashing:256",
                FETCH_ALLOW_PRIVATE_ADDRESSES="true", PYTHONPATH=str(REPO))
    return base


@pytest.fixture
def web() -> Iterator[FakeWeb]:
    """The local fake web server."""
    with FakeWeb() as server:
        yield server


def test_add_json_prints_one_result_per_input(env: dict[str, str], web: FakeWeb) -> None:
    """Several inputs give one JSON object each, in order; any error makes the exit status 2."""
    inputs = [web.url("article.html"), web.url("summary-rss.xml"), web.url("status/404"),
              str(FIXTURES / "uploads" / "brief.md")]
    out = run(["add", *inputs, "--json"], env)
    assert out.returncode == 2, out.stderr
    results = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["input"] for r in results] == inputs
    assert [r["status"] for r in results] == ["added", "added", "error", "added"]
    assert results[1]["message"].startswith("following feed #")
    assert results[2]["message"] == "127.0.0.1 answered 404 Not Found"
    assert set(results[0]) == {"input", "status", "message", "article_id", "title", "passages"}

    again = run(["add", "--feed", web.url("summary-rss.xml"), "--json"], env)
    assert again.returncode == 0, again.stderr
    assert "already following this feed" in json.loads(again.stdout)["message"]


def test_sources_and_poll_show_and_poll_feeds(env: dict[str, str], web: FakeWeb) -> None:
    """`sources --json` lists each source's status; `poll` polls due feeds, `--source` one now."""
    assert run(["add", web.url("rss.xml"), web.url("posts/summit-1.html")], env).returncode == 0
    listing = json.loads(run(["sources", "--json"], env).stdout)
    assert [(s["kind"], s["articles"]) for s in listing] == [("article", 1), ("feed", 3)]
    feed = listing[1]
    assert feed["next_poll_at"] and feed["last_fetch_at"] and feed["failing"] is False

    due = run(["poll", "--json"], env)
    assert (due.returncode, due.stdout) == (0, "")  # nothing is due an hour ahead
    now = run(["poll", "--source", str(feed["id"]), "--json"], env)
    assert now.returncode == 0, now.stderr
    assert json.loads(now.stdout)["status"] == "not_modified"

    text = run(["sources"], env).stdout
    assert f"#{feed['id']} [feed, ok] Harbour Institute: Commentary — 3 articles" in text
    removed = run(["sources", "--remove", str(feed["id"]), "--json"], env)
    assert [s["active"] for s in json.loads(removed.stdout)] == [True, False]

"""`python -m knowledge delete ID`: through the real entry point, an article, its passages and
its search hits go for good, in this process's and later processes' indexes."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.corpus import founding_metadata
from tests.knowledge.articles import NEW_ARTICLE

REPO = Path(__file__).resolve().parents[3]
QUERY = "icebreaker escorts dredging ports on the Northern Sea Route"


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess, in the data dir (no .env)."""
    return subprocess.run([sys.executable, "-m", "knowledge", *args], capture_output=True,
                          text=True, env=env, timeout=120, cwd=env["DATA_DIR"])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A fresh data dir on the fast test embedder, with the index cache on (the default)."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("DISCORD_", "DATABASE_", "EMBEDDING_", "INDEX_", "LOG_"))}
    base.update(DATA_DIR=str(tmp_path), EMBEDDING_MODEL="hashing:256", NO_MATCH_THRESHOLD="0.05",
                NO_MATCH_NAMES_MARGIN="0", NO_MATCH_LEXICAL_FLOOR="0.05",
                HIT_MIN_SIMILARITY="0", PYTHONPATH=str(REPO))
    return base


def found(env: dict[str, str], **settings: str) -> set[int]:
    """The article ids the test question finds (another process each time)."""
    out = run({**env, **settings}, "search", QUERY, "--top", "20", "--json")
    assert out.returncode == 0, out.stderr
    return {hit["article_id"] for hit in json.loads(out.stdout)}


def database(env: dict[str, str]) -> sqlite3.Connection:
    """The library's SQLite database, read directly."""
    return sqlite3.connect(Path(env["DATA_DIR"]) / "summit-desk.sqlite3")


def test_delete_shows_first_then_removes_the_article_for_every_later_process(
        env: dict[str, str]) -> None:
    """Shown and kept without --yes; gone with it, also from a process on the older cache."""
    text = Path(env["DATA_DIR"]) / "arctic.md"
    text.write_text(NEW_ARTICLE, encoding="utf-8")
    added = run(env, "add", str(text), "--json")
    assert added.returncode == 0, added.stderr
    article_id = json.loads(added.stdout)["article_id"]
    assert article_id in found(env)  # and the index cache is written

    shown = run(env, "delete", str(article_id))
    assert shown.returncode == 2
    assert shown.stdout.startswith(f"would delete #{article_id} Arctic shipping after the thaw")
    assert shown.stderr.strip() == (f"error: nothing deleted: run `python -m knowledge delete "
                                    f"{article_id} --yes` to delete it")
    assert article_id in found(env)

    deleted = run(env, "delete", str(article_id), "--yes", "--json")
    assert deleted.returncode == 0, deleted.stderr
    answer = json.loads(deleted.stdout)
    assert answer["deleted"] is True and answer["founding"] is False
    assert answer["article"]["article_id"] == article_id and answer["article"]["passages"] > 0

    with database(env) as db:
        assert db.execute("SELECT count(*) FROM articles WHERE id = ?",
                          (article_id,)).fetchone() == (0,)
        for table in ("passages", "article_reach", "article_people"):
            assert db.execute(f"SELECT count(*) FROM {table} WHERE article_id = ?",
                              (article_id,)).fetchone() == (0,), table
        assert db.execute("SELECT article_id FROM article_deletions").fetchall() \
            == [(article_id,)]
    assert run(env, "show", str(article_id)).returncode == 2

    cached = run({**env}, "-v", "search", QUERY, "--top", "20", "--json")
    assert "index loaded from its cache" in cached.stderr  # the cache from before the delete
    from_cache = {hit["article_id"] for hit in json.loads(cached.stdout)}
    assert article_id not in from_cache
    assert from_cache == found(env, INDEX_CACHE="false")

    again = run(env, "delete", str(article_id), "--yes")
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [f"error: no article #{article_id}"]


def test_a_deleted_founding_article_is_not_stored_again_at_the_next_start(
        env: dict[str, str]) -> None:
    """Each start stores missing founding articles, but not one the operator deleted."""
    listed = run(env, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    articles = {a["article_id"]: a["title"] for a in json.loads(listed.stdout)}
    assert len(articles) == len(founding_metadata())
    article_id = min(articles)

    deleted = run(env, "delete", str(article_id), "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout.splitlines()[1] == \
        "  a founding article: later starts do not store it again"

    for _ in range(2):  # each command is a start
        relisted = run(env, "list", "--json")
        assert relisted.returncode == 0, relisted.stderr
        titles = {a["title"] for a in json.loads(relisted.stdout)}
        assert titles == set(articles.values()) - {articles[article_id]}

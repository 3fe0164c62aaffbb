"""A command-line search loads only what answering needs (issue 11: cold start): once the
database is at the newest schema, Alembic is not loaded, and fetching, feed parsing, page
extraction and scheduling code is never imported by a search."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect, text

from knowledge.store.db import head_revision, make_engine, migrate, stored_revision
from tests.importtime import imported_modules

REPO = Path(__file__).resolve().parents[3]
QUESTION = "What did experts expect from the Moscow summit in January 2019?"
# Packages a search has no use for: migrations on a current database, links and feeds (httpx,
# feedparser, trafilatura, pypdf), HTML cleaning at ingestion (lxml), the scheduler
# (apscheduler).
NOT_FOR_A_SEARCH = {"alembic", "httpx", "httpcore", "feedparser", "trafilatura", "pypdf",
                    "lxml", "apscheduler"}


def search(tmp_path: Path) -> tuple[str, set[str]]:
    """`python -X importtime -m knowledge search QUESTION`: its output and what it imported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_"))}
    env.update(DATA_DIR=str(tmp_path / "data"), EMBEDDING_MODEL="hashing:256",
               NO_MATCH_THRESHOLD="0.05", NO_MATCH_NAMES_MARGIN="0", NO_MATCH_LEXICAL_FLOOR="0.05", HIT_MIN_SIMILARITY="0",
               PYTHONPATH=str(REPO))
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "knowledge", "search",
                             QUESTION], capture_output=True, text=True, env=env, timeout=300,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout, imported_modules(result.stderr)


def test_search_on_a_current_database_imports_only_what_it_needs(tmp_path: Path) -> None:
    """The first search migrates the new database (Alembic loaded); the next one, on a database
    at the newest revision, answers the same without Alembic or any fetching/scheduling code."""
    first, first_modules = search(tmp_path)
    # The check sees real imports: a new database migrates and the founding articles are
    # ingested (their HTML-capable cleaning loads lxml).
    assert {"alembic", "lxml"} <= first_modules
    second, second_modules = search(tmp_path)
    assert second == first and "Abe-Putin Summit in Moscow" in second
    assert {"sqlalchemy", "numpy"} <= second_modules
    assert not second_modules & NOT_FOR_A_SEARCH, second_modules & NOT_FOR_A_SEARCH


def test_head_revision_is_alembics_head() -> None:
    """The head read from the migration files is the one Alembic computes."""
    from alembic.script import ScriptDirectory

    from knowledge.store.db import alembic_config

    assert head_revision() == ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def test_migrate_upgrades_an_older_database_and_leaves_a_current_one(database_url: str) -> None:
    """A database behind the head is upgraded through Alembic; one at the head is left as it
    is (same revision, same tables). SQLite and PostgreSQL."""
    from alembic import command

    from knowledge.store.db import alembic_config

    engine = make_engine(database_url)
    with engine.begin() as conn:
        cfg = alembic_config(database_url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    assert stored_revision(engine) == "0001"
    assert "article_deletions" not in inspect(engine).get_table_names()
    migrate(engine)
    assert stored_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {"article_deletions", "guild_settings"} <= tables
    migrate(engine)  # at the head: nothing to do
    assert stored_revision(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) == tables
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    engine.dispose()


def test_stored_revision_of_a_new_database_is_none(database_url: str) -> None:
    """No alembic_version table yet: None (and migrate then creates the schema)."""
    engine = make_engine(database_url)
    assert stored_revision(engine) is None
    migrate(engine)
    assert stored_revision(engine) == head_revision()
    engine.dispose()

"""Migrations at start-up: a database a newer version of the code migrated (the code rolled
back after an upgrade) is one clear line, not Alembic's "Can't locate revision"; a migration
cut short on SQLite leaves the schema as it was."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from knowledge.errors import ConfigurationError
from knowledge.store.db import head_revision, make_engine, migrate, stored_revision

REPO = Path(__file__).resolve().parents[3]
FUTURE = "0099_from_the_future"


def upgraded_by_newer_code(url: str) -> None:
    """Migrate the database, then mark it as a newer revision had been applied."""
    engine = make_engine(url)
    try:
        migrate(engine)
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": FUTURE})
    finally:
        engine.dispose()


def test_a_schema_newer_than_the_code_is_named(database_url: str) -> None:
    """migrate() refuses a revision it does not know, naming it and the newest it knows, and
    leaves the database alone."""
    upgraded_by_newer_code(database_url)
    engine = make_engine(database_url)
    try:
        with pytest.raises(ConfigurationError) as refused:
            migrate(engine)
        assert str(refused.value) == (
            f"the database is at schema {FUTURE}, newer than this code knows (latest "
            f"{head_revision()}): upgrade the code or restore the backup taken before the "
            "upgrade")
        assert stored_revision(engine) == FUTURE
    finally:
        engine.dispose()


def test_the_command_line_says_so_in_one_line(tmp_path: Path) -> None:
    """`python -m knowledge list` on such a database: that line, exit 2 (it was "internal
    error: CommandError: Can't locate revision identified by ...", exit 1)."""
    upgraded_by_newer_code(f"sqlite:///{tmp_path / 'summit-desk.sqlite3'}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "EMBEDDING_"))}
    env.update(DATA_DIR=str(tmp_path), EMBEDDING_MODEL="hashing:256", PYTHONPATH=str(REPO))
    result = subprocess.run([sys.executable, "-m", "knowledge", "list"], capture_output=True,
                            text=True, env=env, timeout=120, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"error: the database is at schema {FUTURE}, newer than this code knows (latest "
        f"{head_revision()}): upgrade the code or restore the backup taken before the upgrade"]


def test_a_first_migration_cut_short_by_a_full_disk_leaves_no_half_schema(tmp_path: Path
                                                                          ) -> None:
    """SQLite's disk filling up in the middle of migration 0001 (PRAGMA max_page_count: SQLite's
    own "database or disk is full") rolls the whole schema back, so once there is room the next
    start migrates (it was half a schema, no version, then "table apscheduler_jobs already
    exists" at every start)."""
    url = f"sqlite:///{tmp_path / 'summit-desk.sqlite3'}"
    full = make_engine(url)

    @event.listens_for(full, "connect")
    def _small_disk(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.execute("PRAGMA max_page_count=12")  # room for a few tables, not all

    try:
        with pytest.raises(OperationalError, match="database or disk is full"):
            migrate(full)
    finally:
        full.dispose()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table' "
                                       "AND name != 'alembic_version'")).scalars().all()
        assert tables == []
        migrate(engine)  # room again: the next start sets the library up
        assert stored_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_a_half_made_schema_is_named_with_what_to_do(tmp_path: Path) -> None:
    """A library some earlier version left half made (tables, no schema version) is one line
    saying so and what to do, not Alembic's "table apscheduler_jobs already exists"."""
    path = tmp_path / "summit-desk.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE apscheduler_jobs (id VARCHAR(191) PRIMARY KEY)"))
            conn.execute(text("CREATE TABLE sources (id INTEGER PRIMARY KEY)"))
        with pytest.raises(ConfigurationError) as refused:
            migrate(engine)
    finally:
        engine.dispose()
    assert str(refused.value) == (
        f"the database {path} holds part of a schema (2 tables) but no schema version: its "
        "first set-up was cut short (a full disk?). Restore it from a backup, or, if it is a "
        f"new library with nothing in it yet, delete {path} (and any -wal and -shm file "
        "beside it) and start again")

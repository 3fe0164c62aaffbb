"""Migrations at start-up: a database a newer version of the code migrated (the code rolled
back after an upgrade) is one clear line, not Alembic's "Can't locate revision"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

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

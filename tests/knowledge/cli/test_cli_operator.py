"""`python -m knowledge` as an operator meets it: a DATA_DIR that is a file, a database that is
down or refuses the password, a password with an unencoded '@' are each one line on stderr with
exit status 2 (as the README promises), never an internal error, never the password."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import make_url

from tests.conftest import PG_URL
from tests.unwritable import unwritable_folder

REPO = Path(__file__).resolve().parents[3]
PASSWORD = "Hunter2Secret"


def run(tmp_path: Path, *args: str, prefix: Sequence[str] = (),
        **settings: str) -> subprocess.CompletedProcess[str]:
    """The CLI in an empty folder (no .env) with the bundled model unless told otherwise
    (`prefix`: a command that runs it, such as setpriv)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DISCORD_", "DATABASE_", "EMBEDDING_", "LOG_"))}
    env.update({"DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(REPO), **settings})
    return subprocess.run([*prefix, sys.executable, "-m", "knowledge", *args],
                          capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The only stderr line of a user mistake: exit 2, no traceback, no internal error."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "internal error" not in lines[0] and "Background on this error" not in lines[0]
    return lines[0]


def test_a_data_dir_that_is_a_file_is_named(tmp_path: Path) -> None:
    """DATA_DIR=/etc/passwd-like: a new library on the bundled model first looks for its seed
    database there, which used to end in "internal error: FileExistsError"."""
    file = tmp_path / "passwd"
    file.write_text("root:x:0:0\n", encoding="utf-8")
    line = one_line(run(tmp_path, "list", DATA_DIR=str(file)))
    assert line == f"error: DATA_DIR: {file} exists and is not a directory"


def test_a_data_dir_this_user_cannot_write_is_named(tmp_path: Path) -> None:
    """A DATA_DIR owned by another user: one line naming it and the uid, exit 2 (it was
    "internal error: PermissionError: ... summit-desk.sqlite3.migrate-lock")."""
    folder, prefix = unwritable_folder(tmp_path)
    line = one_line(run(tmp_path, "list", prefix=prefix, DATA_DIR=str(folder),
                        EMBEDDING_MODEL="hashing"))
    assert line.startswith(f"error: DATA_DIR {folder} is not writable by this user "
                           f"(uid {os.geteuid()}): Permission denied; "), line


@pytest.mark.parametrize(("url", "driver"), [
    (f"postgresql+psycopg2://summit:{PASSWORD}@db:5432/summitdesk",
     "postgresql driver 'psycopg2' is not installed (No module named 'psycopg2')"),
    ("mysql://x", "mysql driver 'mysqldb' is not installed (No module named 'MySQLdb')")])
def test_a_driver_that_is_not_installed_is_a_setting_mistake(tmp_path: Path, url: str,
                                                              driver: str) -> None:
    """A database driver Summit Desk does not install (psycopg2, MySQLdb) is one line, exit
    2, naming the supported forms (it was "internal error: ModuleNotFoundError", exit 1)."""
    line = one_line(run(tmp_path, "list", DATABASE_URL=url))
    assert line == (f"error: DATABASE_URL: the {driver}; supported: postgresql+psycopg:// "
                    "(PostgreSQL through psycopg 3, installed with Summit Desk), sqlite:/// "
                    "or empty (SQLite in DATA_DIR)")


def test_an_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    """A server that is down: the driver's words, the URL with *** for its password."""
    url = f"postgresql+psycopg://summit:{PASSWORD}@127.0.0.1:1/summitdesk"
    line = one_line(run(tmp_path, "list", DATABASE_URL=url))
    assert line.startswith("error: cannot use the database postgresql+psycopg://summit:***@"
                           "127.0.0.1:1/summitdesk: connection failed: "), line
    assert "Connection refused" in line and PASSWORD not in line


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set")
def test_a_refusing_server_is_one_line_without_the_password(tmp_path: Path) -> None:
    """The server answers and refuses (here: no such database; a wrong password reaches the
    same path, but a test server that trusts local connections never checks one): its
    refusal in one line, the password not shown."""
    url = make_url(PG_URL).set(password=PASSWORD, drivername="postgresql+psycopg",
                               database="no_such_summit_db")
    result = run(tmp_path, "list", DATABASE_URL=url.render_as_string(hide_password=False))
    line = one_line(result)
    assert "no_such_summit_db" in line and "does not exist" in line, line
    assert PASSWORD not in line


@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_a_password_with_an_unencoded_at_is_refused_unechoed(tmp_path: Path,
                                                             debug: list[str]) -> None:
    """'s3cr3t@pass' would reach the driver as host 'pass@db' and be printed: refused as a
    setting, with or without --debug, no piece of it shown."""
    url = "postgresql+psycopg://summit:Zq7s3cr3t@Pw9pass@db:5432/summitdesk"
    result = run(tmp_path, *debug, "list", DATABASE_URL=url)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(
        "error: DATABASE_URL: an unencoded '@' in the password")
    assert "Zq7s3cr3t" not in result.stderr and "Pw9pass" not in result.stderr

"""`python -m knowledge`: the QA round's defects (huge ids, wrong settings, binary query files,
--debug after the command, --explain without --json, --json on rebuild, unknown publishers)
stay fixed, through the real entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.cli import build_parser
from knowledge.cli.common import MAX_DISCORD_ID, MAX_ID
from knowledge.errors import NotFound
from knowledge.service import KnowledgeService

REPO = Path(__file__).resolve().parents[3]
HUGE = "99999999999999999999999"


def run(args: list[str], env: dict[str, str], timeout: float = 120
        ) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a subprocess with an isolated environment (in the test's folder: DATA_DIR
    may be the wrong setting under test)."""
    return subprocess.run([sys.executable, "-m", "knowledge", *args], capture_output=True,
                          text=True, env=env, timeout=timeout, cwd=env["TEST_CWD"])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A fresh data dir and the fast test embedder."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("DISCORD_", "DATABASE_", "NO_MATCH_", "HIT_", "LOG_"))}
    base.update(DATA_DIR=str(tmp_path), TEST_CWD=str(tmp_path), EMBEDDING_MODEL="hashing:256", NO_MATCH_THRESHOLD="0.05", NO_MATCH_NAMES_MARGIN="0",
                NO_MATCH_LEXICAL_FLOOR="0.05", HIT_MIN_SIMILARITY="0", PYTHONPATH=str(REPO))
    return base


def one_error_line(out: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a user mistake (exit 2, no traceback, no internal error)."""
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert "internal error" not in out.stderr and "Traceback" not in out.stderr, out.stderr
    return out.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("args", [
    ["show", HUGE], ["show", str(MAX_ID + 1)], ["show", "0"],
    ["confirm-proposal", HUGE],
    ["reject-proposal", HUGE],
    ["sources", "--remove", HUGE],
    ["poll", "--source", HUGE],
    ["digest", "preview", "--guild", HUGE], ["digest", "list", "--guild", HUGE],
    ["digest", "list", "--guild", str(MAX_DISCORD_ID + 1)],
])
def test_ids_out_of_range_are_user_mistakes(env: dict[str, str], args: list[str]) -> None:
    """An id no database can hold is refused in one line with exit 2, never an OverflowError."""
    line = one_error_line(run(args, env))
    assert "OverflowError" not in line and "id" in line


def test_the_largest_ids_are_simply_not_found(env: dict[str, str]) -> None:
    """The largest id a stored row can have reaches the library and is "no article"; the
    largest Discord id is a server without subscriptions."""
    assert one_error_line(run(["show", str(MAX_ID)], env)) == f"error: no article #{MAX_ID}"
    out = run(["digest", "list", "--guild", str(MAX_DISCORD_ID), "--json"], env)
    assert out.returncode == 0 and json.loads(out.stdout) == [], out.stderr


def test_ids_at_the_limit_on_each_database(env: dict[str, str], database_url: str) -> None:
    """On SQLite and PostgreSQL (INTEGER ids, 32-bit there) the largest allowed id is "no
    article" and the next one is refused before the library, not "integer out of range"."""
    db = {**env, "DATABASE_URL": database_url}
    assert one_error_line(run(["show", str(MAX_ID)], db)) == f"error: no article #{MAX_ID}"
    assert "no such id" in one_error_line(run(["show", str(MAX_ID + 1)], db))


@pytest.mark.parametrize("setting,value,needle", [
    ("NO_MATCH_THRESHOLD", "abc", "error: NO_MATCH_THRESHOLD: "),
    ("DATABASE_URL", "bogus://x", "error: DATABASE_URL: not a database URL"),
    ("DATABASE_URL", "not a url at all", "error: DATABASE_URL: not a database URL"),
    ("DATA_DIR", "{file}", "error: DATA_DIR: {file} exists and is not a directory"),
    ("DATA_DIR", "{file}/inside", "error: DATA_DIR: cannot create {file}/inside"),
])
def test_wrong_settings_are_one_line_naming_the_setting(
        env: dict[str, str], tmp_path: Path, setting: str, value: str, needle: str) -> None:
    """A wrong setting is one line that names it (no pydantic dump, no internal error)."""
    file = tmp_path / "a-file"
    file.write_text("not a directory", encoding="utf-8")
    out = run(["list"], {**env, setting: value.format(file=file)})
    line = one_error_line(out)
    assert line.startswith(needle.format(file=file)), line
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "pydantic" not in out.stderr


def test_a_wrong_database_url_is_not_echoed(env: dict[str, str]) -> None:
    """The problem is named without repeating the URL (it may carry a password)."""
    line = one_error_line(run(["list"], {**env, "DATABASE_URL": "bogus://user:hunter2@x/db"}))
    assert "hunter2" not in line


def test_binary_queries_file_is_a_user_mistake(env: dict[str, str], tmp_path: Path) -> None:
    """--queries-file on a file that is not UTF-8 says so in one line (exit 2)."""
    binary = tmp_path / "queries.bin"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00\xd0\xff\xfe" * 20)
    line = one_error_line(run(["search", "--queries-file", str(binary), "--json"], env))
    assert line == f"error: cannot read {binary}: not UTF-8 text"


@pytest.mark.parametrize("argv", [
    ["--debug", "show", "1"], ["show", "1", "--debug"], ["-v", "--debug", "show", "1"],
    ["show", "--debug", "-v", "1"], ["digest", "preview", "--debug", "-v"],
    ["digest", "--debug", "-v", "preview"],
])
def test_debug_and_verbose_work_on_either_side_of_the_command(argv: list[str]) -> None:
    """--debug and -v are taken before or after the command's name (the internal-error hint
    says "run with --debug")."""
    args = build_parser().parse_args(argv)
    assert args.debug and (args.verbose == ("-v" in argv))


def test_no_debug_flag_means_no_debug() -> None:
    """Without the flags both stay off (a command's parser does not reset the program's)."""
    args = build_parser().parse_args(["show", "1"])
    assert not args.debug and not args.verbose
    assert build_parser().parse_args(["--debug", "sources"]).debug


def test_debug_after_the_command_runs_it(env: dict[str, str]) -> None:
    """`show 1 --debug` shows the article instead of "unrecognized arguments"."""
    out = run(["show", "1", "--debug"], env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("#1 ")


def test_explain_without_json_prints_the_reading_and_the_signals(env: dict[str, str]) -> None:
    """search --explain in plain mode starts with the "read as" line (also when nothing was
    read) and gives each hit's ranking signals; without --explain neither appears."""
    plain = run(["search", "islands", "--top", "2"], env)
    explained = run(["search", "islands", "--top", "2", "--explain"], env)
    assert plain.returncode == explained.returncode == 0, explained.stderr
    assert explained.stdout.startswith("read as: ")
    assert explained.stdout.count("   why: ") == 2
    assert "read as" not in plain.stdout and "why:" not in plain.stdout


def test_rebuild_json(env: dict[str, str]) -> None:
    """rebuild --json prints one JSON object on stdout; the progress bar stays on stderr."""
    out = run(["rebuild", "--json"], env, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["passages"] > 0 and result["embedder"]


def test_unknown_publisher_is_an_error_like_an_unknown_expert(env: dict[str, str]) -> None:
    """--publisher that no stored article's publisher contains is an error (exit 2), as
    --person is; a known one, in any case and in part, still filters."""
    line = one_error_line(run(["search", "islands", "--publisher", "Nowhere"], env))
    assert line == "error: no publisher called “Nowhere” in the library"
    found = run(["search", "islands", "--publisher", "vALDAI", "--json"], env)
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert hits and {h["publisher"] for h in hits} == {"Valdai Discussion Club"}


def test_unknown_publisher_in_the_shared_search(hashing_service: KnowledgeService) -> None:
    """The check is in retrieval, so the bot's /ask gets it too; a publisher only another
    server's articles have is unknown to a server that cannot see them."""
    with pytest.raises(NotFound, match="no publisher called “Nowhere”"):
        hashing_service.search("islands", publisher="Nowhere", guild_id=None)
    with pytest.raises(NotFound, match="no publisher"):
        hashing_service.search("islands", publisher="Nowhere", guild_id=42)
    assert hashing_service.search("islands", publisher=" east asia ", guild_id=42)

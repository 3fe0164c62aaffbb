"""`python -m knowledge` as the outside tester met it: command-line mistakes, text that is not
UTF-8 and a misspelt `.env` key are each one line on stderr; -v shows this program's progress
without Alembic's chatter. Through the real entry point, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.cli import build_parser

REPO = Path(__file__).resolve().parents[3]
PROG = "python -m knowledge"
NOT_UTF8 = "not valid text: it holds bytes that are not UTF-8"


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a subprocess in the data dir (where a `.env` would be read)."""
    return subprocess.run([sys.executable, "-m", "knowledge", *args], capture_output=True,
                          text=True, env=env, timeout=180, cwd=env["DATA_DIR"])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A fresh data dir and the fast test embedder."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("DISCORD_", "DATABASE_", "LOG_"))}
    base.update(DATA_DIR=str(tmp_path), EMBEDDING_MODEL="hashing:256", PYTHONPATH=str(REPO))
    return base


def undecodable(raw: bytes) -> str:
    """An argument as Python receives bytes that are not UTF-8 (lone surrogates)."""
    return os.fsdecode(raw)


@pytest.mark.parametrize("args,line", [
    (["search", "x", "--top", "0"],
     "error: argument --top: must be a whole number from 1 to 50, not '0' "
     f"(see `{PROG} search --help`)"),
    (["search", "x", "--since", "2016-13"],
     f"error: argument --since: month must be in 1..12 (see `{PROG} search --help`)"),
    (["show", "0"],
     "error: argument article_id: no such id: 0 (ids run from 1 to 2147483647) "
     f"(see `{PROG} show --help`)"),
    (["poll", "--source", "abc"],
     "error: argument --source: not an id: 'abc' (ids are whole numbers) "
     f"(see `{PROG} poll --help`)"),
    # int() reads other scripts' digits: an id is typed in ASCII digits
    (["delete", "\u0666"],
     "error: argument article_id: not an id: '\u0666' (ids are whole numbers) "
     f"(see `{PROG} delete --help`)"),
    (["compare", "ports", "--top-per-expert", "99"],
     "error: argument --top-per-expert: must be a whole number from 1 to 10, not '99' "
     f"(see `{PROG} compare --help`)"),
    (["digest"],
     "error: the following arguments are required: SUBCOMMAND "
     f"(see `{PROG} digest --help`)"),
])
def test_command_line_mistakes_are_one_line(env: dict[str, str], args: list[str],
                                            line: str) -> None:
    """A mistake argparse catches is one line on stderr naming the argument and the command's
    help, exit 2, instead of the usage block and the error."""
    out = run(args, env)
    assert (out.returncode, out.stdout, out.stderr) == (2, "", line + "\n")


def test_the_usage_is_for_help_only(env: dict[str, str]) -> None:
    """--help prints argparse's usage and options on stdout, exit 0; a mistake in the same
    command prints no usage at all."""
    out = run(["search", "--help"], env)
    assert out.returncode == 0 and out.stderr == ""
    assert out.stdout.startswith(f"usage: {PROG} search ") and "--top TOP" in out.stdout
    mistake = run(["search", "--top", "x", "ports"], env)
    assert mistake.returncode == 2 and "usage" not in mistake.stderr, mistake.stderr


@pytest.mark.parametrize("args,name,command", [
    (["search", undecodable(b"sanctions \xff")], "query", "search"),
    (["search", "ports", "--person", undecodable(b"Akiyama\xe9")], "--person", "search"),
    (["compare", undecodable(b"\xffports")], "topic", "compare"),
    (["add", undecodable(b"http://127.0.0.1:9/\xe9.html")], "URL_OR_PATH", "add"),
])
def test_text_that_is_not_utf8_is_refused_in_one_line(env: dict[str, str], args: list[str],
                                                      name: str, command: str) -> None:
    """Bytes that are not UTF-8 in a question, a name, a topic or a link: one line naming the
    argument, exit 2 (no "internal error", no traceback from the tokenizer or httpx)."""
    out = run(args, env)
    assert (out.returncode, out.stdout) == (2, ""), out.stderr
    assert out.stderr == (f"error: argument {name}: {NOT_UTF8} "
                          f"(see `{PROG} {command} --help`)\n")


def test_paths_that_are_not_utf8_are_kept(env: dict[str, str], tmp_path: Path) -> None:
    """A Linux file name may hold such bytes: `--queries-file` reads it, and `add` keeps an
    existing one as given (while a link with such bytes is refused)."""
    queries = Path(undecodable(str(tmp_path).encode() + b"/questions-\xff.txt"))
    queries.write_text("Kuril islands\n", encoding="utf-8")
    out = run(["search", "--queries-file", str(queries), "--json"], env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("[{")
    assert build_parser().parse_args(["add", str(queries)]).inputs == [str(queries)]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["add", str(queries) + ".missing"])


def test_a_misspelt_env_key_is_warned_about(env: dict[str, str]) -> None:
    """`DATABSE_URL` in the working folder's .env gets the bot's one-line warning on stderr;
    the command still runs (on SQLite, as the warning implies)."""
    Path(env["DATA_DIR"], ".env").write_text("DATABSE_URL=sqlite:///elsewhere.sqlite3\n"
                                             "DISCORD_TOKEN=not-a-setting-here\n",
                                             encoding="utf-8")
    out = run(["list"], env)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ("warning: .env sets DATABSE_URL (did you mean DATABASE_URL?): "
                          "not settings, ignored\n")
    assert out.stdout.startswith("#")


def test_verbose_logs_progress_without_alembic(env: dict[str, str]) -> None:
    """-v on a new library logs its set-up (the migration included) but none of Alembic's own
    INFO lines ("setup plugin ...")."""
    out = run(["-v", "list"], env)
    assert out.returncode == 0, out.stderr
    assert "INFO    knowledge." in out.stderr
    assert "alembic" not in out.stderr, out.stderr

"""`python -m bot` and `python -m bot check`: start-up problems are one clear line, never a
traceback, never the token."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.fakes.discord_server import BotProcess, FakeDiscord, World
from tests.unwritable import unwritable_folder

REPO = Path(__file__).resolve().parents[2]
SECRET = "not-the-token-SECRET-4242"


def run_bot(tmp_path: Path, *args: str, prefix: Sequence[str] = (),
            **env: str) -> subprocess.CompletedProcess[str]:
    """Run the entry point in an empty directory (no .env) with only the given settings
    (`prefix`: a command that runs it, such as setpriv)."""
    environ = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(tmp_path),
               "DATA_DIR": str(tmp_path / "data"), **env}
    return subprocess.run([*prefix, sys.executable, "-m", "bot", *args], cwd=tmp_path,
                          env=environ, capture_output=True, text=True, timeout=120, check=False)


def test_missing_token_is_one_line(tmp_path: Path) -> None:
    """Without DISCORD_TOKEN the bot exits non-zero with a single explanatory line."""
    result = run_bot(tmp_path)
    assert result.returncode != 0
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert lines == ["summit-desk: DISCORD_TOKEN is not set (put it in the environment or .env)"]


def test_bad_setting_is_named_without_echoing_its_value(tmp_path: Path) -> None:
    """An invalid value is reported by setting name; the value itself is not printed."""
    result = run_bot(tmp_path, DISCORD_TOKEN=SECRET, DISCORD_SHARD_COUNT=f"x{SECRET}")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "DISCORD_SHARD_COUNT" in output and SECRET not in output
    assert "Traceback" not in output


@pytest.mark.e2e
async def test_rejected_token_is_one_line_without_the_token(tmp_path: Path) -> None:
    """A token Discord answers with 401 ends the process with one line naming the setting."""
    async with FakeDiscord(World.default()) as fake:
        env = {"DISCORD_TOKEN": SECRET, "DISCORD_API_BASE_URL": fake.api_base,
               "DISCORD_GATEWAY_URL": fake.gateway_url, "DATA_DIR": str(tmp_path / "data"),
               "PYTHONPATH": str(REPO)}
        process = BotProcess([sys.executable, "-m", "bot"], env=env, cwd=str(tmp_path))
        await process.start()
        await process.wait_for_output("Discord rejected DISCORD_TOKEN", timeout=60)
        for _ in range(300):  # it exits by itself; stop() is only the safety net
            if not process.running:
                break
            await asyncio.sleep(0.1)
        code = await process.stop(timeout=5)
    assert code == 1
    assert "Traceback" not in process.output and SECRET not in process.output
    assert [r for r in fake.requests if r.path == "/users/@me"]


def test_check_reports_each_failing_part_without_connecting(tmp_path: Path) -> None:
    """`check` prints one line per part: the missing token and a broken model both FAIL."""
    result = run_bot(tmp_path, "check", EMBEDDING_MODEL=str(tmp_path / "no-such-model"))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "settings: FAILED: DISCORD_TOKEN is not set (put it in the environment " \
                       "or .env)"
    database = next(line for line in lines if line.startswith("database: ok"))
    assert "seed" not in database  # another model is configured: not the bundled one's vectors
    model = f"model: FAILED: cannot load embedding model '{tmp_path / 'no-such-model'}': " \
            "folder not found"
    assert any(line.startswith(model) for line in lines), lines
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.model
def test_check_passes_on_a_fresh_install(tmp_path: Path) -> None:
    """With a token and the bundled model, every check is ok and the exit status is 0."""
    result = run_bot(tmp_path, "check", DISCORD_TOKEN=SECRET)
    assert result.returncode == 0, result.stdout + result.stderr
    parts = [line.split(":", 1)[0] for line in result.stdout.splitlines()]
    assert parts == ["settings", "topic", "process", "database", "model", "index"]
    assert all(": ok" in line for line in result.stdout.splitlines())
    assert "topic: ok ('Russia–Japan meetings' (bundled): " in result.stdout
    assert "5 articles" in result.stdout and SECRET not in result.stdout + result.stderr
    assert "new library from the seed database" in result.stdout
    again = run_bot(tmp_path, "check", DISCORD_TOKEN=SECRET)  # the library is there now
    assert again.returncode == 0 and "seed" not in again.stdout


@pytest.mark.model
def test_check_passes_with_a_settings_file_copied_from_the_example(tmp_path: Path) -> None:
    """.env.example copied to .env with a token set (the README's set-up) passes `check`:
    its empty EMBEDDING_ONNX_FILE= means the shipped file, not a file named '.'."""
    text = (REPO / ".env.example").read_text(encoding="utf-8")
    (tmp_path / ".env").write_text(
        text.replace("\nDISCORD_TOKEN=\n", f"\nDISCORD_TOKEN={SECRET}\n"), encoding="utf-8")
    result = run_bot(tmp_path, "check")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    model = next(line for line in result.stdout.splitlines() if line.startswith("model:"))
    assert model.startswith("model: ok (bundled:all-MiniLM-L6-v2, ") and "fell back" not in model
    assert SECRET not in output and "Traceback" not in output


def test_check_refuses_a_password_with_an_unencoded_at_without_showing_it(tmp_path: Path
                                                                           ) -> None:
    """An '@' inside the password would make the driver print its tail as the host: the
    settings line refuses the URL instead, and no piece of the password is printed."""
    url = "postgresql+psycopg://summit:Zq7s3cr3t@Pw9pass@db:5432/summitdesk"
    result = run_bot(tmp_path, "check", DISCORD_TOKEN=SECRET, DATABASE_URL=url)
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith(
        "settings: FAILED: DATABASE_URL: an unencoded '@' in the password"), output
    assert "Zq7s3cr3t" not in output and "Pw9pass" not in output and SECRET not in output


def test_check_reports_an_unreachable_database_in_one_line(tmp_path: Path) -> None:
    """A database that refuses the connection is one `database` line: the driver's words and
    the URL with its password masked, without SQLAlchemy's "Background on this error" line."""
    url = "postgresql+psycopg://summit:Hunter2Secret@127.0.0.1:1/summitdesk"
    result = run_bot(tmp_path, "check", DISCORD_TOKEN=SECRET, DATABASE_URL=url)
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert result.stdout.splitlines()[3:] == [
        "database: FAILED: cannot use the database postgresql+psycopg://summit:***@127.0.0.1:1/"
        "summitdesk: connection failed: connection to server at \"127.0.0.1\", port 1 failed: "
        "Connection refused Is the server running on that host and accepting TCP/IP "
        "connections?"], output
    assert "Hunter2Secret" not in output and "Background on this error" not in output


def test_an_unknown_log_level_stops_check_and_start_in_one_line(tmp_path: Path) -> None:
    """LOG_LEVEL=verbose is a settings error for `check` and for the bot, not a ValueError
    traceback once the bot sets up logging."""
    start = run_bot(tmp_path, DISCORD_TOKEN=SECRET, LOG_LEVEL="verbose")
    assert start.returncode == 1
    assert (start.stdout + start.stderr).strip().splitlines() == [
        "summit-desk: LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"]
    check = run_bot(tmp_path, "check", DISCORD_TOKEN=SECRET, LOG_LEVEL="verbose")
    assert check.returncode == 1
    assert check.stdout.splitlines()[0] == \
        "settings: FAILED: LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"


def test_bad_digest_defaults_and_repeated_shards_fail_the_check(tmp_path: Path) -> None:
    """A default /digest set would refuse and a shard listed twice fail `check` (before, both
    passed it), each named once ("settings: FAILED: settings: ..." no more)."""
    result = run_bot(tmp_path, "check", DISCORD_TOKEN=SECRET,
                     DIGEST_DEFAULT_TIMEZONE="Mars/Olympus", DIGEST_DEFAULT_SCHEDULE="61 9 * * *",
                     DISCORD_SHARD_COUNT="2", DISCORD_SHARD_IDS="0,0")
    assert result.returncode == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("settings: ")]
    assert failed == [
        "settings: FAILED: DIGEST_DEFAULT_SCHEDULE: invalid schedule '61 9 * * *': minute 61 is "
        "out of range (0-59)",
        "settings: FAILED: DIGEST_DEFAULT_TIMEZONE: unknown timezone 'Mars/Olympus' (use an "
        "IANA name such as 'UTC', 'Europe/London' or 'America/New_York')",
        "settings: FAILED: DISCORD_SHARD_IDS: lists shard 0 more than once"]
    outside = run_bot(tmp_path, "check", DISCORD_TOKEN=SECRET, DISCORD_SHARD_COUNT="2",
                      DISCORD_SHARD_IDS="0,5")
    assert outside.stdout.splitlines()[0] == \
        "settings: FAILED: DISCORD_SHARD_IDS 5 is outside 0..1 (DISCORD_SHARD_COUNT is 2)"


def test_check_names_misspelt_env_keys_and_the_shards(tmp_path: Path) -> None:
    """A misspelt key in .env (DATABSE_URL: the bot would silently use SQLite) is named with the
    setting it resembles, without failing the check; the settings line shows the shards."""
    (tmp_path / ".env").write_text("DATABSE_URL=postgresql+psycopg://u:p@h/db\n"
                                   "HF_HUB_OFFLINE=1\n", encoding="utf-8")
    result = run_bot(tmp_path, "check", DISCORD_TOKEN=SECRET, EMBEDDING_MODEL="hashing",
                     DISCORD_SHARD_COUNT="4", DISCORD_SHARD_IDS="2,3")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "shards 2, 3 of 4 in this process" in lines[0]
    assert lines[1] == ("settings: WARNING: .env sets DATABSE_URL (did you mean DATABASE_URL?): "
                        "not settings, ignored")
    assert lines[4].startswith("database: ok (sqlite:")


def test_check_fails_when_the_named_onnx_file_is_missing(tmp_path: Path) -> None:
    """EMBEDDING_ONNX_FILE naming a missing file: the running bot would fall back to torch and
    re-embed the library; `check` says so and fails, and does not do that re-embedding."""
    missing = tmp_path / "absent.onnx"
    result = run_bot(tmp_path, "check", DISCORD_TOKEN=SECRET, EMBEDDING_ONNX_FILE=str(missing))
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == (f"model: FAILED: EMBEDDING_ONNX_FILE: {missing} is missing; the bot "
                         "would fall back to sentence-transformers (torch) and re-embed the "
                         "whole library: fix the file or empty the setting")
    assert not any(line.startswith("index:") for line in lines)
    assert "Traceback" not in result.stderr


@pytest.mark.e2e
async def test_an_unreachable_database_stops_the_bot_in_one_line(tmp_path: Path) -> None:
    """Logged in, the bot opens its library: a database refusing the connection ends the
    process with one line (driver's words, password masked), not an OperationalError
    traceback."""
    url = "postgresql+psycopg://summit:Hunter2Secret@127.0.0.1:1/summitdesk"
    async with FakeDiscord(World.default()) as fake:
        env = {"DISCORD_TOKEN": fake.token, "DISCORD_API_BASE_URL": fake.api_base,
               "DISCORD_GATEWAY_URL": fake.gateway_url, "DATA_DIR": str(tmp_path / "data"),
               "DATABASE_URL": url, "EMBEDDING_MODEL": "hashing", "PYTHONPATH": str(REPO)}
        process = BotProcess([sys.executable, "-m", "bot"], env=env, cwd=str(tmp_path))
        await process.start()
        line = await process.wait_for_output("summit-desk: ", timeout=60)
        for _ in range(300):
            if not process.running:
                break
            await asyncio.sleep(0.1)
        code = await process.stop(timeout=5)
    assert code == 1
    assert line == ("summit-desk: cannot use the database postgresql+psycopg://summit:***@"
                    "127.0.0.1:1/summitdesk: connection failed: connection to server at "
                    "\"127.0.0.1\", port 1 failed: Connection refused Is the server running on "
                    "that host and accepting TCP/IP connections?")
    assert "Traceback" not in process.output and "Hunter2Secret" not in process.output
    assert "Background on this error" not in process.output


def test_a_data_dir_this_user_cannot_write_is_named(tmp_path: Path) -> None:
    """A bind-mounted DATA_DIR owned by another user: the bot and `check` say so in one line
    naming the folder and the uid (it was "cannot reach Discord (...): Permission denied:
    '.../summit-desk.sqlite3.migrate-lock'"), before any attempt to connect."""
    folder, prefix = unwritable_folder(tmp_path)
    expected = f"DATA_DIR {folder} is not writable by this user (uid {os.geteuid()}): " \
               "Permission denied"
    start = run_bot(tmp_path, prefix=prefix, DISCORD_TOKEN=SECRET, DATA_DIR=str(folder),
                    EMBEDDING_MODEL="hashing", DISCORD_API_BASE_URL="http://127.0.0.1:1/api/v10")
    assert start.returncode == 1, start.stderr
    lines = start.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"summit-desk: {expected}; "), lines
    assert "Discord" not in lines[0]
    check = run_bot(tmp_path, "check", prefix=prefix, DISCORD_TOKEN=SECRET,
                    DATA_DIR=str(folder), EMBEDDING_MODEL="hashing")
    assert check.returncode == 1
    assert check.stdout.splitlines()[3].startswith(f"database: FAILED: {expected}; "), \
        check.stdout


def test_start_up_failures_are_json_records_when_logs_are_json(tmp_path: Path) -> None:
    """With LOG_FORMAT=json (in the environment or .env) a start-up failure is one JSON log
    record like every other line, also when the settings themselves did not load (it was a
    plain "summit-desk: ..." line a collector cannot parse); text logs keep that line."""
    def record(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and result.stdout == "", result.stderr
        found = json.loads(lines[0])
        assert found["level"] == "ERROR" and found["event"] == "start_failed", found
        return found

    assert record(run_bot(tmp_path, LOG_FORMAT="json"))["msg"] == \
        "DISCORD_TOKEN is not set (put it in the environment or .env)"
    (tmp_path / ".env").write_text("LOG_FORMAT=json\nLOG_LEVEL=verbose\n", encoding="utf-8")
    assert record(run_bot(tmp_path, DISCORD_TOKEN=SECRET))["msg"] == \
        "LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
    (tmp_path / ".env").unlink()
    taken = tmp_path / "a-file"
    taken.write_text("", encoding="utf-8")
    assert record(run_bot(tmp_path, DISCORD_TOKEN=SECRET, LOG_FORMAT="json",
                          DATA_DIR=str(taken)))["msg"] == \
        f"DATA_DIR: {taken} exists and is not a directory"
    text = run_bot(tmp_path, DISCORD_TOKEN=SECRET, DATA_DIR=str(taken))
    assert text.stderr.strip().splitlines() == [
        f"summit-desk: DATA_DIR: {taken} exists and is not a directory"]


def test_check_piped_into_a_reader_that_stops_early_exits_quietly(tmp_path: Path) -> None:
    """`python -m bot check | head -1`: the reader closing the pipe ends the check without a
    BrokenPipeError traceback on stderr."""
    environ = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(tmp_path),
               "DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "verbose"}
    process = subprocess.Popen([sys.executable, "-m", "bot", "check"], cwd=tmp_path,
                               env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    process.stdout.close()  # as `head` does once it has its line
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 1
    assert stderr.decode() == ""


@pytest.mark.e2e
async def test_discord_requiring_more_shards_is_one_line_naming_the_setting(tmp_path: Path
                                                                            ) -> None:
    """Discord closing the gateway with 4011 (sharding required: too many servers for the
    shards) ends the bot with one line naming DISCORD_SHARD_COUNT, or one JSON record with
    LOG_FORMAT=json, not a ConnectionClosed traceback."""
    world = World.default()
    world.add_guild("Second Server")
    async with FakeDiscord(world, max_guilds_per_shard=1) as fake:
        env = {"DISCORD_TOKEN": fake.token, "DISCORD_API_BASE_URL": fake.api_base,
               "DISCORD_GATEWAY_URL": fake.gateway_url, "DATA_DIR": str(tmp_path / "data"),
               "EMBEDDING_MODEL": "hashing", "PYTHONPATH": str(REPO)}
        outputs = []
        for log_format in ("text", "json"):
            process = BotProcess([sys.executable, "-m", "bot"], cwd=str(tmp_path),
                                 env={**env, "LOG_FORMAT": log_format})
            await process.start()
            for _ in range(600):  # it exits by itself; stop() is only the safety net
                if not process.running:
                    break
                await asyncio.sleep(0.1)
            assert await process.stop(timeout=5) == 1, process.output
            outputs.append(process.output)
    assert len(fake.connections) == 2 and fake.sessions == {}  # each refused at IDENTIFY
    # (DISCORD_GATEWAY_URL is set, the fake's: an empty count is one shard there)
    reason = ("Discord closed the gateway connection with code 4011: sharding required, the "
              "bot is in more servers than one shard may hold (Discord allows 2,500 a shard; "
              "DISCORD_SHARD_COUNT is empty, which means one shard with DISCORD_GATEWAY_URL "
              "set): set DISCORD_SHARD_COUNT (a shard per 2,500 servers)")
    text, json_lines = outputs
    assert "Traceback" not in text and "ConnectionClosed" not in text, text
    assert text.strip().splitlines()[-1].startswith(f"summit-desk: {reason}"), text
    assert "Traceback" not in json_lines, json_lines
    last = json.loads(json_lines.strip().splitlines()[-1])
    assert last["event"] == "start_failed" and last["msg"].startswith(reason), last


@pytest.mark.parametrize(("code", "named"), [
    (4004, "DISCORD_TOKEN"), (4010, "DISCORD_SHARD_COUNT is 2, DISCORD_SHARD_IDS 1"),
    (4011, "DISCORD_SHARD_COUNT"), (4013, "upgrade"), (4014, "Privileged Gateway Intents"),
    (4999, "cannot reconnect")])
def test_each_final_gateway_close_names_what_to_change(code: int, named: str) -> None:
    """Each close code Discord ends a session with for good is a line naming the setting (or
    the Developer Portal page) to fix."""
    from bot.client import gateway_refusal
    from bot.settings import BotSettings

    settings = BotSettings(_env_file=None, discord_token="x",  # type: ignore[call-arg]
                           discord_shard_count=2, discord_shard_ids=[1])
    line = gateway_refusal(code, settings)
    assert line.startswith(f"Discord closed the gateway connection with code {code}: ")
    assert named in line and "\n" not in line


@pytest.mark.parametrize(("code", "said", "unsaid"), [
    (4010, "asked for the shards Discord recommends", "must be below"),
    (4011, "set DISCORD_SHARD_COUNT (a shard per 2,500 servers)", "leave both empty"),
    (4014, "asks for no privileged one", "turn it on")])
def test_gateway_advice_fits_the_settings_given(code: int, said: str, unsaid: str) -> None:
    """No advice that cannot apply: with no shard settings, 4010 does not ask to keep the
    ids below the count and 4011 does not suggest leaving empty what is empty; 4014 does not
    ask to turn on an intent the bot never asks for (outside operator QA #25c)."""
    from bot.client import gateway_refusal
    from bot.settings import BotSettings

    settings = BotSettings(_env_file=None, discord_token="x")  # type: ignore[call-arg]
    line = gateway_refusal(code, settings)
    assert said in line and unsaid not in line, line


def test_a_sqlite_library_left_behind_is_named_by_check_and_at_start(tmp_path: Path) -> None:
    """DATABASE_URL moved to PostgreSQL while DATA_DIR holds the SQLite library with an added
    article: `check` and the bot's start name the file in one warning line (the bot silently
    started a new, empty library)."""
    from tests.knowledge.articles import sqlite_library

    file = sqlite_library(tmp_path / "data", added=True).resolve()
    url = "postgresql+psycopg://summit:Hunter2Secret@127.0.0.1:1/summitdesk"
    warning = (f"DATA_DIR holds a SQLite library, {file} (1 article, 1 source added), but "
               "DATABASE_URL names another database")
    check = run_bot(tmp_path, "check", DISCORD_TOKEN=SECRET, DATABASE_URL=url)
    lines = check.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("database: "))
    assert lines[at].startswith("database: FAILED: ")  # the server itself is not there
    assert lines[at + 1].startswith(f"database: WARNING: {warning}"), check.stdout
    start = run_bot(tmp_path, DISCORD_TOKEN=SECRET, DATABASE_URL=url, EMBEDDING_MODEL="hashing",
                    DISCORD_API_BASE_URL="http://127.0.0.1:1/api/v10")
    assert start.returncode == 1
    assert f"WARNING bot: {warning}" in start.stderr, start.stderr
    assert "Hunter2Secret" not in check.stdout + start.stderr

"""`python -m bot` and `python -m bot check`: start-up problems are one clear line, never a
traceback, never the token."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.discord_server import BotProcess, FakeDiscord, World

REPO = Path(__file__).resolve().parents[2]
SECRET = "not-the-token-SECRET-4242"


def run_bot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the entry point in an empty directory (no .env) with only the given settings."""
    environ = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(tmp_path),
               "DATA_DIR": str(tmp_path / "data"), **env}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=environ,
                          capture_output=True, text=True, timeout=120, check=False)


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
    assert any(line.startswith("model: FAILED: cannot load embedding model") for line in lines)
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.model
def test_check_passes_on_a_fresh_install(tmp_path: Path) -> None:
    """With a token and the bundled model, every check is ok and the exit status is 0."""
    result = run_bot(tmp_path, "check", DISCORD_TOKEN=SECRET)
    assert result.returncode == 0, result.stdout + result.stderr
    parts = [line.split(":", 1)[0] for line in result.stdout.splitlines()]
    assert parts == ["settings", "database", "model", "index"]
    assert all(": ok" in line for line in result.stdout.splitlines())
    assert "5 articles" in result.stdout and SECRET not in result.stdout + result.stderr
    assert "new library from the seed database" in result.stdout
    again = run_bot(tmp_path, "check", DISCORD_TOKEN=SECRET)  # the library is there now
    assert again.returncode == 0 and "seed" not in again.stdout

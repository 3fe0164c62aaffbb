"""`python -m bot health` (the Docker HEALTHCHECK): the running bot's heartbeat file says whether
it is connected to Discord; and a bot at LOG_LEVEL=DEBUG never logs a live interaction token."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.bot.launch import HASHING, START_TIMEOUT, bot_env, bot_process
from tests.fakes.discord_server import FakeDiscord, World

REPO = Path(__file__).resolve().parents[2]
TOKEN = "not-the-token-SECRET-4242"


def health(home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot health` with DATA_DIR under `home` (no .env)."""
    environ = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(home),
               "DATA_DIR": str(home / "data"), "DISCORD_TOKEN": TOKEN, **env}
    return subprocess.run([sys.executable, "-m", "bot", "health"], cwd=home, env=environ,
                          capture_output=True, text=True, timeout=120, check=False)


def heartbeat(home: Path, name: str = "bot-health.json", **fields: Any) -> None:
    """A heartbeat file as the running bot writes it (a fresh, connected one by default)."""
    now = time.time()
    record = {"pid": os.getpid(), "time": now, "every": 15.0, "phase": "ready",
              "since": now - 30.5, "shards": [0], "closed_shards": [], "latency_ms": 42, **fields}
    (home / "data").mkdir(parents=True, exist_ok=True)
    (home / "data" / name).write_text(json.dumps(record), encoding="utf-8")


def test_no_heartbeat_means_not_running(tmp_path: Path) -> None:
    """Without the file (never started, or stopped cleanly) the bot is unhealthy."""
    result = health(tmp_path)
    assert result.returncode == 1
    assert result.stdout == (f"unhealthy: no heartbeat file {tmp_path / 'data' / 'bot-health.json'}"
                             ": the bot is not running\n")


@pytest.mark.parametrize("fields,code,line", [
    ({}, 0, "healthy: connected to Discord (shards 0, latency 42 ms)"),
    ({"phase": "starting", "shards": []}, 0,
     "healthy: starting for N s (opening the library, syncing commands)"),
    ({"phase": "connecting", "shards": []}, 1,
     "unhealthy: connecting for N s, not connected to Discord"),
    ({"phase": "disconnected", "shards": [0, 1], "closed_shards": [1]}, 1,
     "unhealthy: shard 1 disconnected from Discord for N s"),
    ({"age": 600}, 1,
     "unhealthy: last heartbeat N s ago: the bot stopped or its event loop is stuck"),
])
def test_health_reads_the_gateway_state(tmp_path: Path, fields: dict[str, Any], code: int,
                                        line: str) -> None:
    """Connected or starting is healthy; connecting, a disconnected shard or a heartbeat that
    stopped (a dead process, a stuck loop) is not (N: seconds, which depend on the clock)."""
    age = fields.pop("age", 0)
    heartbeat(tmp_path, **fields, time=time.time() - age)
    result = health(tmp_path)
    assert result.returncode == code, result.stdout + result.stderr
    assert re.fullmatch(re.escape(line).replace("N", r"\d+"), result.stdout.strip()), \
        result.stdout


def test_each_shard_set_has_its_own_heartbeat(tmp_path: Path) -> None:
    """Processes sharing DATA_DIR with different DISCORD_SHARD_IDS read their own file."""
    heartbeat(tmp_path, name="bot-health-shards-1.json", shards=[1])
    assert health(tmp_path).returncode == 1
    result = health(tmp_path, DISCORD_SHARD_COUNT="2", DISCORD_SHARD_IDS="1")
    assert result.returncode == 0 and "shards 1" in result.stdout


@pytest.mark.e2e
async def test_the_running_bot_keeps_its_heartbeat_and_masks_tokens(tmp_path: Path) -> None:
    """A bot connected to the fake Discord is healthy within a second or two of READY; after a
    clean stop it is not. At LOG_LEVEL=DEBUG discord.py logs every interaction callback URL:
    the interaction token in it is masked, and neither it nor the bot token is printed."""
    async with FakeDiscord(World.default(), heartbeat_interval=0.5) as fake:
        env = bot_env(fake, tmp_path, **HASHING, LOG_LEVEL="DEBUG")
        process = bot_process(env, tmp_path)
        await process.start()
        try:
            await fake.wait_for_commands(timeout=START_TIMEOUT)
            await process.wait_for_output("ready as", timeout=START_TIMEOUT)
            for _ in range(20):
                result = await asyncio.to_thread(health, tmp_path, DISCORD_TOKEN=fake.token)
                # "starting" is healthy too: wait for the file to say connected (it follows
                # READY within a second, so a check right after "ready as" may miss it).
                if result.stdout.startswith("healthy: connected"):
                    break
                await asyncio.sleep(0.5)
            assert result.returncode == 0, result.stdout
            assert result.stdout.startswith("healthy: connected to Discord (shards 0")
            reply = await fake.slash("help")
            await reply.wait_done()
            await process.wait_for_output("/callback", timeout=30)
        finally:
            code = await process.stop(timeout=15)
    assert code == 0, process.output
    callbacks = [line for line in process.lines if "/callback" in line]
    assert callbacks and all("/interactions/" in line and "/***/callback" in line
                             for line in callbacks), callbacks
    assert reply.token not in process.output and fake.token not in process.output
    stopped = await asyncio.to_thread(health, tmp_path, DISCORD_TOKEN=fake.token)
    assert stopped.returncode == 1 and "not running" in stopped.stdout

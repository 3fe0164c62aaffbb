"""The default path never loads torch: a CLI search and the real bot answering /ask through the
fake Discord both run the bundled model on onnxruntime alone (issue: fast start, small memory)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bot.launch import START_TIMEOUT, bot_env, bot_process
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.world import World
from tests.importtime import imported_modules

REPO = Path(__file__).resolve().parents[2]
QUESTION = "What did experts expect from the Moscow summit in January 2019?"
HEAVY = ("torch", "sentence_transformers", "transformers")


def clean_env(home: Path) -> dict[str, str]:
    """The environment of a default install: no embedding settings, data under `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMBEDDING_", "DISCORD_"))}
    env.update(DATA_DIR=str(home / "data"), DATABASE_URL="", PYTHONPATH=str(REPO))
    return env


@pytest.mark.model
def test_cli_search_never_imports_torch(tmp_path: Path) -> None:
    """`python -m knowledge search` on a fresh install answers without importing torch."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "knowledge", "search", QUESTION],
        cwd=tmp_path, env=clean_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Abe-Putin Summit in Moscow" in result.stdout
    modules = imported_modules(result.stderr)
    assert "onnxruntime" in modules and "tokenizers" in modules  # the check sees real imports
    assert not modules & set(HEAVY), modules & set(HEAVY)


def mapped_libraries(pid: int) -> str:
    """The shared objects a running process has mapped."""
    return Path(f"/proc/{pid}/maps").read_text()


@pytest.mark.e2e
@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc")
async def test_bot_answers_ask_without_loading_torch(tmp_path: Path) -> None:
    """The real `python -m bot` answers /ask on the bundled model with no libtorch mapped."""
    world = World.default()
    async with FakeDiscord(world, heartbeat_interval=0.5) as fake:
        env = bot_env(fake, tmp_path, DISCORD_DEV_GUILD_ID=str(world.guild().id),
                      ASK_COOLDOWN_SECONDS="0")
        env = {k: v for k, v in env.items() if not k.startswith("EMBEDDING_")}
        process = bot_process(env, tmp_path)
        await process.start()
        try:
            await fake.wait_for_commands(world.guild(), timeout=START_TIMEOUT)
            await process.wait_for_output("ready as", timeout=START_TIMEOUT)
            reply = await (await fake.slash("ask", {"question": QUESTION})).wait_done(timeout=60)
            assert "Abe-Putin Summit in Moscow" in reply.text
            assert process._proc is not None
            maps = mapped_libraries(process._proc.pid)
        finally:
            code = await process.stop(timeout=15)
    assert code == 0, process.output
    assert "onnxruntime" in maps  # the check sees the libraries really loaded
    assert "libtorch" not in maps and "/torch/" not in maps

"""SIGTERM while the bot is still opening its library (`docker stop`, `systemctl stop`): the
worker thread cannot be interrupted mid-write, so the bot says it waits for it and logs
"stopped" only when it really stops, right after. End to end against the fake Discord, the
opening slowed from outside (a `sitecustomize` on the bot's path makes the first piece of work
handed to a worker thread sleep in that thread, as a long migration or re-embedding would)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bot.client import OpeningStopped, SummitDesk
from bot.settings import BotSettings
from knowledge.embedding import HashingEmbedder
from knowledge.service import KnowledgeService
from knowledge.settings import Settings
from knowledge.store import queries
from knowledge.store.db import make_engine
from tests.bot.launch import HASHING, REPO, bot_env, bot_process
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.world import World

SLOW_OPEN_SECONDS = 4.0
SITECUSTOMIZE = '''
import asyncio
import sys
import time

_to_thread = asyncio.to_thread
_slowed = []


async def _slow_first_to_thread(func, /, *args, **kwargs):
    if _slowed:
        return await _to_thread(func, *args, **kwargs)
    _slowed.append(func)

    def slow():
        print("slow-open: started", file=sys.stderr, flush=True)
        time.sleep({delay})
        try:
            return func(*args, **kwargs)
        finally:
            print("slow-open: finished", file=sys.stderr, flush=True)

    return await _to_thread(slow)


asyncio.to_thread = _slow_first_to_thread
'''


@pytest.mark.e2e
async def test_sigterm_while_the_library_opens_waits_and_then_says_stopped(
        tmp_path: Path) -> None:
    """SIGTERM during the opening: "waiting for the library to finish opening" at once, the
    opening finishes, then "stopped" and exit 0 (before, "stopped" was logged at once while
    the process went on working for as long as the opening took)."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE.format(delay=SLOW_OPEN_SECONDS),
                                            encoding="utf-8")
    async with FakeDiscord(World.default()) as fake:
        env = bot_env(fake, tmp_path / "home", **HASHING,
                      PYTHONPATH=f"{hooks}{os.pathsep}{REPO}")
        process = bot_process(env, tmp_path / "home")
        await process.start()
        try:
            await process.wait_for_output("slow-open: started", timeout=60)
            process.send_signal(signal.SIGTERM)
            await process.wait_for_output("waiting for the library to finish opening",
                                          timeout=5)
            code = await process.wait(timeout=60)
        finally:
            await process.stop(timeout=5)
    lines = process.lines
    waiting = next(i for i, line in enumerate(lines) if "waiting for the library" in line)
    finished = lines.index("slow-open: finished")
    stopped = [i for i, line in enumerate(lines) if line.endswith(" bot: stopped")]
    assert code == 0, process.output
    assert len(stopped) == 1 and waiting < finished < stopped[0], process.output
    assert process.error_lines() == [], process.output
    assert fake.command_syncs == [] and not fake.sessions  # stopped before going further


def test_a_stop_ends_a_re_embedding_after_its_batch(tmp_path: Path) -> None:
    """Asked to stop while the library re-embeds for a changed model, the opening ends after
    the batch in hand (committed with its progress), closed, and the next start resumes it."""
    data = tmp_path / "data"
    KnowledgeService.open(Settings(data_dir=data, _env_file=None),  # type: ignore[call-arg]
                          embedder=HashingEmbedder(64)).close()
    settings = BotSettings(data_dir=data, discord_token="x", embedding_model="hashing:128",
                           _env_file=None)  # type: ignore[call-arg]
    bot = SummitDesk(settings)
    bot._stop_opening.set()  # as _library_opened does when SIGTERM comes
    with pytest.raises(OpeningStopped):
        bot._open_service()
    engine = make_engine(settings.resolved_database_url)
    with Session(engine) as session:
        assert queries.get_state(session, "model_fingerprint") == "hashing:64"
        assert json.loads(queries.get_state(session, "reembed_progress") or "{}")["target"] \
            == "hashing:128"
    engine.dispose()
    resumed = KnowledgeService.open(settings)
    try:
        assert resumed.library.stored_fingerprint() == "hashing:128"
    finally:
        resumed.close()

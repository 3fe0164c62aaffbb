"""One bot process per DATA_DIR and shard: a second start with the same shards is refused in
one line naming the first's PID; other shards share the folder; a killed process leaves no
lock behind."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.errors import ConfigurationError
from knowledge.process_lock import ProcessLock
from tests.bot.launch import HASHING, bot_env, bot_process, running_bot
from tests.fakes.discord_server import FakeDiscord, World

REPO = Path(__file__).resolve().parents[2]
HOLD = """
import sys, time
from pathlib import Path
from knowledge.process_lock import ProcessLock
lock = ProcessLock.take(Path(sys.argv[1]), [int(i) for i in sys.argv[2:]])
print("locked", flush=True)
time.sleep(120)
"""


@pytest.fixture
def holders() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes holding locks; killed at the end."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        process.kill()
        process.wait()


def hold(holders: list[subprocess.Popen[str]], data_dir: Path, *shards: int
         ) -> subprocess.Popen[str]:
    """Another process holding DATA_DIR's lock for `shards` (none: all shards)."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(data_dir), *map(str, shards)],
                               stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
    holders.append(process)
    assert process.stdout is not None and process.stdout.readline() == "locked\n"
    return process


def refusal(data_dir: Path, *shards: int) -> str:
    """The line taking the lock for `shards` is refused with."""
    with pytest.raises(ConfigurationError) as refused:
        ProcessLock.take(data_dir, list(shards))
    return str(refused.value)


def test_a_second_process_on_all_shards_is_refused_naming_the_first(
        tmp_path: Path, holders: list[subprocess.Popen[str]]) -> None:
    """Both unsharded on one DATA_DIR: the second is refused with the first's PID; after the
    first is killed with SIGKILL (no clean-up) the lock is free at once."""
    first = hold(holders, tmp_path)
    assert refusal(tmp_path) == (
        f"another Summit Desk process (PID {first.pid}) already runs all shards on DATA_DIR "
        f"{tmp_path.resolve()}: stop it first, or give this process other shards "
        "(DISCORD_SHARD_IDS) or another DATA_DIR")
    assert refusal(tmp_path, 0).startswith(f"another Summit Desk process (PID {first.pid}) "
                                           "already runs all shards")
    first.send_signal(signal.SIGKILL)
    first.wait()
    ProcessLock.take(tmp_path, []).release()


def test_processes_with_other_shards_share_a_data_dir(
        tmp_path: Path, holders: list[subprocess.Popen[str]]) -> None:
    """The documented set-up, DISCORD_SHARD_IDS=0 and =1 on one DATA_DIR, starts; a repeated
    shard or a process running all shards beside them is refused, naming who runs what."""
    # (Each lock is held by its own process: POSIX locks never conflict inside one.)
    zero = hold(holders, tmp_path, 0)
    one = hold(holders, tmp_path, 1)
    assert refusal(tmp_path, 2, 0).startswith(
        f"another Summit Desk process (PID {zero.pid}) already runs shard 0 on DATA_DIR ")
    assert refusal(tmp_path) == (
        f"other Summit Desk processes already run shard 0 (PID {zero.pid}), shard 1 (PID "
        f"{one.pid}) on DATA_DIR {tmp_path.resolve()}: a process running all shards cannot "
        "join them; set DISCORD_SHARD_COUNT and DISCORD_SHARD_IDS, or use another DATA_DIR")
    ProcessLock.take(tmp_path, [2]).release()  # shard 2 was let go when 2, 0 was refused


@pytest.mark.e2e
async def test_a_second_bot_on_the_same_data_dir_is_refused_while_the_first_runs(
        tmp_path: Path) -> None:
    """`python -m bot` twice on one DATA_DIR, both unsharded: the second exits with one line
    naming the first's PID (both ran, on the same shard, jobs and heartbeat file); the first
    stays healthy, and `bot health` and the command line still work beside it."""
    async with FakeDiscord(World.default()) as fake:
        env = bot_env(fake, tmp_path, **HASHING)
        async with running_bot(fake, env, tmp_path / "first") as first:
            second = bot_process(env, tmp_path / "second")
            await second.start()
            assert await second.wait(timeout=60) == 1
            assert second.output.strip().splitlines() == [
                f"summit-desk: another Summit Desk process (PID {first.pid}) already runs all "
                f"shards on DATA_DIR {(tmp_path / 'data').resolve()}: stop it first, or give "
                "this process other shards (DISCORD_SHARD_IDS) or another DATA_DIR"]
            assert len(fake.identifies) == 1
            beside = {**os.environ, **env}
            for command in (["bot", "health"], ["knowledge", "list"]):
                result = await asyncio.to_thread(  # the fake Discord keeps serving meanwhile
                    subprocess.run, [sys.executable, "-m", *command], env=beside,
                    cwd=tmp_path / "first", capture_output=True, text=True, timeout=120,
                    check=False)
                assert result.returncode == 0, result.stdout + result.stderr


def test_a_lock_file_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    """A lock file this process cannot open (another user's, here a folder in its place) is a
    start-up line naming it, not a traceback."""
    (tmp_path / "bot.lock").mkdir()
    line = refusal(tmp_path)
    assert line.startswith(f"cannot open the lock file {tmp_path / 'bot.lock'}: "
                           "Is a directory"), line
    # ... and what to do about it (a root start leaves a file the service user cannot open)
    assert f"delete it, or chown it to uid {os.getuid()}" in line and "\n" not in line


def test_the_library_knows_whether_a_bot_runs_on_a_data_dir(
        tmp_path: Path, holders: list[subprocess.Popen[str]]) -> None:
    """`running_here` names the bot processes holding DATA_DIR's locks, creates no file,
    and says None once they are gone; a lock file this user cannot open is listed by
    `unopenable_lock_files` (`bot check` shows it)."""
    from knowledge.process_lock import running_here, unopenable_lock_files

    assert running_here(tmp_path) is None and list(tmp_path.iterdir()) == []
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    holders.append(holder)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    assert running_here(tmp_path) == f"PID {holder.pid} (all shards)"
    holder.kill()
    holder.wait()
    assert running_here(tmp_path) is None
    assert unopenable_lock_files(tmp_path) == []
    (tmp_path / "bot-shard-3.lock").mkdir()
    assert len(unopenable_lock_files(tmp_path)) == 1

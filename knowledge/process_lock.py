"""One bot process per DATA_DIR and shard: a second `python -m bot` with the same shards (or both
running all shards) on one DATA_DIR is refused in one line naming the process already there.
The library reads the same files to know whether a bot runs on a DATA_DIR (`running_here`):
moving a library away under a running bot is refused (knowledge/store/transfer.py).

Locks are POSIX record locks (fcntl.lockf) on files in DATA_DIR, held for the process's life:
the kernel drops them when the process dies, kill -9 included, so no stale lock survives; they
are not inherited by forked workers. Only the bot takes them: `check`, `health` and
`python -m knowledge` run beside a running bot as documented.

- `bot.lock`: taken exclusively by a process running all shards, shared by sharded ones, so
  an unsharded process and a sharded one on the same DATA_DIR refuse each other;
- `bot-shard-<id>.lock`: taken exclusively for each shard in DISCORD_SHARD_IDS, so processes
  with disjoint shard sets share a DATA_DIR (docs/operations.md) and overlapping ones do not.
An exclusive holder writes its PID into the file, for the refusal to name it.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import IO

from knowledge.errors import ConfigurationError

ALL_SHARDS = "bot.lock"


def shard_lock_name(shard_id: int) -> str:
    """The lock file of one shard."""
    return f"bot-shard-{shard_id}.lock"


class ProcessLock:
    """The lock files this process holds; `release` (or the process's end) lets them go."""

    def __init__(self) -> None:
        self._files: list[IO[str]] = []

    @classmethod
    def take(cls, data_dir: Path, shard_ids: list[int]) -> ProcessLock:
        """Lock DATA_DIR for these shards (empty: all of them); ConfigurationError naming the
        process already holding them."""
        lock = cls()
        try:
            everything = data_dir / ALL_SHARDS
            if not shard_ids:
                lock._lock(everything, exclusive=True,
                           refusal=functools.partial(_all_shards_refusal, data_dir))
                return lock
            lock._lock(everything, exclusive=False,
                       refusal=functools.partial(_holder_line, everything, "all shards",
                                                 data_dir, other_shards=False))
            for shard_id in shard_ids:
                path = data_dir / shard_lock_name(shard_id)
                lock._lock(path, exclusive=True,
                           refusal=functools.partial(_holder_line, path, f"shard {shard_id}",
                                                     data_dir))
        except BaseException:
            lock.release()
            raise
        return lock

    def _lock(self, path: Path, *, exclusive: bool, refusal: Callable[[], str]) -> None:
        try:
            handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held for the process's life)
        except OSError as exc:  # a file another user left (root started the bot once)
            raise ConfigurationError(unusable_lock_file(path, exc)) from None
        try:
            fcntl.lockf(handle, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise ConfigurationError(refusal()) from None
        self._files.append(handle)
        if exclusive:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()} {socket.gethostname()}\n")
            handle.flush()

    def release(self) -> None:
        """Let every lock go (closing a file drops its POSIX lock)."""
        for handle in reversed(self._files):
            with contextlib.suppress(OSError):
                handle.close()
        self._files.clear()


def _holder_pid(path: Path) -> str:
    """The PID an exclusive holder wrote into `path` ("4121", or "1 on host c0ffee" when it
    ran on another host: a container's PID means nothing outside it), or "unknown"."""
    try:
        pid, _, host = path.read_text(encoding="utf-8").strip().partition(" ")
    except OSError:
        return "unknown"
    if not pid.isdigit():
        return "unknown"
    return pid if not host or host == socket.gethostname() else f"{pid} on host {host}"


def _holder_line(path: Path, what: str, data_dir: Path, *, other_shards: bool = True) -> str:
    fixes = "give this process other shards (DISCORD_SHARD_IDS) or another DATA_DIR" \
        if other_shards else "use another DATA_DIR"
    return (f"another Summit Desk process (PID {_holder_pid(path)}) already runs {what} on "
            f"DATA_DIR {data_dir.resolve()}: stop it first, or {fixes}")


def unusable_lock_file(path: Path, exc: OSError) -> str:
    """One line for a lock file this process cannot open, with the fix: it holds nothing but a
    PID, so deleting it (or giving it to this user) is safe while no bot runs."""
    return (f"cannot open the lock file {path}: {exc.strerror or exc} (left by another user, "
            f"e.g. a start as root?): it holds no data; delete it, or chown it to uid "
            f"{os.getuid()}, while no bot runs on this DATA_DIR")


def _held(path: Path) -> bool:
    """Whether another process holds a lock on `path` (probed without keeping one; a missing
    file is created by no probe, and one this user cannot open is not known to be held)."""
    try:
        with open(path, "r+", encoding="utf-8") as handle:
            try:
                fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
            return False  # closing drops the probe's lock
    except OSError:
        return False


def running_here(data_dir: Path) -> str | None:
    """Which bot processes hold DATA_DIR's locks ("PID 4121 (all shards)", "PID 77 (shard
    0), PID 78 (shard 1)"), or None when none runs; nothing is created or kept."""
    found = []
    everything = data_dir / ALL_SHARDS
    if _held(everything):
        for path in sorted(data_dir.glob("bot-shard-*.lock")):
            if _held(path):
                found.append(f"PID {_holder_pid(path)} (shard "
                             f"{path.stem.removeprefix('bot-shard-')})")
        if not found:
            found.append(f"PID {_holder_pid(everything)} (all shards)")
    return ", ".join(found) or None


def unopenable_lock_files(data_dir: Path) -> list[str]:
    """A line for each lock file in DATA_DIR this user cannot open (a start would fail)."""
    lines = []
    for path in [data_dir / ALL_SHARDS, *sorted(data_dir.glob("bot-shard-*.lock"))]:
        if not path.exists():
            continue
        try:
            with open(path, "a", encoding="utf-8"):
                pass
        except OSError as exc:
            lines.append(unusable_lock_file(path, exc))
    return lines


def _all_shards_refusal(data_dir: Path) -> str:
    """Why `bot.lock` could not be taken exclusively: another process running all shards (it
    wrote its PID), or processes running some shards (each wrote its PID in its shard file)."""
    path = data_dir / ALL_SHARDS
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.lockf(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:  # held exclusively: one process running all shards
            return _holder_line(path, "all shards", data_dir)
    shards = sorted(data_dir.glob("bot-shard-*.lock"))
    held = [(p.stem.removeprefix("bot-shard-"), _holder_pid(p)) for p in shards if _held(p)]
    running = ", ".join(f"shard {shard} (PID {pid})" for shard, pid in held) or "some shards"
    return (f"other Summit Desk processes already run {running} on DATA_DIR "
            f"{data_dir.resolve()}: a process running all shards cannot join them; set "
            "DISCORD_SHARD_COUNT and DISCORD_SHARD_IDS, or use another DATA_DIR")

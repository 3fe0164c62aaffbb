"""Run a bot as a subprocess with its output captured, so tests can wait on it and fail on errors."""

# The waiting API deliberately takes timeout= arguments (asked for by the test writers).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
from collections.abc import Mapping, Sequence

ERROR_LINE = re.compile(r"Traceback \(most recent call last\)|\b(?:ERROR|CRITICAL)\b")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class BotProcess:
    """A subprocess whose stdout+stderr lines are collected as they arrive."""

    def __init__(
        self, args: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: str | None = None
    ) -> None:
        self.args = list(args)
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.cwd = cwd
        self.lines: list[str] = []
        self.returncode: int | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def start(self) -> BotProcess:
        """Start the process."""
        self._proc = await asyncio.create_subprocess_exec(
            *self.args, env=self.env, cwd=self.cwd,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        while True:
            raw = await self._proc.stdout.readline()
            if not raw:
                break
            self.lines.append(ANSI.sub("", raw.decode(errors="replace")).rstrip("\n"))
            self._wake()
        self.returncode = await self._proc.wait()
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    @property
    def output(self) -> str:
        """Everything printed so far."""
        return "\n".join(self.lines)

    @property
    def running(self) -> bool:
        """Whether the process has not exited."""
        return self._proc is not None and self._proc.returncode is None

    def error_lines(self) -> list[str]:
        """Lines that look like a logged error or a traceback."""
        return [line for line in self.lines if ERROR_LINE.search(line)]

    def assert_no_errors(self) -> None:
        """Fail if the bot logged errors or tracebacks."""
        errors = self.error_lines()
        if errors:
            raise AssertionError("bot logged errors:\n" + self.output)

    async def wait_for_output(self, text: str, timeout: float = 15.0, *, count: int = 1) -> str:
        """Wait until `text` appeared in `count` lines; returns the last such line."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = [line for line in self.lines if text in line]
            if len(found) >= count:
                return found[count - 1]
            if not self.running and self._reader is not None and self._reader.done():
                raise AssertionError(f"process exited ({self.returncode}) before printing {text!r}:\n"
                                     + self.output)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"{text!r} not printed within {timeout}s:\n{self.output}")
            event = self._changed
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    @property
    def pid(self) -> int:
        """The process id (once started)."""
        assert self._proc is not None
        return self._proc.pid

    def send_signal(self, sig: int) -> None:
        """Send `sig` to the process (as `docker stop` or systemd sends SIGTERM)."""
        assert self._proc is not None
        self._proc.send_signal(sig)

    async def wait(self, timeout: float) -> int:
        """Wait until the process exits by itself; its exit code."""
        assert self._proc is not None
        code = await asyncio.wait_for(self._proc.wait(), timeout)
        if self._reader is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._reader, 2.0)
        return code

    async def stop(self, timeout: float = 5.0) -> int | None:
        """SIGINT (graceful), then SIGKILL after `timeout`; returns the exit code."""
        proc = self._proc
        if proc is None:
            return None
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(proc.wait(), timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if self._reader is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._reader, 2.0)
        self.returncode = proc.returncode
        return self.returncode

    async def __aenter__(self) -> BotProcess:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

"""Run the parsing of untrusted documents (web pages, PDFs) in worker processes that can be stopped.

Extraction libraries can be driven into quadratic time or huge allocations by a crafted page, and
a thread cannot be stopped. So HTML and PDF extraction runs in a small pool of worker processes:
each document gets a wall-time limit, after which its worker is killed and replaced; each worker
has an address-space cap and a CPU-time backstop of its own. Workers start lazily, from a fork
server (the bot has threads, so forking the bot itself is unsafe), and are reused. As with any
fork-server or spawn child, a worker re-imports the program's main module unless it was run
with ``python -m package``; a script that extracts needs the ``if __name__ == "__main__"`` guard.
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import multiprocessing
import multiprocessing.connection
import os
import resource
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any, TypeVar, cast

from knowledge.errors import KnowledgeError
from knowledge.sources.errors import ExtractionError
from knowledge.sources.units import seconds

if TYPE_CHECKING:
    from knowledge.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")
_Context = multiprocessing.context.ForkServerContext | multiprocessing.context.SpawnContext

# Modules the fork server imports once, so each new worker starts with them loaded.
_PRELOAD = ["knowledge.sources.extract", "knowledge.sources.feeds", "knowledge.sources.files"]
_TASKS_PER_WORKER = 200  # then the worker is replaced (libraries' caches only ever grow)


@dataclasses.dataclass(frozen=True, slots=True)
class ExtractionLimits:
    """Bounds on the work one untrusted document may cause (settings EXTRACT_*, PDF_*)."""

    timeout: float = 6.0  # wall seconds per document, then its worker is killed
    max_elements: int = 100_000  # HTML start tags, counted before any parsing
    max_text_chars: int = 1_000_000  # characters extracted from one document
    pdf_max_pages: int = 300
    memory_mb: int = 1024  # address space of a worker process
    workers: int = 2  # worker processes at most (in the whole process, not per call)

    @classmethod
    def from_settings(cls, settings: Settings) -> ExtractionLimits:
        """The limits an operator configured (knowledge.settings.Settings)."""
        return cls(timeout=settings.extract_timeout_seconds,
                   max_elements=settings.extract_max_elements,
                   max_text_chars=settings.extract_max_text_chars,
                   pdf_max_pages=settings.pdf_max_pages,
                   memory_mb=settings.extract_max_memory_mb,
                   workers=settings.extract_workers)


class _Worker:
    """One worker process and our end of its pipe."""

    def __init__(self, context: _Context, memory_mb: int) -> None:
        self.conn, child = multiprocessing.Pipe()
        self.process: BaseProcess = context.Process(
            target=_serve, args=(child, memory_mb), name="extract-worker", daemon=True)
        self.process.start()
        child.close()
        self.memory_mb = memory_mb
        self.tasks = 0

    def kill(self) -> None:
        """Stop the worker now, whatever it is doing."""
        self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


class Sandbox:
    """A lazily started pool of extraction workers; ``run`` blocks the calling thread only."""

    def __init__(self, workers: int = 2) -> None:
        self._capacity = threading.BoundedSemaphore(max(1, workers))
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._context: _Context | None = None
        self._closed = False

    def run(self, fn: Callable[..., T], *args: Any, limits: ExtractionLimits, what: str) -> T:
        """``fn(*args)`` in a worker within ``limits``; ExtractionError when a limit is hit.

        ``fn`` must be a module-level function; ``what`` names the input in messages ("page").
        Exceptions ``fn`` raises for bad input (KnowledgeError) are raised here as they are;
        any other exception is logged with its worker traceback and becomes an ExtractionError.
        """
        with self._capacity:
            worker = self._take(limits.memory_mb)
            started = time.monotonic()
            try:
                worker.conn.send((fn, args, limits.timeout))
                ready = worker.conn.poll(limits.timeout)
                reply = worker.conn.recv() if ready else None
            except (EOFError, OSError):
                worker.kill()
                log.warning("extraction worker died on a %s after %.1f s (memory limit %d MB?)",
                            what, time.monotonic() - started, limits.memory_mb)
                raise ExtractionError(f"this {what} is too complex to extract (it needs more "
                                      "memory than allowed)") from None
            except BaseException:
                worker.kill()
                raise
            if reply is None:
                worker.kill()
                log.warning("extraction of a %s stopped after %s (EXTRACT_TIMEOUT_SECONDS)", what,
                            seconds(limits.timeout))
                raise ExtractionError(f"this {what} is too complex to extract (it took longer "
                                      f"than {seconds(limits.timeout)})")
            status, value, records = reply
            _replay(records)
            if status == "memory":
                worker.kill()  # it exits by itself too: its heap may be past use
            else:
                self._give_back(worker)
        if status == "ok":
            return cast(T, value)
        if status == "memory":
            raise ExtractionError(f"this {what} is too complex to extract (it needs more memory "
                                  "than allowed)")
        if status == "error":
            raise value
        # An exception inside a parser on untrusted input: most likely the input's doing, so the
        # input is refused (one bad feed entry never fails a poll) and the operator gets the trace.
        log.error("extracting a %s failed inside its worker:\n%s", what, value)
        raise ExtractionError(f"could not extract this {what} (the extractor failed on it; "
                              "details are in the operator's log)")

    def close(self) -> None:
        """Stop every worker (at exit, and in tests)."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()

    def _take(self, memory_mb: int) -> _Worker:
        """An idle worker with this memory cap, or a new one."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the extraction sandbox is closed")
            while self._idle:
                worker = self._idle.pop()
                if worker.process.is_alive() and worker.memory_mb == memory_mb:
                    return worker
                worker.kill()
            if self._context is None:
                self._context = _context()
        return _Worker(self._context, memory_mb)

    def _give_back(self, worker: _Worker) -> None:
        """Keep a healthy worker for the next document; retire one that has done enough."""
        worker.tasks += 1
        with self._lock:
            if not self._closed and worker.tasks < _TASKS_PER_WORKER:
                self._idle.append(worker)
                return
        worker.kill()


def _context() -> _Context:
    """A fork server where the platform has one (Linux, macOS), else spawn."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


def _serve(conn: multiprocessing.connection.Connection, memory_mb: int) -> None:
    """A worker's loop: run tasks until the pipe closes."""
    limit = memory_mb * 1024 * 1024
    _lower(resource.RLIMIT_AS, limit)
    _lower(resource.RLIMIT_CORE, 0)  # a crash in a parser leaves no core file behind
    records = _RecordCollector()
    root = logging.getLogger()
    root.handlers[:] = [records]
    root.setLevel(logging.INFO)
    while True:
        try:
            fn, args, timeout = conn.recv()
        except (EOFError, OSError):
            return
        # Backstop should the parent be gone: the kernel stops a runaway task on its own.
        used = resource.getrusage(resource.RUSAGE_SELF)
        _lower(resource.RLIMIT_CPU, int(used.ru_utime + used.ru_stime + 2 * timeout + 5),
               raise_soft=True)
        try:
            reply: tuple[str, Any] = ("ok", fn(*args))
        except MemoryError:
            reply = ("memory", None)
        except KnowledgeError as exc:
            reply = ("error", exc)
        except Exception:
            reply = ("crash", traceback.format_exc(limit=20))
        try:
            conn.send((*reply, records.take()))
        except (EOFError, OSError):
            return
        except Exception:  # an unpicklable result or exception
            conn.send(("crash", traceback.format_exc(limit=5), []))
        if reply[0] == "memory":
            os._exit(0)  # the heap may be fragmented past use: let a fresh worker take over


class _RecordCollector(logging.Handler):
    """Keeps a worker's log records so the parent can log them as its own."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self._records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep a picklable copy: the message rendered, any traceback as text."""
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = record.getMessage(), None
        record.exc_info = None
        self._records.append(record)

    def take(self) -> list[logging.LogRecord]:
        """The records since the last call (at most 50: a loop must not flood the pipe)."""
        taken, self._records = self._records[:50], []
        return taken


def _replay(records: list[logging.LogRecord]) -> None:
    """Log a worker's records through this process's handlers (operator log, test capture).

    A parser's own warnings and errors (pypdf's "incorrect startxref pointer", trafilatura's
    "empty HTML tree" for bytes that are no HTML) are about the untrusted document, which the
    caller already answers for (an error result, or text read anyway) in its own log line: they
    come back at INFO, so a CLI user at the default level sees only that answer and an operator
    who alerts on ERROR is not paged by users' input. A crash in the worker is not a record:
    it comes back as an exception.
    """
    for record in records:
        if logging.WARNING <= record.levelno <= logging.ERROR and (
                record.name.partition(".")[0] != "knowledge"):
            record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(record.levelno):
            logger.handle(record)


def _lower(kind: int, value: int, *, raise_soft: bool = False) -> None:
    """Set a soft resource limit to ``value`` (never above the hard limit)."""
    soft, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    if raise_soft or soft == resource.RLIM_INFINITY or value < soft:
        resource.setrlimit(kind, (value, hard))


_shared: Sandbox | None = None
_shared_lock = threading.Lock()


def shared_sandbox(limits: ExtractionLimits) -> Sandbox:
    """The process's one pool of extraction workers, started on first use and stopped at exit."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Sandbox(limits.workers)
            atexit.register(_shared.close)
        return _shared


def run_limited(fn: Callable[..., T], *args: Any, limits: ExtractionLimits, what: str) -> T:
    """``fn(*args)`` in the shared sandbox (see ``Sandbox.run``)."""
    return shared_sandbox(limits).run(fn, *args, limits=limits, what=what)

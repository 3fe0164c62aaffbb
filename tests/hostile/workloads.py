"""Functions the sandbox tests run inside extraction workers (they must be importable there)."""

from __future__ import annotations

import logging
import time

from knowledge.sources.errors import UploadError

log = logging.getLogger(__name__)


def spin(seconds: float) -> str:
    """Burn CPU for ``seconds`` (a parser stuck in quadratic work)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return "finished"


def allocate(megabytes: int) -> int:
    """Hold ``megabytes`` of memory at once (a decompression or parse-tree bomb)."""
    block = bytearray(megabytes * 1024 * 1024)
    return len(block)


def refuse(message: str) -> None:
    """Raise a user-facing error, as a reader does for a damaged file."""
    raise UploadError(message)


def broken() -> None:
    """A bug inside the worker."""
    raise ZeroDivisionError("a bug in a reader")


def chatty(message: str) -> int:
    """Log a line from inside the worker and return its process id."""
    import os

    log.warning("worker says %s", message)
    return os.getpid()

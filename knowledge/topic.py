"""Which topic this process follows: the bundled one (the data files inside the package) or
the folder the TOPIC_DIR setting names, holding files of the same names and formats.

One topic per process, fixed at first use: the loaders (knowledge/scope.py, meetings/registry.py,
meetings/vocabulary.py, people/subjects.py) and the patterns compiled from them are cached, so
the topic is chosen once at start-up (`knowledge.topic_check.use_topic`, which reads every file
first; KnowledgeService.open calls it) before anything reads it; another topic later in the
same process is refused, never half applied. This module is below the loaders; the check,
which reads through them, is above them in knowledge/topic_check.py.

In TOPIC_DIR, scope.json is required (the title and the two parties); a missing registry.json,
places.json or subjects.json means that part of the topic is empty (no curated meetings, no
known places, no officials), never the bundled topic's. A file that cannot be read is one line
naming it: `read_json` reads only regular files of at most MAX_FILE_BYTES, and the loaders check
every field (`has_word` for names). docs/topics.md describes the files.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import stat
import threading
from pathlib import Path
from typing import Any

from knowledge.errors import ConfigurationError

log = logging.getLogger(__name__)

_PACKAGE = Path(__file__).resolve().parent
# The bundled topic's files, where the package keeps them.
BUNDLED_FILES = {
    "scope.json": _PACKAGE / "meetings" / "scope.json",
    "registry.json": _PACKAGE / "meetings" / "registry.json",
    "places.json": _PACKAGE / "meetings" / "places.json",
    "subjects.json": _PACKAGE / "people" / "subjects.json",
}
REQUIRED = "scope.json"
# The largest topic file read: parsing JSON takes many times its size in memory, and the
# bundled files are a few kilobytes (100,000 places are about 3 MB). docs/topics.md says so.
MAX_FILE_BYTES = 4 * 1024 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class Topic:
    """A topic's data files: the bundled ones (``directory`` None) or a TOPIC_DIR's."""

    directory: Path | None = None

    def file(self, name: str) -> Path | None:
        """The path of one data file (scope.json, ...); None when TOPIC_DIR has no such file.
        Anything else of that name (a folder, a FIFO, a dangling symlink) is returned, so that
        reading it says what it is rather than the part being silently empty."""
        if self.directory is None:
            return BUNDLED_FILES[name]
        path = self.directory / name
        return path if os.path.lexists(path) else None

    def missing(self) -> list[str]:
        """The optional data files this topic does not have (their parts are empty)."""
        return [name for name in BUNDLED_FILES if self.file(name) is None]

    def describe(self) -> str:
        """Where the topic comes from, for logs and `python -m bot check`."""
        return "bundled" if self.directory is None else f"TOPIC_DIR {self.directory}"


_lock = threading.Lock()
_current: Topic | None = None


def current_topic() -> Topic:
    """The topic the loaders read: the one chosen at start-up (`topic_check.use_topic`), else
    (and from then on) the bundled one."""
    global _current
    with _lock:
        if _current is None:
            _current = Topic()
        return _current


def select_topic(topic: Topic) -> bool:
    """Make ``topic`` the one the loaders read (True when it was not already); ConfigurationError
    when this process already follows another. Call `topic_check.use_topic`, which checks the
    files first."""
    global _current
    with _lock:
        if _current == topic:
            return False
        if _current is not None:
            raise ConfigurationError(
                f"TOPIC_DIR: this process already follows the {_current.describe()} topic; a "
                "process follows one topic (restart it to change)")
        _current = topic
    log.info("topic: %s", topic.describe())
    return True


def read_json(path: Path) -> Any:
    """The JSON in one topic file, after checking that it is a regular file of at most
    MAX_FILE_BYTES; ValueError in one line starting with the path for anything else (so a
    FIFO never blocks, a symlink to /dev/zero is never read, a huge file is never parsed)."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; regular files ignore it.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        if os.path.islink(path):
            raise ValueError(f"{path}: a symlink to {os.readlink(path)}, which does not "
                             "exist") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            what = "a folder" if stat.S_ISDIR(info.st_mode) else "a device, FIFO or socket"
            raise ValueError(f"{path}: not a regular file ({what})")
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as file:
        if info.st_size > MAX_FILE_BYTES:
            raise ValueError(f"{path}: {info.st_size:,} bytes, over the limit of "
                             f"{MAX_FILE_BYTES:,} for a topic file")
        data = file.read(MAX_FILE_BYTES + 1)  # (a file may grow, or /proc report size 0)
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"{path}: over the limit of {MAX_FILE_BYTES:,} bytes for a topic file")
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark, as Windows editors write, is fine
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 (byte 0x{data[exc.start]:02x} at position "
                         f"{exc.start})") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(f"{path}: nested too deeply to read") from None


def has_word(text: object) -> bool:
    """Whether a name from a topic file is a string with a letter or a digit in it: an empty,
    blank or punctuation-only name would make the patterns built from it match anywhere."""
    return isinstance(text, str) and re.search(r"[^\W_]", text) is not None

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
naming it. docs/topics.md describes the files.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from pathlib import Path

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


@dataclasses.dataclass(frozen=True, slots=True)
class Topic:
    """A topic's data files: the bundled ones (``directory`` None) or a TOPIC_DIR's."""

    directory: Path | None = None

    def file(self, name: str) -> Path | None:
        """The path of one data file (scope.json, ...); None when TOPIC_DIR has no such file."""
        if self.directory is None:
            return BUNDLED_FILES[name]
        path = self.directory / name
        return path if path.is_file() else None

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

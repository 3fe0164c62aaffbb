"""The curated list of politicians the texts discuss: subjects of the commentary, not experts."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

from knowledge.people.names import canonical_person_key
from knowledge.topic import BUNDLED_FILES, current_topic, read_json

SUBJECTS_PATH = BUNDLED_FILES["subjects.json"]  # the bundled topic's


@dataclasses.dataclass(frozen=True, slots=True)
class Subject:
    """A politician or official: who they are, which side they act for, their office."""

    name: str
    country: str
    office: str
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Every form the texts may use: the full name first, then the aliases."""
        return (self.name, *self.aliases)


def load_subjects(path: Path | None = None) -> tuple[Subject, ...]:
    """The officials in ``path``, by default the current topic's subjects.json
    (knowledge/topic.py; none when its TOPIC_DIR has no such file)."""
    path = path or current_topic().file("subjects.json")
    return _read_subjects(path) if path is not None else ()


@functools.cache
def _read_subjects(path: Path) -> tuple[Subject, ...]:
    """Read a subjects.json (cached: the list is curated data)."""
    raw = read_json(path)
    return tuple(Subject(s["name"], s["country"], s["office"], tuple(s.get("aliases", ())))
                 for s in raw["subjects"])


def find_subject(name: str, subjects: tuple[Subject, ...] | None = None) -> Subject | None:
    """The subject a name denotes (full name or listed alias, spelling-insensitive), if any."""
    key = canonical_person_key(name)
    if not key:
        return None
    for subject in subjects if subjects is not None else load_subjects():
        if any(canonical_person_key(n) == key for n in subject.names):
            return subject
    return None

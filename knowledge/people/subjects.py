"""The curated list of politicians the texts discuss: subjects of the commentary, not experts."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any

from knowledge.people.names import canonical_person_key
from knowledge.topic import BUNDLED_FILES, current_topic, has_word, read_json

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
    """Read and validate a subjects.json (cached: the list is curated data)."""
    raw = read_json(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("subjects"), list):
        raise ValueError(f"{path}: must be an object whose 'subjects' is a list")
    return tuple(_subject_from_json(entry, n) for n, entry in enumerate(raw["subjects"], 1))


def _subject_from_json(raw: Any, number: int) -> Subject:
    """One official, checked: names and aliases with a letter or digit (an empty one would
    match everywhere), country and office strings."""
    if not isinstance(raw, dict):
        raise ValueError(f"subject #{number}: must be an object")
    where = f"subject #{number}" + (f" ({raw['name']!r})" if has_word(raw.get("name")) else "")
    for key in ("name", "country", "office"):
        if not has_word(raw[key]):
            raise ValueError(f"{where}: {key!r} must be a string with a letter or digit")
    aliases = raw.get("aliases", [])
    if not isinstance(aliases, list) or not all(has_word(a) for a in aliases):
        raise ValueError(f"{where}: 'aliases' must be a list of names, each with a letter or "
                         "digit")
    return Subject(raw["name"], raw["country"], raw["office"], tuple(aliases))


def find_subject(name: str, subjects: tuple[Subject, ...] | None = None) -> Subject | None:
    """The subject a name denotes (full name or listed alias, spelling-insensitive), if any."""
    key = canonical_person_key(name)
    if not key:
        return None
    for subject in subjects if subjects is not None else load_subjects():
        if any(canonical_person_key(n) == key for n in subject.names):
            return subject
    return None

"""What the meeting linker recognises, compiled once from the topic's data: the scope
(scope.json), the places (places.json) and the officials (subjects.json): the bundled topic's
or TOPIC_DIR's (knowledge/topic.py)."""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from knowledge.people.subjects import Subject, load_subjects
from knowledge.scope import Scope, alternation, format_pattern, load_scope
from knowledge.topic import BUNDLED_FILES, current_topic, has_word, read_json

log = logging.getLogger(__name__)

PLACES_PATH = BUNDLED_FILES["places.json"]  # the bundled topic's

# Straightened quotes and dashes: texts are matched after this mapping (see _mentions.normalise).
CHAR_MAP = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-",
                          "\u00a0": " ", "\u2009": " ", "\u202f": " "})
# Words that tie a meeting to the two sides whatever the topic.
_GENERIC_BILATERAL = ("bilateral", "the two leaders", "both leaders")
# Official titles and what goes with them, beside the parties' demonyms ("Russian President").
_TITLE_WORDS = (r"Prime Minister|President|Foreign Minister|Defen[cs]e Minister|Minister|"
                r"former|then|the")


@dataclasses.dataclass(frozen=True, slots=True)
class Place:
    """A recognised place name; a country-level one locates a meeting only loosely."""

    name: str
    country: str
    is_country: bool


# eq=False: compared and hashed by identity, so that caches keyed on it stay cheap.
@dataclasses.dataclass(frozen=True, eq=False)
class Vocabulary:
    """The topic's words as the linker uses them: places, people, formats, events and the
    patterns that tell the parties' meetings from others'."""

    scope: Scope
    places: Mapping[str, Place]
    people: Mapping[str, Subject]  # every form of every official's name -> the official
    place_re: re.Pattern[str]
    person_re: re.Pattern[str]
    formats: Mapping[str, re.Pattern[str]]  # meeting kind -> its spellings
    events: Mapping[str, re.Pattern[str]]  # gatherings: key -> name
    bilateral: re.Pattern[str]
    outside: re.Pattern[str]
    titles: re.Pattern[str]  # words of an official's title, blanked in connector checks

    @property
    def place_names(self) -> str:
        """An alternation of every place name, longest first (one that matches nothing when
        the topic has no places: an empty alternation would match everywhere)."""
        return alternation(self.places) or "(?!)"

    @property
    def all_events(self) -> dict[str, re.Pattern[str]]:
        """Formats, then gatherings: everything that names a meeting by what it is."""
        return {**self.formats, **self.events}


def load_places(path: Path | None = None) -> Mapping[str, Place]:
    """The places in ``path``, by default the current topic's places.json
    (knowledge/topic.py; none when its TOPIC_DIR has no such file)."""
    path = path or current_topic().file("places.json")
    return _read_places(path) if path is not None else {}


@functools.cache
def _read_places(path: Path) -> Mapping[str, Place]:
    """Read and validate a places.json: countries, then cities (a city of a country's name
    wins). Every name and country needs a letter or digit: an empty name would match
    everywhere."""
    raw = read_json(path)
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: must be an object with 'cities' and 'countries'")
    out: dict[str, Place] = {}
    for key, is_country in (("countries", True), ("cities", False)):
        entries = raw.get(key, {})
        if not isinstance(entries, dict):
            raise ValueError(f"{path}: {key!r} must be an object of name: country")
        for name, country in entries.items():
            if not has_word(name):
                raise ValueError(f"{path}: {key} entry {name!r} needs a name with a letter "
                                 "or digit")
            if not has_word(country):
                raise ValueError(f"{path}: {key} entry {name!r}: its country must be a string "
                                 "with a letter or digit")
            out[name] = Place(name, country, is_country)
    return MappingProxyType(out)


def _people(subjects: tuple[Subject, ...]) -> dict[str, Subject]:
    index: dict[str, Subject] = {}
    for subject in subjects:
        for name in subject.names:
            index[name] = subject
            index[name.translate(CHAR_MAP)] = subject
    return index


def _surnames(subject: Subject) -> set[str]:
    """The one-word forms of an official's name ("Putin")."""
    return {subject.name.split()[-1]} | {a for a in subject.aliases if " " not in a.strip()}


def _leader_pairs(scope: Scope, subjects: tuple[Subject, ...]) -> list[str]:
    """"Abe-Putin", "Putin-Abe", ...: one official of each party, either way round."""
    first, second = ({s for subject in subjects if subject.country == party.country
                      for s in _surnames(subject)} for party in scope.parties)
    return [f"{a}-{b}" for x in first for y in second for a, b in ((x, y), (y, x))]


def _words(phrases: list[str]) -> re.Pattern[str]:
    """Any of the phrases as whole words; matches nothing when there are none."""
    return re.compile(rf"\b(?:{alternation(phrases)})\b" if phrases else r"(?!)")


def build_vocabulary(scope: Scope, places: Mapping[str, Place],
                     subjects: tuple[Subject, ...]) -> Vocabulary:
    """Compile the linker's patterns from the topic's data."""
    people = _people(subjects)
    return Vocabulary(
        scope=scope, places=places, people=people,
        place_re=re.compile(rf"(?<![\w-])(?:{alternation(places) or '(?!)'})(?![\w-])"),
        person_re=re.compile(rf"(?<![\w])(?:{alternation(people) or '(?!)'})(?![\w])"),
        formats={f.kind: format_pattern(f) for f in scope.formats},
        events={key: _words(list(terms)) for key, terms in scope.events},
        bilateral=_words([*scope.bilateral_terms, *_GENERIC_BILATERAL,
                          *_leader_pairs(scope, subjects)]),
        outside=_words([w for p in scope.outside_parties for w in p.words]),
        titles=re.compile(r"\b(?:" + "|".join(
            [alternation(d for p in scope.parties for d in p.demonyms) or "(?!)", _TITLE_WORDS])
            + r")\b"))


def load_vocabulary(scope_path: Path | None = None, places_path: Path | None = None,
                    subjects_path: Path | None = None) -> Vocabulary:
    """The vocabulary of a topic's data files (by default the current topic's: an absent
    places.json or subjects.json in TOPIC_DIR means no places or officials)."""
    topic = current_topic()
    return _compile(scope_path or topic.file("scope.json"),
                    places_path or topic.file("places.json"),
                    subjects_path or topic.file("subjects.json"))


@functools.cache
def _compile(scope_path: Path | None, places_path: Path | None,
             subjects_path: Path | None) -> Vocabulary:
    """The vocabulary of some data files, compiled once per set of files."""
    vocabulary = build_vocabulary(load_scope(scope_path), load_places(places_path),
                                  load_subjects(subjects_path))
    log.debug("meeting vocabulary for %r: %d places, %d name forms", vocabulary.scope.title,
              len(vocabulary.places), len(vocabulary.people))
    return vocabulary

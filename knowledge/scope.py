"""The topic of the library: which two parties' meetings it follows, and the words that tell
their meetings and officials apart from everyone else's.

Curated data in the topic's ``scope.json`` (the bundled topic's is
``knowledge/meetings/scope.json``, beside the meeting registry it describes; TOPIC_DIR names
another: knowledge/topic.py, docs/topics.md). The people extractor and the timeline read it
too, so the loader lives here, above both.
Every field but ``title`` and ``parties`` may be left out:

- ``title``: what the library follows, for people ("Russia–Japan meetings"); the timeline
  picture's heading.
- ``parties``: exactly two ``{"country", "names", "demonyms"}``. ``country`` must be spelt as
  the ``country`` fields of places.json and people/subjects.json spell it: a meeting between
  the parties is one whose people or place belong to both. ``names`` are how texts name the
  country ("the Russian Federation"), ``demonyms`` its adjectives ("Russian"); both mark an
  official's title ("Russian President", "President of Russia") and are never a person's name.
- ``bilateral_terms``: words that say a meeting is between the two parties ("Russia-Japan").
  "<leader>-<leader>" pairs ("Abe-Putin") come from subjects.json, not from here.
- ``outside_parties``: third countries and blocs, ``{"country", "names", "demonyms", "terms"}``.
  Any of their words near a mention ("the US", "Beijing", "NATO") marks it as someone else's
  meeting unless the parties' people are named; ``names`` also mark officials' titles.
- ``formats``: named meeting formats between the parties, ``{kind: {"description", "terms"}}``,
  e.g. ``"2+2"`` for foreign and defence ministers. ``kind`` (one token) becomes a meeting
  kind of the registry; ``terms`` are spellings, matched ignoring case, spaces and hyphens.
- ``events``: gatherings where the leaders meet on the sidelines, ``{key: [terms]}``
  ("APEC", "Eastern Economic Forum"), matched as written.
- ``government_terms``: phrases that make whoever holds a role containing them an official,
  not an expert ("State Duma").
- ``outlets``: how texts name the publications that interview experts ("Valdai", "the Club"):
  "<name> told <outlet>" marks an interview, as "told us" does.
- ``other_demonyms``: adjectives of countries the topic mentions that are neither party nor
  outside party ("Peruvian", for a host country): before an office they mark an official.
- ``non_name_words``: lower-case words of the topic that are never part of a person's name
  (capitals, news agencies, outside countries); the parties' own words are added to them.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from knowledge.errors import ConfigurationError
from knowledge.topic import BUNDLED_FILES, current_topic, has_word, read_json

log = logging.getLogger(__name__)

SCOPE_PATH = BUNDLED_FILES["scope.json"]  # the bundled topic's

# Meeting kinds every topic has; a scope's formats add their own.
GENERIC_KINDS: tuple[str, ...] = ("summit", "visit", "multilateral", "other")


@dataclasses.dataclass(frozen=True, slots=True)
class Party:
    """One of the two sides whose meetings the library follows."""

    country: str
    names: tuple[str, ...] = ()
    demonyms: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class OutsideParty:
    """A third country or bloc: named near a mention, it makes the meeting someone else's."""

    country: str
    names: tuple[str, ...] = ()
    demonyms: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()

    @property
    def words(self) -> tuple[str, ...]:
        """Every word that signals this party in a sentence."""
        return (*self.names, *self.demonyms, *self.terms)


@dataclasses.dataclass(frozen=True, slots=True)
class MeetingFormat:
    """A named meeting format between the parties ("2+2": foreign and defence ministers)."""

    kind: str
    description: str
    terms: tuple[str, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Scope:
    """The topic: the two parties, and the vocabulary around their meetings."""

    title: str
    parties: tuple[Party, ...]
    bilateral_terms: tuple[str, ...] = ()
    outside_parties: tuple[OutsideParty, ...] = ()
    formats: tuple[MeetingFormat, ...] = ()
    events: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (key, terms), in file order
    government_terms: tuple[str, ...] = ()
    non_name_words: frozenset[str] = frozenset()
    outlets: tuple[str, ...] = ()
    other_demonyms: tuple[str, ...] = ()

    @property
    def countries(self) -> frozenset[str]:
        """The two parties' countries."""
        return frozenset(p.country for p in self.parties)

    @property
    def pair_name(self) -> str:
        """The parties as one name, for meetings without named people ("Russia-Japan")."""
        return "-".join(p.country for p in self.parties)

    @property
    def meeting_kinds(self) -> tuple[str, ...]:
        """Every kind a registry meeting may have: the generic ones and the formats."""
        return (*GENERIC_KINDS, *(f.kind for f in self.formats))

    @property
    def country_names(self) -> tuple[str, ...]:
        """How texts name the parties' and the outside parties' countries."""
        return (*(n for p in self.parties for n in p.names),
                *(n for p in self.outside_parties for n in p.names))

    @property
    def demonyms(self) -> tuple[str, ...]:
        """The parties' and the outside parties' adjectives ("Russian", "Chinese")."""
        return (*(d for p in self.parties for d in p.demonyms),
                *(d for p in self.outside_parties for d in p.demonyms))


def _strings(raw: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    """A list of words or phrases from a scope entry (empty when absent), each with a letter
    or digit: an empty or punctuation-only term ("-") would match nearly anywhere."""
    values = raw.get(key, [])
    if not isinstance(values, list) or not all(has_word(v) for v in values):
        raise ValueError(f"{where}: {key!r} must be a list of strings, each with a letter or "
                         "digit")
    return tuple(values)


def _objects(raw: dict[str, Any], key: str, where: str, kind: type = list) -> Any:
    """A list (or object) of objects from the scope (empty when absent)."""
    values = raw.get(key, kind())
    items = values.values() if isinstance(values, dict) else values
    if not isinstance(values, kind) or not all(isinstance(v, dict) for v in items):
        raise ValueError(f"{where}: {key!r} must be {'a list' if kind is list else 'an object'} "
                         "of objects")
    return values


def _country(party: dict[str, Any], where: str) -> str:
    """A party's country: a name with a letter or digit."""
    if not has_word(party["country"]):
        raise ValueError(f"{where}: a party's 'country' must be a string with a letter or digit")
    return str(party["country"])


def scope_from_json(raw: dict[str, Any], where: str = "scope") -> Scope:
    """Build and validate a scope from its JSON form."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: must be an object with 'title' and 'parties'")
    if not has_word(raw["title"]):
        raise ValueError(f"{where}: 'title' must be a string with a letter or digit")
    if "parties" not in raw:
        raise KeyError("parties")
    parties = tuple(Party(_country(p, where), _strings(p, "names", where),
                          _strings(p, "demonyms", where))
                    for p in _objects(raw, "parties", where))
    if len(parties) != 2 or parties[0].country == parties[1].country:
        raise ValueError(f"{where}: 'parties' must name two different countries")
    outside = tuple(OutsideParty(_country(p, where), _strings(p, "names", where),
                                 _strings(p, "demonyms", where), _strings(p, "terms", where))
                    for p in _objects(raw, "outside_parties", where))
    formats = tuple(MeetingFormat(kind, f.get("description", ""), _strings(f, "terms", where))
                    for kind, f in _objects(raw, "formats", where, dict).items())
    if not isinstance(raw.get("events", {}), dict):
        raise ValueError(f"{where}: 'events' must be an object of key: [terms]")
    events = tuple((key, _strings(raw["events"], key, where)) for key in raw.get("events", {}))
    for fmt in formats:
        if not isinstance(fmt.description, str):
            raise ValueError(f"{where}: format {fmt.kind!r}: 'description' must be a string")
        if (not fmt.terms or not has_word(fmt.kind) or re.search(r"\s", fmt.kind)
                or fmt.kind in GENERIC_KINDS):
            raise ValueError(f"{where}: format {fmt.kind!r} needs a one-token name with a letter "
                             f"or digit, other than {', '.join(GENERIC_KINDS)}, and at least "
                             "one term")
    keys = [f.kind for f in formats] + [key for key, _ in events]
    if len(set(keys)) != len(keys):
        raise ValueError(f"{where}: format and event names must be distinct")
    party_words = {w.lower() for p in parties for text in (p.country, *p.names, *p.demonyms)
                   for w in text.split()}
    return Scope(
        title=raw["title"], parties=parties,
        bilateral_terms=_strings(raw, "bilateral_terms", where), outside_parties=outside,
        formats=formats, events=events,
        government_terms=_strings(raw, "government_terms", where),
        non_name_words=frozenset(w.lower() for w in _strings(raw, "non_name_words", where))
        | party_words,
        outlets=_strings(raw, "outlets", where),
        other_demonyms=_strings(raw, "other_demonyms", where))


def load_scope(path: Path | None = None) -> Scope:
    """The scope in ``path``, by default the current topic's scope.json (knowledge/topic.py)."""
    if path is None:
        path = current_topic().file("scope.json")
        if path is None:
            raise ConfigurationError(f"TOPIC_DIR: {current_topic().directory} has no scope.json")
    return _read_scope(path)


@functools.cache
def _read_scope(path: Path) -> Scope:
    """Read and validate a scope.json (cached: the scope is curated data)."""
    scope = scope_from_json(read_json(path), str(path))
    log.debug("loaded scope %r from %s", scope.title, path)
    return scope


def alternation(phrases: Iterable[str]) -> str:
    """A regex alternation matching any of the phrases literally, longest first."""
    return "|".join(re.escape(p) for p in sorted(set(phrases), key=len, reverse=True))


def _flexible(term: str) -> str:
    """A term as a regex that ignores spacing: "two-plus-two" also matches "two plus two"."""
    parts = []
    for chunk in re.findall(r"[\s-]+|\+|[^\s+-]+", term):
        if chunk == "+":
            parts.append(r"\s*\+\s*")
        elif not chunk.strip(" -\t\n"):
            parts.append(r"[\s-]*")
        else:
            parts.append(re.escape(chunk))
    return "".join(parts)


@functools.cache
def format_pattern(fmt: MeetingFormat) -> re.Pattern[str]:
    """Any spelling of a meeting format in a text ("2+2", "two-plus-two", "2 + 2")."""
    terms = sorted(set(fmt.terms), key=len, reverse=True)
    return re.compile(rf"(?<![\w+])(?:{'|'.join(_flexible(t) for t in terms)})(?![\w+])",
                      re.IGNORECASE)

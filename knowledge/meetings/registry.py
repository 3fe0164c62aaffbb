"""The curated registry of the topic's meetings, and loose lookup by name, place, date or ordinal.

Nothing in the code is specific to one topic: the library follows whatever its data files
describe. The bundled topic's files are inside the package (knowledge/meetings/ and
knowledge/people/); another topic is a folder of files with the same names and formats that
the TOPIC_DIR setting names (knowledge/topic.py; docs/topics.md says how to make one):

- ``scope.json``: the topic. ``title`` (the timeline's heading), the two ``parties`` (country,
  how texts name it, its demonyms), ``bilateral_terms`` ("EU-China"), ``outside_parties`` whose
  presence makes a meeting someone else's ("the US", "NATO"), meeting ``formats`` that become
  registry kinds ({"2+2": {"description", "terms"}}), ``events`` whose sidelines host meetings
  ("G20"), ``government_terms`` and ``non_name_words`` for the people extractor. Field by field
  in knowledge/scope.py.
- ``registry.json`` (this module): the meetings, as below. ``kind`` is one of summit, visit,
  multilateral, other, or a scope format; ``participants`` are full names as subjects.json
  spells them; ``country`` is where the meeting took place.
- ``places.json``: cities and countries the linker recognises, each with the country it is in,
  spelt as the scope's parties spell theirs.
- ``subjects.json``: the officials the texts discuss, with their country. The
  "<leader>-<leader>" phrases ("Abe-Putin") that mark a bilateral meeting are built from the
  one-word names of one party's officials and the other's.

Generic English (months, tense words, hedges, "summit", "visit") stays in the code.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from knowledge import models
from knowledge.models import DatePrecision, PartialDate
from knowledge.scope import Scope, alternation, format_pattern, load_scope
from knowledge.text.months import MONTHS
from knowledge.topic import BUNDLED_FILES, current_topic, has_word, read_json

log = logging.getLogger(__name__)

REGISTRY_PATH = BUNDLED_FILES["registry.json"]  # the bundled topic's

# "summit", "visit", "multilateral", "other", or one of the scope's formats ("2+2").
MeetingKind = str
# The largest ordinal: a question's "the 17th summit" is read with at most three digits.
MAX_ORDINAL = 999
# The fields every meeting must have, all strings; then the optional ones.
_REQUIRED_TEXT = ("id", "name", "date", "date_precision", "place", "country", "kind")
_OPTIONAL_TEXT = ("description", "date_end")
_NAME_LISTS = ("participants", "aliases")


@dataclasses.dataclass(frozen=True, slots=True)
class Meeting:
    """One meeting in the registry: when, where, who, and the names people use for it."""

    id: str
    name: str
    date: str  # ISO, "2017-04-27" or "2015-05"
    date_precision: DatePrecision
    place: str
    country: str
    kind: MeetingKind
    participants: tuple[str, ...]
    description: str
    aliases: tuple[str, ...] = ()
    date_end: str | None = None
    ordinal: int | None = None

    @property
    def start(self) -> dt.date:
        """First day the meeting may have taken place on."""
        return PartialDate.parse(self.date).start

    @property
    def end(self) -> dt.date:
        """Last day the meeting may have taken place on."""
        return PartialDate.parse(self.date_end or self.date).end

    def to_model(self, *, article_ids: tuple[int, ...] = (), passages: int = 0,
                 experts: tuple[str, ...] = ()) -> models.Meeting:
        """The boundary record (knowledge.models.Meeting), with what storage knows about it."""
        return models.Meeting(
            id=self.id, name=self.name, date=PartialDate.parse(self.date),
            date_end=PartialDate.parse(self.date_end).start if self.date_end else None,
            place=self.place, kind=self.kind, ordinal=self.ordinal,
            participants=self.participants, description=self.description,
            article_ids=article_ids, passages=passages, experts=experts)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (registry fields, as in registry.json)."""
        out = dataclasses.asdict(self)
        out["participants"] = list(self.participants)
        out["aliases"] = list(self.aliases)
        return out


def meeting_kinds(scope: Scope | None = None) -> tuple[str, ...]:
    """The kinds a registry meeting may have: the generic ones and the scope's formats."""
    return (scope or load_scope()).meeting_kinds


def _check_fields(raw: Any, number: int) -> None:
    """Every field of one registry entry has its type and range (ValueError naming the meeting
    and the field): what passes here is stored in the database as it is, so an id that is a
    number or an ordinal too large for SQLite would otherwise fail at a later start."""
    if not isinstance(raw, dict):
        raise ValueError(f"meeting #{number}: must be an object")
    where = f"meeting #{number}" + (f" ({raw['id']})" if has_word(raw.get("id")) else "")
    for key in _REQUIRED_TEXT:
        if not has_word(raw[key]):
            raise ValueError(f"{where}: {key!r} must be a string with a letter or digit")
    for key in _OPTIONAL_TEXT:
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise ValueError(f"{where}: {key!r} must be a string")
    for key in _NAME_LISTS:
        values = raw.get(key, [])
        if not isinstance(values, list) or not all(has_word(v) for v in values):
            raise ValueError(f"{where}: {key!r} must be a list of names, each with a letter or "
                             "digit")
    ordinal = raw.get("ordinal")
    if ordinal is not None and (type(ordinal) is not int or not 1 <= ordinal <= MAX_ORDINAL):
        raise ValueError(f"{where}: 'ordinal' must be a whole number from 1 to {MAX_ORDINAL}")


def _meeting_from_json(raw: dict[str, Any], kinds: tuple[str, ...], number: int = 1) -> Meeting:
    """Build and validate one registry entry (``number``: its place in the file, for errors)."""
    _check_fields(raw, number)
    meeting = Meeting(
        id=raw["id"], name=raw["name"], date=raw["date"], date_precision=raw["date_precision"],
        place=raw["place"], country=raw["country"], kind=raw["kind"],
        participants=tuple(raw.get("participants", ())), description=raw.get("description", ""),
        aliases=tuple(raw.get("aliases", ())), date_end=raw.get("date_end"),
        ordinal=raw.get("ordinal"))
    if meeting.kind not in kinds:
        raise ValueError(f"meeting {meeting.id}: unknown kind {meeting.kind!r}")
    if PartialDate.parse(meeting.date).precision != meeting.date_precision:
        raise ValueError(f"meeting {meeting.id}: date {meeting.date} is not {meeting.date_precision}")
    if meeting.end < meeting.start:
        raise ValueError(f"meeting {meeting.id}: date_end before date")
    return meeting


def load_registry(path: Path | None = None, scope: Scope | None = None) -> tuple[Meeting, ...]:
    """The registry in ``path``, by default the current topic's registry.json
    (knowledge/topic.py; no meetings when its TOPIC_DIR has no such file), oldest meeting
    first. Kinds are checked against ``scope`` (the current topic's by default)."""
    path = path or current_topic().file("registry.json")
    return _read_registry(path, scope or load_scope()) if path is not None else ()


@functools.cache
def _read_registry(path: Path, scope: Scope) -> tuple[Meeting, ...]:
    """Read and validate a registry.json (cached; the file is curated data)."""
    raw = read_json(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("meetings"), list):
        raise ValueError(f"{path}: must be an object whose 'meetings' is a list")
    kinds = meeting_kinds(scope)
    meetings = tuple(sorted((_meeting_from_json(m, kinds, n)
                             for n, m in enumerate(raw["meetings"], 1)),
                            key=lambda m: (m.start, m.id)))
    ids = [m.id for m in meetings]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate meeting ids in {path}")
    log.debug("loaded %d meetings from %s", len(meetings), path)
    return meetings


# Words that say nothing about which meeting is meant.
_STOPWORDS = frozenset("the a an of in at to on and with for by s visit visits summit summits "
                       "meeting meetings talks met between leaders leader".split())


@functools.cache
def _formats(scope: Scope) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(kind, every spelling of it) of the scope's meeting formats."""
    return tuple((f.kind, format_pattern(f)) for f in scope.formats)


@functools.cache
def _query_token(scope: Scope) -> re.Pattern[str]:
    """A query word: an ISO date, a format's kind ("2+2") or a plain word."""
    kinds = alternation(kind for kind, _ in _formats(scope))
    return re.compile(r"\d{4}-\d{2}(?:-\d{2})?|" + (f"{kinds}|" if kinds else "") + r"[^\W_]+")


def _words(scope: Scope, *texts: str) -> frozenset[str]:
    """Lower-cased words of some texts, with every spelling of a format ("two-plus-two") as the
    one token of its kind ("2+2")."""
    text = " ".join(texts)
    lowered, kinds = text.lower(), set()
    for kind, pattern in _formats(scope):
        lowered = pattern.sub(" ", lowered)
        if pattern.search(text):
            kinds.add(kind)
    return frozenset(set(re.findall(r"[^\W_]+", lowered)) | kinds)


@functools.cache
def _searchable(meeting: Meeting, scope: Scope) -> tuple[frozenset[str], frozenset[str]]:
    """Words that name this meeting (id, name, place, aliases, kind), then words about it
    (participants, country)."""
    primary = _words(scope, meeting.id.replace("-", " "), meeting.name, meeting.place,
                     meeting.kind, *meeting.aliases)
    return primary, _words(scope, meeting.country, *meeting.participants)


def _token_score(token: str, meeting: Meeting, scope: Scope) -> float | None:
    """How well one query token fits a meeting; None when a date or ordinal contradicts it."""
    start, end = meeting.start, meeting.end
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", token):
        try:
            day = dt.date.fromisoformat(token)
        except ValueError:  # no such day (2016-02-30): no meeting was held on it
            return None
        return 4.0 if start <= day <= end else None
    if re.fullmatch(r"\d{4}-\d{2}", token):
        year, month = int(token[:4]), int(token[5:])
        return 4.0 if (start.year, start.month) <= (year, month) <= (end.year, end.month) else None
    if re.fullmatch(r"\d{4}", token):
        return 3.0 if start.year <= int(token) <= end.year else None
    if re.fullmatch(r"\d{1,3}(?:st|nd|rd|th)?", token):
        return 4.0 if meeting.ordinal == int(re.sub(r"\D", "", token)) else None
    if token in MONTHS:
        return 3.0 if MONTHS[token] in {start.month, end.month} else None
    primary, secondary = _searchable(meeting, scope)
    prefix = len(token) >= 3
    if token in primary:
        return 3.0
    if prefix and any(w.startswith(token) for w in primary):
        return 2.0
    if token in secondary:
        return 1.5
    if prefix and any(w.startswith(token) for w in secondary):
        return 1.0
    return 0.0


def _score(query_tokens: Sequence[str], meeting: Meeting,
           scope: Scope) -> tuple[float, int] | None:
    """(total fit, number of words that fit nothing), or None if a date or ordinal contradicts."""
    total, unmatched = 0.0, 0
    for token in query_tokens:
        score = _token_score(token, meeting, scope)
        if score is None:
            return None
        total += score
        unmatched += score == 0.0
    return total, unmatched


def find_meeting(query: str, meetings: Sequence[Meeting], limit: int = 25, *,
                 scope: Scope | None = None, complete: bool = False) -> list[Meeting]:
    """Meetings matching a loose query ("Lima 2016", "2017-04", "17th", "nagato", "2+2", a slug),
    best first; also serves autocomplete (an empty query lists the newest meetings first).

    Dates, months and ordinals must match; other words rank the candidates, and every one of
    them must match when some meeting matches them all. ``complete`` (to say which meeting a
    name means) keeps only meetings that every word fits, and nothing for a query without
    words: "Osaka 2016" is no meeting, not the 2016 one that Osaka does not fit. ``scope``
    names the meeting formats (the shipped one by default).
    """
    scope = scope or load_scope()
    query = query.strip()
    exact = [m for m in meetings if m.id == query.lower()]
    if exact:
        return exact
    if not query:
        return sorted(meetings, key=lambda m: m.start, reverse=True)[:limit]
    normalised = query.lower()
    for kind, pattern in _formats(scope):
        normalised = pattern.sub(f" {kind} ", normalised)
    tokens = [t for t in _query_token(scope).findall(normalised) if t not in _STOPWORDS]
    if not tokens:
        return [] if complete else sorted(meetings, key=lambda m: m.start, reverse=True)[:limit]
    scored = [(score, m) for m in meetings if (score := _score(tokens, m, scope)) is not None]
    scored = [(s, m) for s, m in scored if s[0] > 0.0]
    fitting = [(s, m) for s, m in scored if s[1] == 0]
    ranked = fitting if complete else (fitting or scored)
    ranked.sort(key=lambda sm: (-sm[0][0], sm[0][1], -sm[1].start.toordinal()))
    return [m for _, m in ranked[:limit]]

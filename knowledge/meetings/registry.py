"""The curated registry of Russia-Japan meetings, and loose lookup by name, place, date or ordinal."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from knowledge import models
from knowledge.models import DatePrecision, PartialDate

log = logging.getLogger(__name__)

REGISTRY_PATH = Path(__file__).with_name("registry.json")

MeetingKind = Literal["summit", "visit", "2+2", "multilateral", "other"]
MEETING_KINDS: tuple[str, ...] = ("summit", "visit", "2+2", "multilateral", "other")

MONTHS = {name: i for i, names in enumerate(
    (("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
     ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
     ("october", "oct"), ("november", "nov"), ("december", "dec")), start=1) for name in names}


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


def _meeting_from_json(raw: dict[str, Any]) -> Meeting:
    """Build and validate one registry entry."""
    meeting = Meeting(
        id=raw["id"], name=raw["name"], date=raw["date"], date_precision=raw["date_precision"],
        place=raw["place"], country=raw["country"], kind=raw["kind"],
        participants=tuple(raw.get("participants", ())), description=raw.get("description", ""),
        aliases=tuple(raw.get("aliases", ())), date_end=raw.get("date_end"),
        ordinal=raw.get("ordinal"))
    if meeting.kind not in MEETING_KINDS:
        raise ValueError(f"meeting {meeting.id}: unknown kind {meeting.kind!r}")
    if PartialDate.parse(meeting.date).precision != meeting.date_precision:
        raise ValueError(f"meeting {meeting.id}: date {meeting.date} is not {meeting.date_precision}")
    if meeting.end < meeting.start:
        raise ValueError(f"meeting {meeting.id}: date_end before date")
    return meeting


@functools.cache
def load_registry(path: Path = REGISTRY_PATH) -> tuple[Meeting, ...]:
    """Read and validate the registry, oldest meeting first (cached; the file is curated data)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    meetings = tuple(sorted((_meeting_from_json(m) for m in raw["meetings"]),
                            key=lambda m: (m.start, m.id)))
    ids = [m.id for m in meetings]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate meeting ids in {path}")
    log.debug("loaded %d meetings from %s", len(meetings), path)
    return meetings


# Words that say nothing about which meeting is meant.
_STOPWORDS = frozenset("the a an of in at to on and with for by s visit visits summit summits "
                       "meeting meetings talks met between leaders leader".split())
_QUERY_TOKEN = re.compile(r"\d{4}-\d{2}(?:-\d{2})?|2\+2|[^\W_]+")
_TWO_PLUS_TWO = re.compile(r"\btwo[\s-]*plus[\s-]*two\b|\b2\s*\+\s*2\b|\b2plus2\b", re.IGNORECASE)


def _words(*texts: str) -> frozenset[str]:
    """Lower-cased words of some texts, with every spelling of 2+2 as the one token "2+2"."""
    text = " ".join(texts)
    words = set(re.findall(r"[^\W_]+", _TWO_PLUS_TWO.sub(" ", text.lower())))
    return frozenset(words | ({"2+2"} if _TWO_PLUS_TWO.search(text) else set()))


@functools.cache
def _searchable(meeting: Meeting) -> tuple[frozenset[str], frozenset[str]]:
    """Words that name this meeting (id, name, place, aliases, kind), then words about it
    (participants, country)."""
    primary = _words(meeting.id.replace("-", " "), meeting.name, meeting.place, meeting.kind,
                     *meeting.aliases)
    return primary, _words(meeting.country, *meeting.participants)


def _token_score(token: str, meeting: Meeting) -> float | None:
    """How well one query token fits a meeting; None when a date or ordinal contradicts it."""
    start, end = meeting.start, meeting.end
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", token):
        return 4.0 if start <= dt.date.fromisoformat(token) <= end else None
    if re.fullmatch(r"\d{4}-\d{2}", token):
        year, month = int(token[:4]), int(token[5:])
        return 4.0 if (start.year, start.month) <= (year, month) <= (end.year, end.month) else None
    if re.fullmatch(r"\d{4}", token):
        return 3.0 if start.year <= int(token) <= end.year else None
    if re.fullmatch(r"\d{1,3}(?:st|nd|rd|th)?", token):
        return 4.0 if meeting.ordinal == int(re.sub(r"\D", "", token)) else None
    if token in MONTHS:
        return 3.0 if MONTHS[token] in {start.month, end.month} else None
    primary, secondary = _searchable(meeting)
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


def _score(query_tokens: Sequence[str], meeting: Meeting) -> tuple[float, int] | None:
    """(total fit, number of words that fit nothing), or None if a date or ordinal contradicts."""
    total, unmatched = 0.0, 0
    for token in query_tokens:
        score = _token_score(token, meeting)
        if score is None:
            return None
        total += score
        unmatched += score == 0.0
    return total, unmatched


def find_meeting(query: str, meetings: Sequence[Meeting], limit: int = 25) -> list[Meeting]:
    """Meetings matching a loose query ("Lima 2016", "2017-04", "17th", "nagato", "2+2", a slug),
    best first; also serves autocomplete (an empty query lists the newest meetings first).

    Dates, months and ordinals must match; other words rank the candidates, and every one of
    them must match when some meeting matches them all.
    """
    query = query.strip()
    exact = [m for m in meetings if m.id == query.lower()]
    if exact:
        return exact
    if not query:
        return sorted(meetings, key=lambda m: m.start, reverse=True)[:limit]
    normalised = _TWO_PLUS_TWO.sub(" 2+2 ", query.lower())
    tokens = [t for t in _QUERY_TOKEN.findall(normalised) if t not in _STOPWORDS]
    if not tokens:
        return sorted(meetings, key=lambda m: m.start, reverse=True)[:limit]
    scored = [(score, m) for m in meetings if (score := _score(tokens, m)) is not None]
    scored = [(s, m) for s, m in scored if s[0] > 0.0]
    complete = [(s, m) for s, m in scored if s[1] == 0]
    ranked = complete or scored
    ranked.sort(key=lambda sm: (-sm[0][0], sm[0][1], -sm[1].start.toordinal()))
    return [m for _, m in ranked[:limit]]

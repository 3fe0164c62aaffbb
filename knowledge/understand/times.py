"""Time phrases in a question: years, months, seasons, "early/mid/late <year>", and the
relative phrases that hang on a meeting ("before the <meeting>", "the year after <meeting>").

Only generic English lives here; which meeting a phrase hangs on comes from the topic's data
(knowledge/understand/vocabulary.py).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import re
from typing import Literal

from knowledge.text.months import MONTH_NAMES, MONTHS

Side = Literal["before", "after"]
Relation = Literal["before", "after", "year before", "year after"]

_SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11)}
_PARTS = {"early": (1, 4), "mid": (5, 8), "middle": (5, 8), "late": (9, 12), "end": (10, 12),
          "beginning": (1, 3), "start": (1, 3)}
_YEAR = r"(?P<year>(?:19[4-9]|20\d)\d)(?!s)\b"
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_MONTH_YEAR = re.compile(rf"\b(?P<month>{_MONTH})\.?(?:\s+of)?\s+{_YEAR}", re.IGNORECASE)
_SEASON_YEAR = re.compile(rf"\b(?P<season>spring|summer|autumn|fall|winter)(?:\s+of)?\s+{_YEAR}",
                          re.IGNORECASE)
_PART_YEAR = re.compile(rf"\b(?:the\s+)?(?P<part>early|mid|middle|late|end|beginning|start)"
                        rf"(?:\s+of)?[\s-]+{_YEAR}", re.IGNORECASE)
_BARE_YEAR = re.compile(rf"(?<![\w-]){_YEAR}")
_MONTH_ALONE = re.compile(rf"\b(?:in|during|by|since|until)\s+(?P<month>{_MONTH})\b(?!\s+\d)",
                          re.IGNORECASE)
# "17th December", "the 25th of April", "December 17th": an ordinal that is a day of a month.
_DAY_AFTER = re.compile(rf"\s*(?:of\s+)?(?:{_MONTH})\.?(?!\w)", re.IGNORECASE)
_DAY_BEFORE = re.compile(rf"(?<!\w)(?:{_MONTH})\.?\s*(?:the\s+)?$", re.IGNORECASE)
_SEASON_ALONE = re.compile(r"\b(?:that|the same|this|in|in the|during the)\s+"
                           r"(?P<season>spring|summer|autumn|fall|winter)\b(?!\s+(?:of\s+)?\d)",
                           re.IGNORECASE)
_THAT_YEAR = re.compile(r"\b(?:that|the same)\s+year\b", re.IGNORECASE)
# A relation word just before a phrase naming a meeting.
_BEFORE = re.compile(r"\b(?:before|ahead of|prior to|in the run-up to|in the lead-up to|"
                     r"on the eve of|until|by the time(?: of)?|preceding|leading up to)"
                     r"(?:\s+(?:the|a|an|his|her|their))?\s*$", re.IGNORECASE)
_AFTER = re.compile(r"\b(?:after|following|since|in the wake of|in the aftermath of)"
                    r"(?:\s+(?:the|a|an|his|her|their))?\s*$", re.IGNORECASE)
_YEAR_AFTER = re.compile(r"\b(?:the|a)\s+year\s+after(?:\s+the)?\s*$", re.IGNORECASE)
_YEAR_BEFORE = re.compile(r"\b(?:the|a)\s+year\s+before(?:\s+the)?\s*$", re.IGNORECASE)


@dataclasses.dataclass(frozen=True, slots=True)
class Period:
    """A date range a question names, and how it named it ("autumn 2016")."""

    start: dt.date
    end: dt.date
    label: str


def _months(year: int, first: int, last: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, first, 1), dt.date(year, last, calendar.monthrange(year, last)[1])


def _season(season: str, year: int) -> tuple[dt.date, dt.date]:
    if season.lower() == "winter":
        # "The winter of 2016" is read both ways: its first months and its December.
        return dt.date(year, 1, 1), dt.date(year + 1, 2, calendar.monthrange(year + 1, 2)[1])
    return _months(year, *_SEASONS[season.lower()])


def explicit_periods(question: str) -> list[Period]:
    """Periods the question states outright, with their year: "November 2016", "spring 2017",
    "late 2016", "2015" (a year only where no longer phrase already covers it)."""
    periods: list[Period] = []
    taken: list[tuple[int, int]] = []
    for pattern in (_MONTH_YEAR, _SEASON_YEAR, _PART_YEAR):
        for m in pattern.finditer(question):
            year = int(m.group("year"))
            if pattern is _MONTH_YEAR:
                month = MONTHS[m.group("month").lower().rstrip(".")]
                start, end = _months(year, month, month)
                label = f"{MONTH_NAMES[month - 1]} {year}"
            elif pattern is _SEASON_YEAR:
                start, end = _season(m.group("season"), year)
                label = f"{m.group('season').lower()} {year}"
            else:
                part = m.group("part").lower()
                start, end = _months(year, *_PARTS[part])
                label = f"{'mid' if part == 'middle' else part} {year}"
            periods.append(Period(start, end, label))
            taken.append(m.span())
    for m in _BARE_YEAR.finditer(question):
        if not any(a <= m.start() < b for a, b in taken):
            year = int(m.group("year"))
            periods.append(Period(dt.date(year, 1, 1), dt.date(year, 12, 31), str(year)))
    return periods


def anchored_periods(question: str, year: int) -> list[Period]:
    """Periods that need a year from elsewhere (a meeting the question names): "in December",
    "that autumn", "that year"."""
    periods = []
    for m in _MONTH_ALONE.finditer(question):
        month = MONTHS[m.group("month").lower()]
        start, end = _months(year, month, month)
        periods.append(Period(start, end, f"{MONTH_NAMES[month - 1]} {year}"))
    for m in _SEASON_ALONE.finditer(question):
        start, end = _season(m.group("season"), year)
        periods.append(Period(start, end, f"{m.group('season').lower()} {year}"))
    if _THAT_YEAR.search(question):
        periods.append(Period(dt.date(year, 1, 1), dt.date(year, 12, 31), str(year)))
    return periods


def is_day_of_month(question: str, start: int, end: int) -> bool:
    """Whether the ordinal at ``question[start:end]`` ("17th") is a day of a month ("17th
    December", "the 25th of April", "December 17th"), not a meeting's number."""
    return bool(_DAY_AFTER.match(question, end) or _DAY_BEFORE.search(question[:start]))


def relation_before(question: str, at: int) -> Relation | None:
    """The relation word that ends just before position ``at`` (where a meeting is named)."""
    head = question[max(0, at - 40):at]
    if _YEAR_AFTER.search(head):
        return "year after"
    if _YEAR_BEFORE.search(head):
        return "year before"
    if _BEFORE.search(head):
        return "before"
    if _AFTER.search(head):
        return "after"
    return None

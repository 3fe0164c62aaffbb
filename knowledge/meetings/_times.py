"""Time expressions in a sentence ("in May", "6 May 2016", "last month", "the 1990s"), as date
ranges when the year is known and as months of some year when it is not."""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import re
from typing import Literal

from knowledge.text.dates import names_a_document
from knowledge.text.months import MONTHS

ArticleRange = tuple[dt.date, dt.date]


@dataclasses.dataclass(frozen=True, slots=True)
class TimeExpr:
    """A time expression: an absolute range when the year is known, else months of some year."""

    text: str
    lo: dt.date | None = None
    hi: dt.date | None = None
    months: frozenset[int] = frozenset()
    precision: Literal["day", "month", "year", "decade", "months"] = "months"
    bound: bool = False  # "after May", "since 2014": a limit, not the meeting's date

    @property
    def absolute(self) -> bool:
        """Whether the expression fixes a date range (the year is known)."""
        return self.lo is not None and self.hi is not None


# Capitalised full names and "Sept", as they appear in running text.
MONTH_NAMES = {m.title(): i for m, i in MONTHS.items() if len(m) > 3 or m == "may"}
_MONTH = "|".join(sorted(MONTH_NAMES, key=len, reverse=True))
_SEASONS = {"spring": (3, 4, 5), "summer": (6, 7, 8), "autumn": (9, 10, 11), "fall": (9, 10, 11),
            "winter": (12, 1, 2)}
_BOUND_BEFORE = re.compile(r"\b(?:after|since|before|until|till|by|from|through|prior to)\s+"
                           r"(?:the\s+)?(?:last\s+|this\s+|next\s+)?"
                           r"(?:end of\s+|beginning of\s+|early\s+|late\s+)?$")


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _single_month(article: ArticleRange | None) -> tuple[int, int] | None:
    """The (year, month) of an article dated to a day or a month; None for a vaguer date."""
    if article is None:
        return None
    start, end = article
    return (start.year, start.month) if (start.year, start.month) == (end.year, end.month) \
        else None


def find_times(sentence: str, article: ArticleRange | None) -> list[tuple[int, int, TimeExpr]]:
    """Every time expression in the sentence as (start, end, expr), longest first, no overlaps."""
    found: list[tuple[int, int, TimeExpr]] = []

    def add(match: re.Match[str], expr: TimeExpr | None) -> None:
        if expr is None or any(start < match.end() and match.start() < end
                               for start, end, _ in found):
            return
        bound = bool(_BOUND_BEFORE.search(sentence[max(0, match.start() - 30):match.start()]))
        found.append((match.start(), match.end(), dataclasses.replace(expr, bound=bound)))

    def day_range(text: str, y: int, mo: int, d1: int, d2: int | None) -> TimeExpr | None:
        try:
            return TimeExpr(text, dt.date(y, mo, d1), dt.date(y, mo, d2 or d1), precision="day")
        except ValueError:
            return None

    for m in re.finditer(r"\b(\d{4})-(\d{2})-(\d{2})\b", sentence):
        add(m, day_range(m.group(0), int(m[1]), int(m[2]), int(m[3]), None))
    for m in re.finditer(rf"\b(\d{{1,2}})(?:\s*-\s*(\d{{1,2}}))?\s+({_MONTH}),?\s+(\d{{4}})\b",
                         sentence):
        add(m, day_range(m.group(0), int(m[4]), MONTH_NAMES[m[3]], int(m[1]),
                         int(m[2]) if m[2] else None))
    for m in re.finditer(rf"\b({_MONTH})\s+(\d{{1,2}})(?:\s*-\s*(\d{{1,2}}))?(?:st|nd|rd|th)?,?"
                         rf"\s+(\d{{4}})\b", sentence):
        add(m, day_range(m.group(0), int(m[4]), MONTH_NAMES[m[1]], int(m[2]),
                         int(m[3]) if m[3] else None))
    for m in re.finditer(rf"\b({_MONTH}),?\s+(?:of\s+)?(\d{{4}})\b", sentence):
        year, month = int(m[2]), MONTH_NAMES[m[1]]
        add(m, TimeExpr(m.group(0), dt.date(year, month, 1), _month_end(year, month),
                        precision="month"))
    for m in re.finditer(r"\b(\d{4})-(\d{2})\b(?!-)", sentence):
        if 1 <= int(m[2]) <= 12:
            year, month = int(m[1]), int(m[2])
            add(m, TimeExpr(m.group(0), dt.date(year, month, 1), _month_end(year, month),
                            precision="month"))
    for m in re.finditer(rf"\b(?:\d{{1,2}}\s+)?(?:(?:early|mid|late)[- ])?({_MONTH})"
                         rf"(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?\b", sentence):
        add(m, TimeExpr(m.group(0), months=frozenset({MONTH_NAMES[m[1]]})))
    single = _single_month(article)
    for m in re.finditer(r"\b(?:(?:earlier|later) )?(this|last|next) (month|year|week)\b",
                         sentence):
        which, unit = m[1], m[2]
        if article is None:
            continue
        if unit == "year":
            if article[0].year != article[1].year:
                continue
            year = article[0].year + {"this": 0, "last": -1, "next": 1}[which]
            add(m, TimeExpr(m.group(0), dt.date(year, 1, 1), dt.date(year, 12, 31),
                            precision="year"))
        elif unit == "month" and single:
            year, month = _shift_month(*single, {"this": 0, "last": -1, "next": 1}[which])
            add(m, TimeExpr(m.group(0), dt.date(year, month, 1), _month_end(year, month),
                            precision="month"))
        elif unit == "week" and article[1] - article[0] <= dt.timedelta(days=31):
            shift = dt.timedelta(days={"this": 0, "last": -7, "next": 7}[which])
            add(m, TimeExpr(m.group(0), article[0] + shift - dt.timedelta(days=7),
                            article[1] + shift + dt.timedelta(days=7), precision="day"))
    for m in re.finditer(r"\b(?:(this|last|next) |in (?:the )?)(spring|summer|autumn|fall|winter)\b",
                         sentence):
        add(m, TimeExpr(m.group(0), months=frozenset(_SEASONS[m[2]])))
    for m in re.finditer(r"\b(?:the )?(1[89]\d|20\d)0'?s\b", sentence):
        decade = int(m[1]) * 10
        add(m, TimeExpr(m.group(0), dt.date(decade, 1, 1), dt.date(decade + 9, 12, 31),
                        precision="decade"))
    for m in re.finditer(r"(?<![\w-])(19[4-9]\d|20[0-4]\d)(?![\w-]|'s)", sentence):
        if names_a_document(sentence, m.end()):
            continue  # "the 1956 Declaration" names a document, no time of the sentence
        year = int(m[1])
        add(m, TimeExpr(m.group(0), dt.date(year, 1, 1), dt.date(year, 12, 31), precision="year"))
    return found

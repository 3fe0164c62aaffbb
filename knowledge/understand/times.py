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

from knowledge.text.dates import names_a_document
from knowledge.text.months import MONTH_NAMES, MONTHS

Side = Literal["before", "after"]

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
# Two parts of one year: "between spring and autumn 2016", "from March to June 2017".
_PART = rf"(?:spring|summer|autumn|fall|{_MONTH})"
_ONE_YEAR_SPAN = re.compile(rf"(?:\b(?:between|from)\s+(?:the\s+)?(?P<a>{_PART})\.?\s+"
                            rf"(?:and|to|until|till|through)\s+(?:the\s+)?(?P<b>{_PART})\.?"
                            rf"|\b(?P<a2>{_PART})\.?\s*[-–—]\s*(?P<b2>{_PART})\.?)"
                            rf"(?:\s+of)?\s+{_YEAR}", re.IGNORECASE)
# A winter across two years: "the winter of 2018-19", "winter 2018/2019".
_WINTER_SPAN = re.compile(r"\bwinter\s+(?:of\s+)?(?P<year>(?:19[4-9]|20\d)\d)\s*[-–—/]\s*"
                          r"(?P<to>(?:19|20)?\d\d)(?![\w-])", re.IGNORECASE)
# Halves and quarters: "the first half of 2016", "H2 2016", "Q1 2019", "the third quarter of 2016".
_HALF_QUARTER = re.compile(
    rf"\b(?:(?:the\s+)?(?P<nth>first|second|third|fourth|1st|2nd|3rd|4th)\s+(?P<unit>half|quarter)"
    rf"(?:\s+of)?|(?P<letter>[QH])(?P<n>[1-4])(?:\s+of)?)[\s-]+{_YEAR}", re.IGNORECASE)
_NTH = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4}
# "pre-2015", "post-2016": open periods written as one word.
_PRE_POST = re.compile(rf"\b(?P<side>pre|post)-{_YEAR}", re.IGNORECASE)
# A day: "2019-01-22", "22.01.2019" (day first), "January 22, 2019", "Dec. 15th 2016".
_DAY_DATE = re.compile(
    r"(?<![\w.-])(?:(?P<iso>(?P<iy>(?:19|20)\d\d)-(?P<im>\d\d)-(?P<id>\d\d))"
    r"|(?P<dotted>(?P<dd>\d{1,2})\.(?P<dm>\d{1,2})\.(?P<dy>(?:19|20)\d\d))"
    rf"|(?P<wm>{_MONTH})\.?\s+(?P<wd>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<wy>(?:19|20)\d\d))"
    r"(?![\w-])", re.IGNORECASE)
# A month in figures: "12/2016", "2016-12".
_NUMERIC_MONTH = re.compile(r"(?<![\w./-])(?:(?P<m1>\d{1,2})/(?P<y1>(?:19|20)\d\d)|"
                            r"(?P<y2>(?:19|20)\d\d)-(?P<m2>\d\d))(?![\w/-])")
_DECADE = re.compile(r"\b(?:the\s+)?(?:(?P<part>early|mid|late)[\s-]+)?"
                     r"(?P<decade>(?:19|20)\d0)[’']?s\b", re.IGNORECASE)
# A period naming a meeting ("after the November 2016 talks"): a relation word is the meeting's.
_MEETING_AFTER = re.compile(r"\s+(?:[A-Z][\w-]*\s+){0,2}(?:summit|meeting|visit|talks|forum|"
                            r"conference)s?\b", re.IGNORECASE)
_BARE_YEAR = re.compile(rf"(?<![\w-]){_YEAR}")
# A number that only looks like a year: "2000 or more", "1950 islanders", "more than 2000".
_QUANTITY_AFTER = re.compile(
    r"\s*(?:\+|%|percent\b|per\s+cent\b|or\s+(?:more|fewer|less|so)\b|"
    r"(?:people|islanders|residents|inhabitants|troops|soldiers|km|kilometres|kilometers|miles|"
    r"tons|tonnes|yen|dollars|roubles|rubles|times|votes|jobs|companies|firms|visitors|"
    r"tourists|hectares|square)\b)", re.IGNORECASE)
_QUANTITY_BEFORE = re.compile(r"(?:\b(?:(?:more|fewer|less|greater|other)\s+than|at\s+(?:least|"
                              r"most)|nearly|almost|roughly|approximately)|[$¥€£])\s*$",
                              re.IGNORECASE)
_MONTH_ALONE = re.compile(rf"\b(?:in|during|by|since|until)\s+(?P<month>{_MONTH})\b(?!\s+\d)",
                          re.IGNORECASE)
# "17th December", "the 25th of April", "December 17th": an ordinal that is a day of a month.
_DAY_AFTER = re.compile(rf"\s*(?:of\s+)?(?P<month>{_MONTH})\.?(?!\w)", re.IGNORECASE)
_DAY_BEFORE = re.compile(rf"(?<!\w)(?P<month>{_MONTH})\.?\s*(?:the\s+)?$", re.IGNORECASE)
# Two periods joined into one span: "2015 to 2019", "November 2016 - March 2017", and with
# "between" before the first, "between 2015 and 2019" (or "2019 and 2015"). A bare "and"
# keeps them apart, and so does "from 2015 and 2019".
_SPAN_JOIN = re.compile(r"\s*(?:-|–|—|to|until|till|through)\s*", re.IGNORECASE)
_SPAN_AND = re.compile(r"\s*and\s*", re.IGNORECASE)
# "from 2015 and 2019" is two periods ("from" each), "between 2015 and 2019" one span.
_SPAN_BETWEEN = re.compile(r"\bbetween\s+(?:the\s+)?$", re.IGNORECASE)
# "2015-2019", "2015–19": years written as one span.
_YEAR_SPAN = re.compile(r"(?<![\w-])(?P<year>(?:19[4-9]|20\d)\d)\s*[-–—/]\s*"
                        r"(?P<to>(?:19|20)?\d\d)(?![\w-])")
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
# A period open on one side: "after 2016", "since spring 2017", "before the end of 2015" (not
# "from": "commentary from December 2016" was written then; "from 2016 onwards" opens).
_OPEN_SIDE = re.compile(r"\b(?P<side>no\s+later\s+than|not\s+later\s+than|later\s+than|"
                        r"after|since|before|prior\s+to|earlier\s+than|until|till|up\s+to)"
                        r"\s+(?:the\s+)?$", re.IGNORECASE)
# "2016 onwards", "2016 and after", "from 2016 on": open after, the period included ("on"
# only where the phrase ends: "from 2016 on Putin's visit" is commentary of 2016).
_OPEN_AFTER = re.compile(r"\s*(?:onwards?|and\s+(?:after|later|beyond|since))\b"
                         r"|\s+on\s*(?:$|[,;:.?!)]|and\b|,)", re.IGNORECASE)
_SIDES = {"after": "after", "later than": "after", "since": "since",
          "before": "before", "prior to": "before", "earlier than": "before",
          "until": "until", "till": "until", "up to": "until",
          "no later than": "until", "not later than": "until"}
# The open end of such a period (far enough for any article, near enough for date arithmetic).
OPEN_START, OPEN_END = dt.date(1000, 1, 1), dt.date(2999, 12, 31)
_BOTH_SIDES = re.compile(r"\b(?:before and after|after and before)(?:\s+(?:the|a|an|his|her|"
                         r"their))?\s*$", re.IGNORECASE)
# A time at a distance from a meeting: "the year after", "two years before", "a month after",
# "three weeks ahead of"; "(in) the year of the Olympics" is its own year.
_COUNTS = {"a": 1, "an": 1, "the": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
           "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
_OFFSET = re.compile(rf"\b(?P<count>{'|'.join(_COUNTS)}|\d{{1,2}})[\s-]+(?P<unit>year|month|week|day)s?"
                     r"\s+(?P<side>before|after|prior\s+to|ahead\s+of|following)"
                     r"(?:\s+(?:the|a|an|his|her|their))?\s*$", re.IGNORECASE)
_YEAR_OF = re.compile(r"\b(?:the|that)\s+(?:same\s+)?year\s+of(?:\s+(?:the|a|an|his|her|their))?"
                      r"\s*$", re.IGNORECASE)


@dataclasses.dataclass(frozen=True, slots=True)
class Period:
    """A date range a question names, and how it named it ("autumn 2016")."""

    start: dt.date
    end: dt.date
    label: str


@dataclasses.dataclass(frozen=True, slots=True)
class Offset:
    """A time a question hangs on a meeting at a distance: "two years before" (count 2, unit
    "year"), "a month after"; "the year of" is count 0 and no side."""

    side: Side | None
    count: int
    unit: Literal["year", "month", "week", "day"]

    def period(self, start: dt.date, end: dt.date, *, month: bool = False) -> Period:
        """The period at this distance from a meeting held from `start` to `end`: a calendar
        year or month (as "the year after the Olympics" is the next calendar year; with
        `month`, the meeting named by its month, "a year before the visit in April 2017" is
        April 2016), the week around the day, or the day itself ("the day before")."""
        sign = -1 if self.side == "before" else 1
        anchor = start if self.side == "before" else end
        if self.unit == "year" and not month:
            return _year(anchor.year + sign * self.count)
        if self.unit in ("year", "month"):
            index = anchor.year * 12 + anchor.month - 1 + sign * self.count * (
                12 if self.unit == "year" else 1)
            year, nth = divmod(index, 12)
            first, last = _months(year, nth + 1, nth + 1)
            return Period(first, last, f"{MONTH_NAMES[nth]} {year}")
        if self.unit == "day":
            day = anchor + dt.timedelta(days=sign * self.count)
            return Period(day, day, f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}")
        day = anchor + dt.timedelta(weeks=sign * self.count)
        first, last = day - dt.timedelta(days=3), day + dt.timedelta(days=3)
        return Period(first, last, f"{first.day} {MONTH_NAMES[first.month - 1]} – "
                                   f"{last.day} {MONTH_NAMES[last.month - 1]} {last.year}")


Relation = Side | Offset


def _months(year: int, first: int, last: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, first, 1), dt.date(year, last, calendar.monthrange(year, last)[1])


def _season(season: str, year: int) -> tuple[dt.date, dt.date]:
    if season.lower() == "winter":
        # "The winter of 2016" is read both ways: its first months and its December.
        return dt.date(year, 1, 1), dt.date(year + 1, 2, calendar.monthrange(year + 1, 2)[1])
    return _months(year, *_SEASONS[season.lower()])


def explicit_periods(question: str) -> list[Period]:
    """Periods the question states outright, with their year: "November 2016", "spring 2017",
    "late 2016", "2015" (a year only where no longer phrase already covers it), and spans of
    two ("between 2015 and 2019", "2015-2019", "from spring 2016 to March 2017") as one."""
    found: list[tuple[tuple[int, int], Period]] = []
    for m in _ONE_YEAR_SPAN.finditer(question):  # "between spring and autumn 2016"
        year, a, b = int(m.group("year")), m.group("a") or m.group("a2"), \
            m.group("b") or m.group("b2")
        opening, closing = _part_of_year(a, year), _part_of_year(b, year)
        if opening[0] > closing[0]:  # "from December to March 2017": the December before
            opening = _part_of_year(a, year - 1)
        found.append((m.span(), Period(opening[0], closing[1],
                                       f"{_named(a)} – {_named(b)} {year}")))
    for m in _WINTER_SPAN.finditer(question):  # "the winter of 2018-19"
        first, to = int(m.group("year")), m.group("to")
        if (int(to) if len(to) == 4 else first // 100 * 100 + int(to)) == first + 1:
            found.append((m.span(), Period(dt.date(first, 12, 1), dt.date(
                first + 1, 2, calendar.monthrange(first + 1, 2)[1]), f"winter {first}–{to}")))
    for m in _HALF_QUARTER.finditer(question):  # "the first half of 2016", "Q3 2016"
        year = int(m.group("year"))
        if m.group("letter"):
            unit = "half" if m.group("letter").upper() == "H" else "quarter"
            n = int(m.group("n"))
        else:
            unit, n = m.group("unit").lower(), _NTH[m.group("nth").lower()]
        if (unit == "half" and n > 2) or _overlaps(found, m.start()):
            continue
        months = 6 if unit == "half" else 3
        start, end = _months(year, (n - 1) * months + 1, n * months)
        label = f"{('first', 'second', 'third', 'fourth')[n - 1]} {unit} of {year}"
        found.append((m.span(), Period(start, end, label)))
    for m in _PRE_POST.finditer(question):  # "pre-2015", "post-2016"
        year = int(m.group("year"))
        if m.group("side").lower() == "pre":
            period = Period(OPEN_START, dt.date(year - 1, 12, 31), f"before {year}")
        else:
            period = Period(dt.date(year + 1, 1, 1), OPEN_END, f"after {year}")
        found.append((m.span(), period))
    for m in _DAY_DATE.finditer(question):  # "2019-01-22", "Jan 22, 2019", "22.01.2019"
        day = _day_of(m)
        if day is not None:  # its month, as for "17 December 2016": commentary comes around it
            start, end = _months(day.year, day.month, day.month)
            found.append((m.span(), Period(start, end,
                                           f"{MONTH_NAMES[day.month - 1]} {day.year}")))
    for m in _NUMERIC_MONTH.finditer(question):  # "12/2016", "2016-12"
        month, year = int(m.group("m1") or m.group("m2")), int(m.group("y1") or m.group("y2"))
        if 1 <= month <= 12 and not any(a <= m.start() < b for (a, b), _ in found):
            start, end = _months(year, month, month)
            found.append((m.span(), Period(start, end, f"{MONTH_NAMES[month - 1]} {year}")))
    for m in _DECADE.finditer(question):  # "the 1990s", "the 1990's", "the early 2010s"
        if names_a_document(question, m.end(), any_case=True):
            continue  # "the 1950s declaration"
        decade, part = int(m.group("decade")), (m.group("part") or "").lower()
        first, last = {"early": (0, 3), "mid": (3, 6), "late": (7, 9)}.get(part, (0, 9))
        found.append((m.span(), Period(dt.date(decade + first, 1, 1),
                                       dt.date(decade + last, 12, 31),
                                       f"the {part + ' ' if part else ''}{decade}s")))
    for m in _YEAR_SPAN.finditer(question):
        if _overlaps(found, m.start()):
            continue
        first, to = int(m.group("year")), m.group("to")
        last = int(to) if len(to) == 4 else first // 100 * 100 + int(to)
        if last > first:
            found.append((m.span(), Period(dt.date(first, 1, 1), dt.date(last, 12, 31),
                                           f"{first} – {last}")))
        elif last >= 1940:  # "2019-2015": two years, as "from 2019 to 2015" reads
            found.append(((m.start(), m.start("to")), _year(first)))
            if last != first:
                found.append((m.span("to"), _year(last)))
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
            if any(a <= m.start() < b for (a, b), _ in found):
                continue
            if pattern is _SEASON_YEAR and m.group("season").lower() == "winter":
                # "the winter of 2016" is read both ways, as two windows: the winter its
                # first months end and the one its December begins ("winter 2016/17")
                found.append((m.span(), Period(*_months(year, 1, 2),
                                               f"January – February {year}")))
                found.append((m.span(), Period(dt.date(year, 12, 1), end,
                                               f"winter {year}–{str(year + 1)[2:]}")))
            else:
                found.append((m.span(), Period(start, end, label)))
    for m in _BARE_YEAR.finditer(question):
        if names_a_document(question, m.end(), any_case=True):
            continue  # "the 1956 Declaration" names a document, not a time
        if _QUANTITY_AFTER.match(question, m.end()) \
                or _QUANTITY_BEFORE.search(question[max(0, m.start() - 20):m.start()]):
            continue  # "2000 or more islanders", "more than 2000": a number, not a year
        if not any(a <= m.start() < b for (a, b), _ in found):
            found.append((m.span(), _year(int(m.group("year")))))
    return [_opened(question, span, period) for span, period in
            _spans_joined(question, sorted(found, key=lambda f: f[0]))]


def _overlaps(found: list[tuple[tuple[int, int], Period]], at: int) -> bool:
    """Whether position ``at`` is inside a period already found."""
    return any(a <= at < b for (a, b), _ in found)


def _year(year: int) -> Period:
    return Period(dt.date(year, 1, 1), dt.date(year, 12, 31), str(year))


def _part_of_year(word: str, year: int) -> tuple[dt.date, dt.date]:
    """A season's or a month's dates in a year."""
    word = word.lower().rstrip(".")
    if word in MONTHS:
        return _months(year, MONTHS[word], MONTHS[word])
    return _season(word, year)


def _named(word: str) -> str:
    """A month's full name, or a season in lower case."""
    word = word.lower().rstrip(".")
    return MONTH_NAMES[MONTHS[word] - 1] if word in MONTHS else word


def _day_of(m: re.Match[str]) -> dt.date | None:
    """The day a `_DAY_DATE` match names (None for an impossible one)."""
    if m.group("iso"):
        year, month, day = int(m.group("iy")), int(m.group("im")), int(m.group("id"))
    elif m.group("dotted"):
        year, month, day = int(m.group("dy")), int(m.group("dm")), int(m.group("dd"))
    else:
        year, day = int(m.group("wy")), int(m.group("wd"))
        month = MONTHS[m.group("wm").lower().rstrip(".")]
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _opened(question: str, span: tuple[int, int], period: Period) -> Period:
    """"after 2016", "since 2017", "before 2016", "prior to 2016", "until 2016", "2016
    onwards", "from 2016 on": the period opened on one side (not "after the November 2016
    talks": that relation is the meeting's; not "from 2016" alone, the period itself)."""
    start, end = span
    if period.start == OPEN_START or period.end == OPEN_END:
        return period  # "pre-2015": opened as written
    if _MEETING_AFTER.match(question, end):
        return period
    found = _OPEN_SIDE.search(question[max(0, start - 30):start])
    side = _SIDES[" ".join(found.group("side").lower().split())] if found else None
    if side is None and _OPEN_AFTER.match(question, end):
        side = "since"
    if side == "before":
        return Period(OPEN_START, period.start - dt.timedelta(days=1), f"before {period.label}")
    if side == "until":
        return Period(OPEN_START, period.end, f"until {period.label}")
    if side == "since":
        return Period(period.start, OPEN_END, f"since {period.label}")
    if side == "after":
        return Period(period.end + dt.timedelta(days=1), OPEN_END, f"after {period.label}")
    return period


def _spans_joined(question: str, found: list[tuple[tuple[int, int], Period]]
                  ) -> list[tuple[tuple[int, int], Period]]:
    """The periods in text order (with where they are written), two joined into one where
    the text makes them a span."""
    periods: list[tuple[tuple[int, int], Period]] = []
    i = 0
    while i < len(found):
        (start, end), period = found[i]
        if i + 1 < len(found):
            (next_start, _), following = found[i + 1]
            between = question[end:next_start]
            if following.end >= period.start and (
                    _SPAN_JOIN.fullmatch(between) or (
                        _SPAN_AND.fullmatch(between) and _SPAN_BETWEEN.search(question[:start]))):
                periods.append(((start, found[i + 1][0][1]), Period(
                    period.start, following.end, f"{period.label} – {following.label}")))
                i += 2
                continue
            if _SPAN_AND.fullmatch(between) and _SPAN_BETWEEN.search(question[:start]):
                # "between 2019 and 2015": the same span as "between 2015 and 2019"
                periods.append(((start, found[i + 1][0][1]), Period(
                    following.start, period.end, f"{following.label} – {period.label}")))
                i += 2
                continue
        periods.append(found[i])
        i += 1
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
    if _DAY_AFTER.match(question, end):
        return True
    before = _DAY_BEFORE.search(question[:start])
    # A lowercase "may" before it is the verb ("what may the 3rd summit bring?").
    return before is not None and before.group("month") != "may"


# "the summit right after the Vladivostok one", "the meeting that preceded the 2+2", "the
# previous summit before the 25th": not a side of that meeting but its neighbour in time.
_NEIGHBOUR = re.compile(
    r"\b(?:summit|meeting|visit|trip|talks|session|one|gathering|encounter)s?\s+"
    r"(?:(?:right|just|immediately|directly)\s+)?(?P<word>before|after|preceding|following|"
    r"prior\s+to)(?:\s+(?:the|a|an|his|her|their))?\s*$"
    r"|\b(?:that|which)\s+(?:(?:immediately|directly)\s+)?(?P<verb>preceded|followed)"
    r"(?:\s+(?:the|a|an|his|her|their))?\s*$", re.IGNORECASE)


def neighbour_before(question: str, at: int) -> Literal["previous", "next"] | None:
    """Whether the words just before position ``at`` (where a meeting is named) ask for the
    meeting before it or after it ("the summit right after the Vladivostok one")."""
    m = _NEIGHBOUR.search(question[max(0, at - 50):at])
    if m is None:
        return None
    word = (m.group("word") or m.group("verb")).lower()
    return "previous" if word.startswith(("before", "preced", "prior")) else "next"


def relation_before(question: str, at: int) -> Relation | None:
    """The relation that ends just before position ``at`` (where a meeting is named): a side
    ("before the summit") or a distance ("two years before the summit", "the year of")."""
    head = question[max(0, at - 40):at]
    if _BOTH_SIDES.search(head):  # "before and after the summit": neither side alone
        return None
    if (m := _OFFSET.search(head)) is not None:
        side: Side = "before" if m.group("side").lower().startswith(("before", "prior", "ahead")) \
            else "after"
        count = m.group("count").lower()
        unit = m.group("unit").lower()
        return Offset(side, int(count) if count.isdigit() else _COUNTS[count],
                      "year" if unit == "year" else "month" if unit == "month" else
                      "week" if unit == "week" else "day")
    if _YEAR_OF.search(head):
        return Offset(None, 0, "year")
    if _BEFORE.search(head):
        return "before"
    if _AFTER.search(head):
        return "after"
    return None

"""Dates printed in a text: one written out alone ("June 11, 2015", "11 June 2015", "2015-06-11",
"February 2020"), as a byline or a text's header gives its publication date."""

from __future__ import annotations

import datetime as dt
import re

from knowledge.models import PartialDate
from knowledge.text.months import MONTHS

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
# The forms a printed date takes, each matched against the whole text.
_ISO = re.compile(r"(?P<year>\d{4})(?:-(?P<month>\d{1,2})(?:-(?P<day>\d{1,2}))?)?")
_DAY_MONTH_YEAR = re.compile(rf"(?P<day>\d{{1,2}})\s+(?P<name>{_MONTH})\.?\s+(?P<year>\d{{4}})",
                             re.IGNORECASE)
_MONTH_DAY_YEAR = re.compile(
    rf"(?P<name>{_MONTH})\.?\s+(?:(?P<day>\d{{1,2}}),?\s+)?(?P<year>\d{{4}})", re.IGNORECASE)
# "10/02/2020", "10.2.20": whether the day or the month comes first differs by country, so
# only the year is taken.
_NUMERIC = re.compile(r"(?P<first>\d{1,2})(?P<sep>[./])(?P<second>\d{1,2})(?P=sep)"
                      r"(?P<year>\d{4}|\d{2})")
_DATELINE_LABEL = re.compile(r"(?:(?:published|posted)(?:\s+on)?|date):?\s*", re.IGNORECASE)
# What follows a year that starts a document's name: "the 1956 Declaration", "the 1993 Tokyo
# Declaration". In article text the document's noun is capitalised (a "1956 agreement" may be
# a time); in a question, any case ("the 1950s declaration").
_DOCUMENT = (r"Declaration|Treaty|Agreement|Accord|Act|Communiqu[ée]|Statement|Protocol|"
             r"Convention|Charter|Memorandum|Constitution")
_DOCUMENT_AFTER = re.compile(rf"\s+(?:[A-Z][\w-]*\s+){{0,3}}(?:{_DOCUMENT})\b")
_DOCUMENT_AFTER_ANY_CASE = re.compile(rf"\s+(?:[A-Z][\w-]*\s+){{0,3}}(?i:{_DOCUMENT})\b")


def names_a_document(text: str, end: int, *, any_case: bool = False) -> bool:
    """Whether the year (or decade) ending at ``text[end]`` starts a document's name ("the
    1956 Declaration"): then it names the document, not a time. ``any_case``: the document's
    noun may be lower case (questions)."""
    pattern = _DOCUMENT_AFTER_ANY_CASE if any_case else _DOCUMENT_AFTER
    return pattern.match(text, end) is not None


def parse_printed_date(text: str) -> PartialDate | None:
    """The date a text is, written out alone: "2020-02-10", "10 February 2020", "Feb. 10, 2020"
    (a day); "February 2020", "2020-02" (a month); "2020", "10/02/2020" (a year); else None,
    also for an impossible date. The one recogniser for bylines, datelines and roles."""
    text = " ".join(text.split())
    if m := _NUMERIC.fullmatch(text):
        first, second, year = int(m["first"]), int(m["second"]), int(m["year"])
        if len(m["year"]) == 2:  # "10.2.20": the most recent such year
            year += 2000 if 2000 + year <= dt.date.today().year else 1900
        if _valid(year, second, first) or _valid(year, first, second):
            return PartialDate(f"{year:04d}", "year")
        return None
    m = (_ISO.fullmatch(text) or _DAY_MONTH_YEAR.fullmatch(text)
         or _MONTH_DAY_YEAR.fullmatch(text))
    if m is None:
        return None
    fields = m.groupdict()
    year = int(fields["year"])
    month = MONTHS[fields["name"].lower()] if fields.get("name") else int(fields["month"] or 0)
    day = int(fields["day"] or 0)
    if not _valid(year, month or 1, day or 1):
        return None
    if not month:
        return PartialDate(f"{year:04d}", "year")
    if not day:
        return PartialDate(f"{year:04d}-{month:02d}", "month")
    return PartialDate(f"{year:04d}-{month:02d}-{day:02d}", "day")


# Where a date may follow the rest of a line: after a comma, full stop, bar or dash.
_BEFORE_DATE = re.compile(r"[,.;|–—]\s+")
# A byline, on a line of its own: "By X, role" or "Commentary by Professor X, role"; `rest` is
# what follows "by" (names, roles, and perhaps its date). The one byline pattern: people read
# names and roles from it (knowledge/people/extract.py), dates its end.
BYLINE = re.compile(r"^[ \t]*(?:[A-Z][a-z]+[ \t]+by|By)[ \t]+(?P<rest>[A-ZÀ-Þ][^\n]{2,200})$",
                    re.MULTILINE)


def split_trailing_date(text: str) -> tuple[str, PartialDate | None]:
    """A date ending a phrase, split off: "Senior Fellow at X. March 20, 2021" -> ("Senior
    Fellow at X", 2021-03-20); "Professor, 10 February 2020" -> ("Professor", 2020-02-10);
    else (the text, None). The longest date wins ("February 10, 2020", not "2020")."""
    text = text.strip().rstrip(".").strip()
    cuts = [m for m in _BEFORE_DATE.finditer(text)][-3:]
    for cut in cuts:
        date = parse_printed_date(text[cut.end():])
        if date is not None:
            return text[:cut.start()].strip(), date
    return text, None


def byline_date(line: str) -> PartialDate | None:
    """The date ending a byline ("By Kenji Watanabe, 10 February 2020", "*Commentary by X,
    historian at Y. June 2022*"), or None; Markdown emphasis around the line is ignored."""
    m = BYLINE.fullmatch(line.strip().strip("*_").strip())
    return split_trailing_date(m["rest"])[1] if m else None


def _valid(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def find_dateline(text: str, max_lines: int = 15) -> PartialDate | None:
    """A day standing alone on one of the first lines (a dateline), or a day or month ending
    a byline there ("By X, Senior Fellow. March 20, 2021"), or None."""
    seen = 0
    for raw in text.splitlines():
        line = raw.strip().strip("*_").strip()
        if not line:
            continue
        seen += 1
        if seen > max_lines:
            return None
        label = _DATELINE_LABEL.match(line)
        date = parse_printed_date(line[label.end():] if label else line)
        if date is not None and date.precision == "day":
            return date
        # a byline's date may be a month ("... historian at Y. June 2022")
        date = byline_date(line)
        if date is not None and date.precision in ("day", "month"):
            return date
    return None

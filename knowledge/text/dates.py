"""Publication dates printed in a text's header ("June 11, 2015", "11 June 2015", "2015-06-11")."""

from __future__ import annotations

import datetime as dt
import re

from knowledge.models import PartialDate
from knowledge.text.months import MONTHS

_MDY = re.compile(r"^(?:published:?\s*|posted:?\s*|date:?\s*)?([A-Za-z]{3,9})\.? (\d{1,2}),? (\d{4})$",
                  re.I)
_DMY = re.compile(r"^(?:published:?\s*|posted:?\s*|date:?\s*)?(\d{1,2}) ([A-Za-z]{3,9})\.? (\d{4})$",
                  re.I)
_ISO = re.compile(r"^(?:published:?\s*|posted:?\s*|date:?\s*)?(\d{4})-(\d{2})-(\d{2})$", re.I)


def _date(year: int, month: int, day: int) -> PartialDate | None:
    try:
        return PartialDate(dt.date(year, month, day).isoformat(), "day")
    except ValueError:
        return None


def find_dateline(text: str, max_lines: int = 15) -> PartialDate | None:
    """A date standing alone on one of the first lines (a dateline), or None."""
    seen = 0
    for raw in text.splitlines():
        line = raw.strip().strip("*_").strip()
        if not line:
            continue
        seen += 1
        if seen > max_lines:
            return None
        if m := _ISO.match(line):
            return _date(int(m[1]), int(m[2]), int(m[3]))
        if m := _MDY.match(line):
            month = MONTHS.get(m[1][:3].lower())
            if month:
                return _date(int(m[3]), month, int(m[2]))
        if m := _DMY.match(line):
            month = MONTHS.get(m[2][:3].lower())
            if month:
                return _date(int(m[3]), month, int(m[1]))
    return None

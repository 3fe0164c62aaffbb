"""The one month-name table: English names as texts write them, and as the library shows them."""

from __future__ import annotations

MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")
# Shown in dates ("27 Apr 2017"), whatever the process's locale.
MONTH_ABBREVIATIONS = tuple(name[:3] for name in MONTH_NAMES)
# Lower-case full names, three-letter abbreviations and "sept" -> month number (1-12).
MONTHS: dict[str, int] = {
    **{name.lower(): i for i, name in enumerate(MONTH_NAMES, 1)},
    **{name.lower(): i for i, name in enumerate(MONTH_ABBREVIATIONS, 1)},
    "sept": 9,
}

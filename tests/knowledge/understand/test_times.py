"""Time phrases own the month vocabulary: an ordinal beside a month is a day of that month, the
guard the question reader uses before taking an ordinal for a meeting's number."""

from __future__ import annotations

import re

import pytest

from knowledge.understand.times import is_day_of_month

_ORDINAL = re.compile(r"\b\d{1,3}(?:st|nd|rd|th)\b")


def _day(question: str) -> bool:
    m = _ORDINAL.search(question)
    assert m is not None
    return is_day_of_month(question, m.start(), m.end())


@pytest.mark.parametrize("question", [
    "What was said on 17th December?",
    "What was said on the 25th of April 2019?",
    "What was said on December 17th?",
    "What was said on December the 17th?",
    "What was said on the 3rd Nov. 2021?",
    "What was said on the 17th of Sept. 2016?",
    "What was said on Sept 17th?",
    "What was said on the 1st of may?",
])
def test_an_ordinal_beside_a_month_is_a_day(question: str) -> None:
    """A full month name, its abbreviation (with or without a dot) or "Sept" before or after
    the ordinal, with "of" or "the" between, makes the ordinal a day."""
    assert _day(question)


@pytest.mark.parametrize("question", [
    "What came of the 17th meeting?",
    "What came of the 3rd summit in December?",
    "Was the 25th round of talks in Moscow?",
])
def test_an_ordinal_beside_no_month_is_no_day(question: str) -> None:
    """An ordinal with no month next to it is left for the reader to take as a number."""
    assert not _day(question)

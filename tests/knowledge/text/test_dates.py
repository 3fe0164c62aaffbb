"""Datelines in a text's header become the publication date of undated uploads."""

from __future__ import annotations

import pytest

from knowledge.models import PartialDate
from knowledge.text.dates import find_dateline


@pytest.mark.parametrize("text,expected", [
    ("Title\n\nJune 11, 2015\n\nBody text.", "2015-06-11"),
    ("# Title\n\n*September 14, 2018*\n\nBody.", "2018-09-14"),
    ("Title\n11 June 2015\nBody", "2015-06-11"),
    ("Title\nPublished: 2019-01-23\nBody", "2019-01-23"),
    # a page's "Posted on" line: the page extractor no longer guesses dates from the body
    ("Title\nPosted on March 12, 2019\nBody", "2019-03-12"),
    ("Title\nPublished on 12 March 2019\nBody", "2019-03-12"),
])
def test_header_datelines_are_read(text: str, expected: str) -> None:
    """Common dateline forms near the top are recognised at day precision."""
    assert find_dateline(text) == PartialDate(expected, "day")


@pytest.mark.parametrize("text,expected", [
    ("# T\n\n*By Ilse Marquand, Senior Fellow at X. March 20, 2021*\n\nBody.",
     PartialDate("2021-03-20", "day")),
    ("# T\n\n*Commentary by Professor Tomas Reddick, historian at Y. June 2022*\n\nBody.",
     PartialDate("2022-06", "month")),
    ("Title\n\nBy Kenji Watanabe, Feb. 10, 2020\n\nBody.", PartialDate("2020-02-10", "day")),
])
def test_a_bylines_date_dates_the_text(text: str, expected: PartialDate) -> None:
    """An undated upload whose byline ends with a date takes it (it was stored undated)."""
    assert find_dateline(text) == expected


@pytest.mark.parametrize("text", [
    "Title\n\nThe meeting on June 11, 2015 was short.",  # a date inside a sentence
    "Title\nFebruary 30, 2015\nBody",  # not a real day
    "\n".join(["line"] * 20) + "\nJune 11, 2015",  # too far down to be a dateline
])
def test_other_dates_are_not_datelines(text: str) -> None:
    """Dates in sentences, impossible dates and dates deep in the body are ignored."""
    assert find_dateline(text) is None

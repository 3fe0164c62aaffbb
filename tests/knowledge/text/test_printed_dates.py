"""One recogniser of a printed date (knowledge/text/dates.py) for a PDF byline's publication
date and for the byline role that is really a date: the same strings are dates for both."""

from __future__ import annotations

import pytest

from knowledge.models import PartialDate
from knowledge.people import extract_people
from knowledge.people._patterns import clean_role
from knowledge.sources import read_upload
from knowledge.text.dates import parse_printed_date
from tests.knowledge.sources.test_files import LIMIT, WRAPPED_REPORT, text_pdf

DATES = [
    ("2020-02-10", PartialDate("2020-02-10", "day")),
    ("2020-2-1", PartialDate("2020-02-01", "day")),
    ("10 February 2020", PartialDate("2020-02-10", "day")),
    ("10 Feb. 2020", PartialDate("2020-02-10", "day")),
    ("Feb. 10, 2020", PartialDate("2020-02-10", "day")),
    ("February 10 2020", PartialDate("2020-02-10", "day")),
    ("Sept. 14, 2018", PartialDate("2018-09-14", "day")),
    ("February 2020", PartialDate("2020-02", "month")),
    ("Sept 2020", PartialDate("2020-09", "month")),
    ("2020-02", PartialDate("2020-02", "month")),
    ("2020", PartialDate("2020", "year")),
    # Day or month first differs by country: only the year is sure.
    ("10/02/2020", PartialDate("2020", "year")),
    ("10.2.20", PartialDate("2020", "year")),
]
NOT_DATES = ["Senior Fellow", "Research Fellow, Example Institute", "Mayor 2020",
             "Decade 2020", "30 February 2020", "2020-13", "31/31/2020", "Class of 2020"]


@pytest.mark.parametrize(("printed", "date"), DATES)
def test_printed_dates_are_read(printed: str, date: PartialDate) -> None:
    """A date written out alone is read at the precision it is written to."""
    assert parse_printed_date(printed) == date


@pytest.mark.parametrize("printed", [*NOT_DATES, "February 30, 2020"])
def test_roles_and_impossible_dates_are_no_dates(printed: str) -> None:
    """A role, a word that only starts like a month, and an impossible date are no date."""
    assert parse_printed_date(printed) is None


@pytest.mark.parametrize("printed", [p for p, _ in DATES] + NOT_DATES)
def test_a_byline_date_and_a_role_that_is_a_date_agree(printed: str) -> None:
    """"By Kenji Watanabe, <x>": the PDF takes x as its publication date exactly when the
    people extractor takes x for no role (they used to disagree on "2020", "10/02/2020",
    "Sept 2020", "February 10 2020" ...)."""
    byline = f"By Kenji Watanabe, {printed}"
    lines = [byline if line.startswith("By ") else line for line in WRAPPED_REPORT]
    published = read_upload("report.pdf", text_pdf(lines), LIMIT).published
    date = parse_printed_date(printed)
    assert published == (date.iso if date else None)
    assert (clean_role(printed) is None) == (date is not None)
    text = f"Why the Islands Matter\n\n{byline}\n\nThe talks on the islands went on for years."
    authors = [(p.name, p.role) for p in extract_people(text, title="Why the Islands Matter")
               if p.relation == "author"]
    if date is not None:
        assert authors == [("Kenji Watanabe", None)]
    else:
        assert ("Kenji Watanabe", None) not in authors

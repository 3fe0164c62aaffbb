"""Whether an article was written before or after a meeting."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge.meetings import Meeting, split_before_after
from knowledge.models import PartialDate
from knowledge.text.split import split_passages
from tests.knowledge.meetings.founding_texts import FoundingText


@pytest.mark.parametrize(("slug", "meeting_id", "expected"), [
    ("000", "2017-04-moscow-abe-visit", "before"),    # March 2017, visit "expected in April"
    ("004", "2017-04-moscow-abe-visit", "after"),     # April 2017, discusses the outcomes
    ("002", "2019-01-moscow-abe-putin-summit", "after"),  # January 2019, after the 25th summit
    ("003", "2016-11-lima-apec", "after"),            # December 2016, after Lima
    ("003", "2016-12-japan-putin-visit", "before"),   # December 2016, before Putin's visit
    ("003", "2016-12-moscow-kishida-visit", "after"),  # Kishida's visit "resulted in" reports
    ("000", "2017-03-tokyo-2plus2", "after"),         # March 2017, the 2+2 "held in March"
    ("000", "2016-12-japan-putin-visit", "after"),
    ("002", "2019-06-osaka-g20", "before"),
])
def test_founding_truth(founding: dict[str, FoundingText], by_id: dict[str, Meeting],
                        registry: tuple[Meeting, ...], slug: str, meeting_id: str,
                        expected: str) -> None:
    """The founding texts fall before or after their meetings as the seeds README says."""
    text = founding[slug]
    assert split_before_after(by_id[meeting_id], text.published, text.paragraphs,
                              meetings=registry) == expected


@pytest.mark.parametrize(("slug", "meeting_id", "expected"), [
    ("004", "2017-04-moscow-abe-visit", "after"),
    ("002", "2019-01-moscow-abe-putin-summit", "after"),
    ("003", "2016-12-japan-putin-visit", "before"),
])
def test_same_month_cases_without_the_registry(founding: dict[str, FoundingText],
                                               by_id: dict[str, Meeting], slug: str,
                                               meeting_id: str, expected: str) -> None:
    """Same-month cases are decided from the text even when only the one meeting is given."""
    text = founding[slug]
    assert split_before_after(by_id[meeting_id], text.published, text.paragraphs) == expected


def test_same_month_cases_on_splitter_chunks(founding: dict[str, FoundingText],
                                             by_id: dict[str, Meeting],
                                             registry: tuple[Meeting, ...]) -> None:
    """The decision holds on the real passage splitter's chunks too."""
    for slug, meeting_id, expected in (("004", "2017-04-moscow-abe-visit", "after"),
                                       ("002", "2019-01-moscow-abe-putin-summit", "after"),
                                       ("003", "2016-12-japan-putin-visit", "before")):
        text = founding[slug]
        chunks = [span.text for span in split_passages(text.text)]
        assert split_before_after(by_id[meeting_id], text.published, chunks,
                                  meetings=registry) == expected


def test_dates_decide_when_periods_do_not_overlap(by_id: dict[str, Meeting]) -> None:
    """A day-dated article before or after the meeting needs no text at all."""
    visit = by_id["2017-04-moscow-abe-visit"]
    assert split_before_after(visit, (dt.date(2017, 4, 10),) * 2, []) == "before"
    assert split_before_after(visit, PartialDate.parse("2017-04-28"), []) == "after"


def test_unknown_date_or_no_cues_gives_none(by_id: dict[str, Meeting]) -> None:
    """No article date, or a same-month article with no cues either way, gives None."""
    visit = by_id["2017-04-moscow-abe-visit"]
    assert split_before_after(visit, None, ["The summit is expected next week."]) is None
    assert split_before_after(visit, PartialDate.parse("2017-04"),
                              ["Japan and Russia are neighbours."]) is None


@pytest.mark.parametrize(("passage", "expected"), [
    ("Abe's upcoming visit to Moscow is expected to focus on the islands.", "before"),
    ("On the eve of Abe's visit to Moscow, expectations are modest.", "before"),
    ("The outcomes of Abe's visit to Moscow were modest.", "after"),
    ("After the summit in Moscow, both sides showed moderation.", "after"),
])
def test_expectation_against_assessment_language(by_id: dict[str, Meeting], passage: str,
                                                 expected: str) -> None:
    """In the meeting's month, expectation language means before and assessment language after."""
    visit = by_id["2017-04-moscow-abe-visit"]
    assert split_before_after(visit, PartialDate.parse("2017-04"), [passage]) == expected

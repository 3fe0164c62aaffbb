"""Time phrases own the month vocabulary: an ordinal beside a month is a day of that month, the
guard the question reader uses before taking an ordinal for a meeting's number."""

from __future__ import annotations

import re

import pytest

from knowledge.understand.times import explicit_periods, is_day_of_month

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


def test_lowercase_may_before_an_ordinal_is_the_verb() -> None:
    """"What may the 3rd summit bring?" asks about a meeting; "May the 3rd" is a day."""
    assert not _day("What may the 3rd summit bring?")
    assert _day("What was said on May the 3rd?")


@pytest.mark.parametrize(("question", "spans"), [
    ("What changed between 2015 and 2019?", [("2015-01-01", "2019-12-31", "2015 – 2019")]),
    ("What changed from 2015 to 2019?", [("2015-01-01", "2019-12-31", "2015 – 2019")]),
    ("Views over 2015-2019?", [("2015-01-01", "2019-12-31", "2015 – 2019")]),
    ("Views over 2016–17?", [("2016-01-01", "2017-12-31", "2016 – 2017")]),
    ("From spring 2016 to March 2017, what was hoped?",
     [("2016-03-01", "2017-03-31", "spring 2016 – March 2017")]),
    ("November 2016 - March 2017: any progress?",
     [("2016-11-01", "2017-03-31", "November 2016 – March 2017")]),
    ("What was said in 2015 and 2019?",
     [("2015-01-01", "2015-12-31", "2015"), ("2019-01-01", "2019-12-31", "2019")]),
    ("How did 2016 compare to 2018?",
     [("2016-01-01", "2016-12-31", "2016"), ("2018-01-01", "2018-12-31", "2018")]),
    ("From 2019 to 2016, backwards?",
     [("2019-01-01", "2019-12-31", "2019"), ("2016-01-01", "2016-12-31", "2016")]),
    ("What changed 2019-2015?",
     [("2019-01-01", "2019-12-31", "2019"), ("2015-01-01", "2015-12-31", "2015")]),
    ("Views over 2017-16?",
     [("2017-01-01", "2017-12-31", "2017"), ("2016-01-01", "2016-12-31", "2016")]),
])
def test_two_periods_make_a_span_only_when_the_text_joins_them(
        question: str, spans: list[tuple[str, str, str]]) -> None:
    """"between X and Y", "from X to Y", "X-Y" are one span; "in X and Y" stays two periods."""
    assert [(p.start.isoformat(), p.end.isoformat(), p.label)
            for p in explicit_periods(question)] == spans


@pytest.mark.parametrize(("question", "spans"), [
    ("What happened after 2016?", [("2017-01-01", "2999-12-31", "after 2016")]),
    ("Since spring 2017, how have ties developed?",
     [("2017-03-01", "2999-12-31", "since spring 2017")]),
    ("What was said before 2016?", [("1000-01-01", "2015-12-31", "before 2016")]),
    ("How did Tokyo react right after the November 2016 talks?",
     [("2016-11-01", "2016-11-30", "November 2016")]),
    ("Expectations in 12/2016?", [("2016-12-01", "2016-12-31", "December 2016")]),
    ("What was said on Jan 22, 2019?", [("2019-01-01", "2019-01-31", "January 2019")]),
    ("What was said on 2019-01-22?", [("2019-01-01", "2019-01-31", "January 2019")]),
    ("What was said on 22.01.2019?", [("2019-01-01", "2019-01-31", "January 2019")]),
    ("What was said on December 15th 2016?", [("2016-12-01", "2016-12-31", "December 2016")]),
    ("Any 2+2 in the 1990's?", [("1990-01-01", "1999-12-31", "the 1990s")]),
    ("The warm-up of the early 2010s?", [("2010-01-01", "2013-12-31", "the early 2010s")]),
    ("Between spring and autumn 2016?", [("2016-03-01", "2016-11-30", "spring – autumn 2016")]),
    ("From December to March 2017?", [("2016-12-01", "2017-03-31", "December – March 2017")]),
    ("What does the 1956 Declaration say?", []),
    ("What does the 1993 Tokyo Declaration say?", []),
    ("What was the 1950s declaration about?", []),
])
def test_open_periods_figures_decades_and_documents(question: str,
                                                    spans: list[tuple[str, str, str]]) -> None:
    """"after/since/before <period>" is open on one side (not when the period names a
    meeting); dates in figures keep their month; decades are periods; a year or decade that
    starts a document's name is none."""
    assert [(p.start.isoformat(), p.end.isoformat(), p.label)
            for p in explicit_periods(question)] == spans


@pytest.mark.parametrize(("question", "spans"), [
    ("Were 2000 or more islanders moved?", []),
    ("Did more than 2000 people sign in 2016?", [("2016-01-01", "2016-12-31", "2016")]),
    ("Were 1950 islanders still there in 2019?", [("2019-01-01", "2019-12-31", "2019")]),
    ("A 2000% rise?", []),
    ("Nearly 2000 troops on the islands?", []),
    ("What did experts say in 2000?", [("2000-01-01", "2000-12-31", "2000")]),
    ("What did the 2016 talks bring?", [("2016-01-01", "2016-12-31", "2016")]),
])
def test_a_number_that_counts_something_is_no_year(question: str,
                                                   spans: list[tuple[str, str, str]]) -> None:
    """A figure with "or more", a unit or "more than" in front counts something; a year
    beside a meeting's noun is still a year."""
    assert [(p.start.isoformat(), p.end.isoformat(), p.label)
            for p in explicit_periods(question)] == spans


@pytest.mark.parametrize(("question", "spans"), [
    ("What was said prior to 2016?", [("1000-01-01", "2015-12-31", "before 2016")]),
    ("Anything earlier than 2016?", [("1000-01-01", "2015-12-31", "before 2016")]),
    ("Commentary no later than 2017?", [("1000-01-01", "2017-12-31", "until 2017")]),
    ("Views up to 2017?", [("1000-01-01", "2017-12-31", "until 2017")]),
    ("What was expected until 2016?", [("1000-01-01", "2016-12-31", "until 2016")]),
    ("Views from 2016 onwards?", [("2016-01-01", "2999-12-31", "since 2016")]),
    ("Views from 2016 on?", [("2016-01-01", "2999-12-31", "since 2016")]),
    ("What about 2017 and after?", [("2017-01-01", "2999-12-31", "since 2017")]),
    ("Any post-2016 commentary?", [("2017-01-01", "2999-12-31", "after 2016")]),
    ("What did pre-2015 analysis say?", [("1000-01-01", "2014-12-31", "before 2015")]),
    ("Views later than 2016?", [("2017-01-01", "2999-12-31", "after 2016")]),
    ("What changed through 2014 and 2015?",
     [("2014-01-01", "2014-12-31", "2014"), ("2015-01-01", "2015-12-31", "2015")]),
    ("From 2015 to 2019, what changed?", [("2015-01-01", "2019-12-31", "2015 – 2019")]),
])
def test_periods_open_on_one_side_in_other_words(question: str,
                                                 spans: list[tuple[str, str, str]]) -> None:
    """"prior to", "earlier than", "pre-" end before the period; "until", "up to", "no later
    than" end with it; "onwards", "from ... on", "and after" start with it; "later than",
    "post-" start after it; "through" and "from ... to ..." stay spans."""
    assert [(p.start.isoformat(), p.end.isoformat(), p.label)
            for p in explicit_periods(question)] == spans


@pytest.mark.parametrize(("question", "spans"), [
    ("Commentary from December 2016 on Putin's visit",
     [("2016-12-01", "2016-12-31", "December 2016")]),
    ("Commentary from spring 2017", [("2017-03-01", "2017-05-31", "spring 2017")]),
    ("Commentary from 2016?", [("2016-01-01", "2016-12-31", "2016")]),
    ("Commentary from 2015 and 2019",
     [("2015-01-01", "2015-12-31", "2015"), ("2019-01-01", "2019-12-31", "2019")]),
    ("Views from 2015 until 2019?", [("2015-01-01", "2019-12-31", "2015 – 2019")]),
    ("What was said between 2019 and 2015?", [("2015-01-01", "2019-12-31", "2015 – 2019")]),
])
def test_from_alone_is_the_period_and_between_is_one_span(
        question: str, spans: list[tuple[str, str, str]]) -> None:
    """"from December 2016" alone is when the commentary was written, not "since" (outside
    tester, MED-4); "from X and Y" is two periods like "in X and Y"; "between 2019 and 2015"
    is the span "between 2015 and 2019" is (it was two years)."""
    assert [(p.start.isoformat(), p.end.isoformat(), p.label)
            for p in explicit_periods(question)] == spans


@pytest.mark.parametrize(("question", "spans"), [
    ("In the first half of 2016?", [("2016-01-01", "2016-06-30", "first half of 2016")]),
    ("In the 2nd half of 2016?", [("2016-07-01", "2016-12-31", "second half of 2016")]),
    ("What was said in Q1 2019?", [("2019-01-01", "2019-03-31", "first quarter of 2019")]),
    ("In the third quarter of 2016, Vladivostok?",
     [("2016-07-01", "2016-09-30", "third quarter of 2016")]),
    ("During the winter of 2018-19?", [("2018-12-01", "2019-02-28", "winter 2018–19")]),
    ("The 2015/16 period?", [("2015-01-01", "2016-12-31", "2015 – 2016")]),
    ("What happened May-November 2016?", [("2016-05-01", "2016-11-30", "May – November 2016")]),
])
def test_halves_quarters_and_dashed_spans(question: str,
                                          spans: list[tuple[str, str, str]]) -> None:
    """Halves and quarters of a year, a winter across two years, "2015/16", and two months
    joined by a dash are the periods they say (not the whole year, not a year dropped)."""
    assert [(p.start.isoformat(), p.end.isoformat(), p.label)
            for p in explicit_periods(question)] == spans


def test_the_winter_of_a_year_is_its_first_months_and_the_winter_it_begins() -> None:
    """"the winter of 2016" is two windows, January - February 2016 and December 2016 -
    February 2017, as "winter 2016/17" is the second (outside questioner E: one window of
    fourteen months, spring to autumn included)."""
    assert [(p.start.isoformat(), p.end.isoformat(), p.label)
            for p in explicit_periods("analysis published in the winter of 2016")] == [
        ("2016-01-01", "2016-02-29", "January – February 2016"),
        ("2016-12-01", "2017-02-28", "winter 2016–17")]

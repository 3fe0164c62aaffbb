"""Linking passages to the registry meetings they discuss."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge.meetings import Meeting, MeetingLink, link_passage
from knowledge.models import PartialDate
from knowledge.text.split import split_passages
from tests.knowledge.meetings.founding_texts import FoundingText


def _ids(links: list[MeetingLink]) -> list[str]:
    return [link.meeting_id for link in links]


def _paragraph(text: FoundingText, needle: str) -> str:
    return next(p for p in text.paragraphs if needle in p)


def _linked(text: FoundingText, registry: tuple[Meeting, ...]) -> dict[str, list[MeetingLink]]:
    """Every meeting linked from any paragraph of a text, with its links."""
    out: dict[str, list[MeetingLink]] = {}
    for paragraph in text.paragraphs:
        for link in link_passage(paragraph, text.published, registry):
            out.setdefault(link.meeting_id, []).append(link)
    return out


def test_lima_links_to_the_east_asia_forum_passage(founding: dict[str, FoundingText],
                                                   registry: tuple[Meeting, ...]) -> None:
    """003's "Sochi in May, Vladivostok in September and Lima in November" paragraph links all four meetings."""
    paragraph = _paragraph(founding["003"], "Lima in November")
    links = link_passage(paragraph, founding["003"].published, registry)
    assert _ids(links) == ["2016-05-sochi-abe-putin", "2016-09-vladivostok-eef",
                           "2016-11-lima-apec", "2016-12-japan-putin-visit"]
    by_id = {link.meeting_id: link for link in links}
    assert by_id["2016-11-lima-apec"].evidence == "Lima in November"
    assert by_id["2016-12-japan-putin-visit"].evidence == "Putin’s visit to Japan in December"
    assert all(link.confidence >= 0.9 for link in links)


def test_meeting_in_lima_without_a_date(founding: dict[str, FoundingText],
                                        registry: tuple[Meeting, ...]) -> None:
    """"after Abe and Putin's meeting in Lima" links Lima; "in May after the meeting in Sochi" links Sochi 2016."""
    paragraph = _paragraph(founding["003"], "optimistic mood changed")
    links = {link.meeting_id: link for link in
             link_passage(paragraph, founding["003"].published, registry)}
    assert set(links) == {"2016-11-lima-apec", "2016-05-sochi-abe-putin"}
    assert links["2016-11-lima-apec"].evidence == "Abe and Putin’s meeting in Lima"


def test_kishida_visit_and_olympics(founding: dict[str, FoundingText],
                                    registry: tuple[Meeting, ...]) -> None:
    """"Kishida's visit to Moscow in December" and "the 2014 Sochi Winter Olympics" link their meetings."""
    text = founding["003"]
    assert _ids(link_passage(_paragraph(text, "Kishida"), text.published, registry)) == [
        "2016-12-moscow-kishida-visit"]
    assert _ids(link_passage(_paragraph(text, "Winter Olympics"), text.published, registry)) == [
        "2014-02-sochi-olympics-opening"]


def test_photo_caption_with_full_date(founding: dict[str, FoundingText],
                                      registry: tuple[Meeting, ...]) -> None:
    """The caption "at their meeting in Sochi, 6 May 2016" links the Sochi meeting with high confidence."""
    links = link_passage(_paragraph(founding["003"], "Photo: Reuters"), founding["003"].published,
                         registry)
    assert _ids(links) == ["2016-05-sochi-abe-putin"]
    assert links[0].confidence >= 0.95


def test_twenty_fifth_summit_links_to_the_2019_commentary(founding: dict[str, FoundingText],
                                                          registry: tuple[Meeting, ...]) -> None:
    """002's opening paragraph links the 25th summit, with the ordinal as its evidence."""
    links = link_passage(_paragraph(founding["002"], "25th"), founding["002"].published, registry)
    assert _ids(links) == ["2019-01-moscow-abe-putin-summit"]
    assert links[0].evidence == "the 25th Putin-Abe summit"
    assert links[0].confidence >= 0.95


def test_january_summit_and_june_g20(founding: dict[str, FoundingText],
                                     registry: tuple[Meeting, ...]) -> None:
    """"on the eve of the January summit" and "the June G20 summit in Osaka" link their meetings; the possible spring visit links nothing."""
    links = link_passage(_paragraph(founding["002"], "G20 summit in Osaka"),
                         founding["002"].published, registry)
    assert _ids(links) == ["2019-01-moscow-abe-putin-summit", "2019-06-osaka-g20"]
    assert links[1].evidence == "the June G20 summit in Osaka"


def test_seventeenth_meeting_links_to_004(founding: dict[str, FoundingText],
                                          registry: tuple[Meeting, ...]) -> None:
    """"It is the 17th meeting of the two leaders" links Abe's April 2017 Moscow visit."""
    links = link_passage(_paragraph(founding["004"], "17th"), founding["004"].published, registry)
    assert _ids(links) == ["2017-04-moscow-abe-visit"]
    assert links[0].evidence == "the 17th meeting"


def test_abe_visit_to_moscow_links_to_004(founding: dict[str, FoundingText],
                                          registry: tuple[Meeting, ...]) -> None:
    """"Shinzo Abe's visit to Moscow" in an April 2017 piece is the April 2017 visit, not January 2019."""
    links = link_passage(_paragraph(founding["004"], "presents the comments"),
                         founding["004"].published, registry)
    assert _ids(links) == ["2017-04-moscow-abe-visit"]


@pytest.mark.parametrize("slug", ["000", "004"])
def test_two_plus_two_links_to_000_and_004(founding: dict[str, FoundingText],
                                           registry: tuple[Meeting, ...], slug: str) -> None:
    """Both the 000 interview and the 004 comments discuss the March 2017 2+2."""
    assert "2017-03-tokyo-2plus2" in _linked(founding[slug], registry)


def test_two_plus_two_held_in_march_in_tokyo(founding: dict[str, FoundingText],
                                             registry: tuple[Meeting, ...]) -> None:
    """"the two-plus-two meeting held in March in Tokyo" is the evidence kept for 000's last paragraph."""
    links = link_passage(_paragraph(founding["000"], "held in March in Tokyo"),
                         founding["000"].published, registry)
    assert links == [MeetingLink("2017-03-tokyo-2plus2",
                                 "the two-plus-two meeting held in March in Tokyo", 0.9)]


def test_footnote_marker_inside_a_phrase(founding: dict[str, FoundingText],
                                         registry: tuple[Meeting, ...]) -> None:
    """"the two-plus-two[2] meeting" still links, and the evidence keeps the text as written."""
    links = link_passage(_paragraph(founding["004"], "THAAD"), founding["004"].published, registry)
    assert links == [MeetingLink("2017-03-tokyo-2plus2", "the two-plus-two[2] meeting", 0.75)]


def test_expected_april_visit_and_recent_meeting_in_000(founding: dict[str, FoundingText],
                                                        registry: tuple[Meeting, ...]) -> None:
    """000 links the visit "expected in April" and "the recent Putin-Abe meeting in Mainland Japan"."""
    text = founding["000"]
    first = link_passage(text.paragraphs[1], text.published, registry)
    assert _ids(first) == ["2017-04-moscow-abe-visit"]
    recent = link_passage(_paragraph(text, "Mainland Japan"), text.published, registry)
    assert _ids(recent) == ["2016-12-japan-putin-visit"]
    assert recent[0].evidence == "the recent Putin-Abe meeting in Mainland Japan"


def test_naryshkin_visited_japan_last_month(founding: dict[str, FoundingText],
                                            registry: tuple[Meeting, ...]) -> None:
    """"visited Japan last month" in a piece of 11 June 2015 is Naryshkin's May 2015 visit."""
    links = link_passage(_paragraph(founding["001"], "Naryshkin"), founding["001"].published,
                         registry)
    assert _ids(links) == ["2015-05-tokyo-naryshkin-visit"]
    assert links[0].evidence.startswith("Sergey Naryshkin")
    assert links[0].evidence.endswith("visited Japan last month")


def test_whole_founding_corpus_links_exactly(founding: dict[str, FoundingText],
                                             registry: tuple[Meeting, ...]) -> None:
    """Across the founding corpus each text links exactly the meetings it discusses."""
    expected = {
        "000": {"2016-12-japan-putin-visit", "2017-03-tokyo-2plus2", "2017-04-moscow-abe-visit"},
        "001": {"2015-05-tokyo-naryshkin-visit"},
        "002": {"2019-01-moscow-abe-putin-summit", "2019-06-osaka-g20"},
        "003": {"2014-02-sochi-olympics-opening", "2016-05-sochi-abe-putin",
                "2016-09-vladivostok-eef", "2016-11-lima-apec", "2016-12-moscow-kishida-visit",
                "2016-12-japan-putin-visit"},
        "004": {"2016-12-japan-putin-visit", "2017-03-tokyo-2plus2", "2017-04-moscow-abe-visit"},
    }
    assert {slug: set(_linked(text, registry)) for slug, text in founding.items()} == expected


def test_linking_works_on_the_passage_splitter_chunks(founding: dict[str, FoundingText],
                                                      registry: tuple[Meeting, ...]) -> None:
    """Chunks of about 500-1000 characters from the real splitter link the same meetings as paragraphs."""
    for text in founding.values():
        chunks = [span.text for span in split_passages(text.text)]
        linked = {link.meeting_id for chunk in chunks
                  for link in link_passage(chunk, text.published, registry)}
        assert linked == set(_linked(text, registry))


@pytest.mark.parametrize("passage", [
    # Bare place names with no meeting in the sentence.
    "These positive words were carried to Vladivostok.",
    "But in Lima, Abe simply stated that 'we can reach agreement only step-by-step'.",
    # A generic plural: many visits, not one.
    "Shinzo Abe has been criticized for frequent visits to Russia that yield little progress.",
    # A kind of meeting between other countries.
    "Japan and the US successfully strengthened the alliance in 1990's by launching a 2+2 "
    "ministerial meeting.",
    # Speculation about an unspecified visit.
    "Whether Putin could visit Japan next year remains an open question.",
    # Several meetings fit and nothing picks one.
    "Abe's visit to Russia was discussed at length.",
])
def test_ambiguous_or_generic_mentions_are_not_linked(registry: tuple[Meeting, ...],
                                                      passage: str) -> None:
    """Precision over recall: bare places, plurals, foreign formats, hedges and ties link nothing."""
    assert link_passage(passage, (dt.date(2017, 3, 1), dt.date(2017, 3, 31)), registry) == []


def test_undated_mentions_reach_only_about_a_year(registry: tuple[Meeting, ...]) -> None:
    """"the meeting in Lima" in a 2024 piece is not the 2016 Lima meeting; "Vladivostok in September" in 2018 is not 2016."""
    assert link_passage("Abe and Putin's meeting in Lima changed the mood.",
                        (dt.date(2024, 11, 1), dt.date(2024, 11, 30)), registry) == []
    assert link_passage("Abe and Putin met in Vladivostok in September.",
                        (dt.date(2018, 9, 14), dt.date(2018, 9, 14)), registry) == []


def test_a_bare_month_means_the_nearest_one(registry: tuple[Meeting, ...]) -> None:
    """"the January summit" in a January 2020 piece is not the January 2019 summit."""
    passage = "On the eve of the January summit the media published reports."
    assert [link.meeting_id for link in link_passage(
        passage, (dt.date(2019, 1, 1), dt.date(2019, 1, 31)), registry)] == [
        "2019-01-moscow-abe-putin-summit"]
    assert link_passage(passage, (dt.date(2020, 1, 1), dt.date(2020, 1, 31)), registry) == []


def test_explicit_year_reaches_any_time(registry: tuple[Meeting, ...]) -> None:
    """A dated mention ("in Lima in November 2016") links whatever the article's date."""
    links = link_passage("Abe and Putin met in Lima in November 2016.",
                         (dt.date(2024, 1, 1), dt.date(2024, 1, 31)), registry)
    assert _ids(links) == ["2016-11-lima-apec"]


def test_article_date_may_be_a_partial_date(registry: tuple[Meeting, ...]) -> None:
    """A PartialDate works as the article's date, like a (start, end) tuple."""
    passage = "The leaders met in Sochi in May."
    assert _ids(link_passage(passage, PartialDate.parse("2016-12"), registry)) == [
        "2016-05-sochi-abe-putin"]


def test_without_an_article_date_confidence_drops(registry: tuple[Meeting, ...]) -> None:
    """With no article date an undated mention still links when unique, at lower confidence."""
    dated = link_passage("The leaders met in Lima in November.",
                         (dt.date(2016, 12, 1), dt.date(2016, 12, 31)), registry)
    undated = link_passage("The leaders met in Lima in November.", None, registry)
    assert _ids(undated) == _ids(dated) == ["2016-11-lima-apec"]
    assert undated[0].confidence < dated[0].confidence


def test_same_period_breaks_a_tie(founding: dict[str, FoundingText],
                                  registry: tuple[Meeting, ...]) -> None:
    """"the Abe-Putin summit in Russia" in April 2017 is the April 2017 summit, at low confidence."""
    links = link_passage(_paragraph(founding["004"], "summit in Russia"),
                         founding["004"].published, registry)
    assert links == [MeetingLink("2017-04-moscow-abe-visit", "the Abe-Putin summit in Russia",
                                 0.55)]

"""Proposing meetings the registry lacks, from a new article (fixture) and the founding corpus."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from knowledge.meetings import Meeting, MeetingProposal, detect_unknown_meetings, link_passage
from tests.knowledge.meetings.founding_texts import FoundingText

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "articles" \
    / "new_expert_vladivostok_2018.md"
# The fixture is a made-up commentary (its expert is fictional) dated 14 September 2018, about
# the Abe-Putin meeting in Vladivostok on 10 September 2018, which the registry lacks.
PUBLISHED = (dt.date(2018, 9, 14), dt.date(2018, 9, 14))


@pytest.fixture(scope="module")
def paragraphs() -> list[str]:
    """The fixture article split at blank lines."""
    return [p.strip() for p in FIXTURE.read_text(encoding="utf-8").split("\n\n") if p.strip()]


def _all_proposals(paragraphs: list[str], registry: tuple[Meeting, ...]) -> list[MeetingProposal]:
    return [p for para in paragraphs for p in detect_unknown_meetings(para, PUBLISHED, registry)]


def test_new_vladivostok_meeting_becomes_a_proposal(paragraphs: list[str],
                                                    registry: tuple[Meeting, ...]) -> None:
    """The 10 September 2018 Vladivostok meeting is proposed with its date, place and leaders."""
    proposals = _all_proposals(paragraphs, registry)
    vladivostok = [p for p in proposals if p.place == "Vladivostok"]
    assert len(vladivostok) == 1
    proposal = vladivostok[0]
    assert proposal.date_guess == "2018-09-10"
    assert set(proposal.participants) == {"Shinzo Abe", "Vladimir Putin"}
    assert "met in Vladivostok on 10 September 2018" in proposal.evidence
    assert proposal.kind == "summit"


def test_the_2016_vladivostok_meeting_in_the_same_paragraph_links(
        paragraphs: list[str], registry: tuple[Meeting, ...]) -> None:
    """The same paragraph's "meeting in Vladivostok in September 2016" links the registry entry instead."""
    links = link_passage(paragraphs[2], PUBLISHED, registry)
    assert [link.meeting_id for link in links] == ["2016-09-vladivostok-eef"]
    assert links[0].evidence == "the meeting in Vladivostok in September 2016"


def test_every_unknown_meeting_of_the_fixture(paragraphs: list[str],
                                              registry: tuple[Meeting, ...]) -> None:
    """The fixture yields exactly three proposals: Vladivostok 2018, Abe's May visit to Moscow, the July 2+2."""
    proposals = {(p.name, p.date_guess, p.place, p.kind) for p in
                 _all_proposals(paragraphs, registry)}
    assert proposals == {
        ("Abe-Putin meeting in Vladivostok", "2018-09-10", "Vladivostok", "summit"),
        ("Abe visits Moscow", "2018-05", "Moscow", "visit"),
        ("Russia-Japan 2+2 in Moscow", "2018-07-31", "Moscow", "2+2"),
    }


def test_hedged_visit_is_not_proposed(paragraphs: list[str],
                                      registry: tuple[Meeting, ...]) -> None:
    """"Whether Putin could visit Japan next year" is speculation: no proposal, no link."""
    hedged = next(p for p in paragraphs if p.startswith("Whether"))
    assert detect_unknown_meetings(hedged, PUBLISHED, registry) == []
    assert link_passage(hedged, PUBLISHED, registry) == []


def test_founding_corpus_has_no_unknown_meetings(founding: dict[str, FoundingText],
                                                 registry: tuple[Meeting, ...]) -> None:
    """Every meeting the founding texts discuss is in the registry; speculation is not proposed."""
    for text in founding.values():
        for paragraph in text.paragraphs:
            assert detect_unknown_meetings(paragraph, text.published, registry) == []


@pytest.mark.parametrize("passage", [
    "In 2002, Junichiro Koizumi, the then Prime Minister of Japan, paid a visit to Pyongyang.",
    "Japan and the US strengthened the alliance in 1990's by launching a 2+2 ministerial meeting.",
    "So I think we are going to see President Vladimir Putin visiting Japan later this year.",
    "The media published reports about Abe's possible visit to Russia in spring.",
    "Abe has met Putin many times, and their meetings were frequent.",
])
def test_non_russia_japan_or_speculative_mentions_are_not_proposed(
        registry: tuple[Meeting, ...], passage: str) -> None:
    """Meetings with third countries, hedged visits and generic plurals are not proposals."""
    assert detect_unknown_meetings(passage, (dt.date(2019, 1, 1), dt.date(2019, 1, 31)),
                                   registry) == []


def test_unknown_ordinal_is_proposed(registry: tuple[Meeting, ...]) -> None:
    """"the 22nd Putin-Abe summit" with no registry entry for that ordinal becomes a proposal."""
    proposals = detect_unknown_meetings("After the 22nd Putin-Abe summit, little changed.",
                                        (dt.date(2018, 9, 1), dt.date(2018, 9, 30)), registry)
    assert [(p.ordinal, p.name) for p in proposals] == [(22, "22nd Putin-Abe summit")]


def test_month_only_date_guess_uses_the_article_year(registry: tuple[Meeting, ...]) -> None:
    """"Putin's visit to Japan in May" in a September 2018 article is guessed as May 2018."""
    proposals = detect_unknown_meetings("Putin's visit to Japan in May went well.",
                                        (dt.date(2018, 9, 1), dt.date(2018, 9, 30)), registry)
    assert [(p.date_guess, p.place, p.kind) for p in proposals] == [("2018-05", "Japan", "visit")]


def test_a_summit_opening_the_sentence_takes_the_leaders_of_its_subject(
        registry: tuple[Meeting, ...]) -> None:
    """"At their summit in Singapore on 14 November 2018, Abe and Putin agreed ..." proposes
    that summit with its place, day and leaders; the year in "the 1956 Declaration" names a
    document, not a meeting."""
    text = ("At their summit in Singapore on 14 November 2018, Abe and Putin agreed to "
            "accelerate the peace treaty talks on the basis of the 1956 Declaration.")
    [proposal] = detect_unknown_meetings(text, (dt.date(2019, 1, 20), dt.date(2019, 1, 20)),
                                         registry)
    assert (proposal.place, proposal.date_guess) == ("Singapore", "2018-11-14")
    assert set(proposal.participants) == {"Shinzo Abe", "Vladimir Putin"}
    opening = ("At the Singapore summit in November 2018, Abe and Putin agreed to speed up "
               "the talks.")
    [proposal] = detect_unknown_meetings(opening, (dt.date(2019, 1, 20), dt.date(2019, 1, 20)),
                                         registry)
    assert (proposal.place, proposal.date_guess) == ("Singapore", "2018-11")

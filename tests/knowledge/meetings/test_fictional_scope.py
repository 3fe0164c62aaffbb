"""The linker follows the topic's data, not the code: a made-up topic (Syldavia and Borduria,
tests/fixtures/scope/) links and proposes its own meetings, and the shipped Russia–Japan data
knows nothing of them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from knowledge.meetings import (
    Meeting,
    detect_unknown_meetings,
    find_meeting,
    link_passage,
    load_registry,
)
from knowledge.meetings.vocabulary import Vocabulary, load_vocabulary
from knowledge.scope import Scope, load_scope

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "scope"


def _day(iso: str) -> tuple[dt.date, dt.date]:
    day = dt.date.fromisoformat(iso)
    return day, day


@pytest.fixture(scope="module")
def scope() -> Scope:
    """The fictional topic's scope."""
    return load_scope(FIXTURE / "scope.json")


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    """The fictional topic's scope, places and officials, compiled."""
    return load_vocabulary(FIXTURE / "scope.json", FIXTURE / "places.json",
                           FIXTURE / "subjects.json")


@pytest.fixture(scope="module")
def fictional_registry(scope: Scope) -> tuple[Meeting, ...]:
    """The fictional topic's three meetings."""
    return load_registry(FIXTURE / "registry.json", scope)


@pytest.mark.parametrize(("text", "published", "meeting_id"), [
    ("On the sidelines of the Danube Expo, Varga and Kurvi met again.", "2021-11-20",
     "2021-11-vienna-expo"),
    ("Syldavia and Borduria held the 3+3 in Szohod in September 2021.", "2021-10-05",
     "2021-09-szohod-3plus3"),
])
def test_links_follow_the_scopes_events_and_formats(
        text: str, published: str, meeting_id: str, vocabulary: Vocabulary,
        fictional_registry: tuple[Meeting, ...]) -> None:
    """An event and a format named only in the fixture's scope.json link their meetings; the
    shipped vocabulary links neither."""
    links = link_passage(text, _day(published), fictional_registry, vocabulary=vocabulary)
    assert [link.meeting_id for link in links] == [meeting_id]
    assert link_passage(text, _day(published), fictional_registry) == []


def test_an_outside_party_of_the_scope_blocks_the_link(
        vocabulary: Vocabulary, fictional_registry: tuple[Meeting, ...]) -> None:
    """With the scope's outside party (Zembla) beside it, the same 3+3 mention links nothing."""
    text = "Zembla and Borduria held the 3+3 in Szohod in September 2021."
    assert link_passage(text, _day("2021-10-05"), fictional_registry,
                        vocabulary=vocabulary) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("Kurvi visited Klow on 4 May 2022.",
     ("Kurvi visits Klow", "2022-05-04", "Klow", "visit")),
    ("Ministers met at the Syldavian-Bordurian 3+3 held in Szohod on 1 June 2022.",
     ("Syldavia-Borduria 3+3 in Szohod", "2022-06-01", "Szohod", "3+3")),
    ("The Varga-Kurvi summit held in Geneva on 3 May 2022 changed little.",
     ("Varga-Kurvi summit in Geneva", "2022-05-03", "Geneva", "summit")),
    ("Their 4th summit in Geneva in May 2022 was a Syldavian-Bordurian affair.",
     ("4th Syldavia-Borduria summit in Geneva", "2022-05", "Geneva", "summit")),
])
def test_proposals_are_named_from_the_scope(
        text: str, expected: tuple[str, str, str, str], vocabulary: Vocabulary,
        fictional_registry: tuple[Meeting, ...]) -> None:
    """Unknown meetings of the fictional parties are proposed with the scope's party names and
    format kinds; the shipped vocabulary proposes nothing for them."""
    proposals = detect_unknown_meetings(text, _day("2022-06-10"), fictional_registry,
                                        vocabulary=vocabulary)
    assert [(p.name, p.date_guess, p.place, p.kind) for p in proposals] == [expected]
    assert detect_unknown_meetings(text, _day("2022-06-10"), fictional_registry) == []


@pytest.mark.parametrize(("text", "name"), [
    ("Abe visited Moscow on 4 May 2022.", "Abe visits Moscow"),
    ("The Russian-Japanese 2+2 held in Tokyo on 1 June 2022 changed little.",
     "Russia-Japan 2+2 in Tokyo"),
])
def test_the_shipped_topic_is_data_too(text: str, name: str, vocabulary: Vocabulary,
                                       fictional_registry: tuple[Meeting, ...]) -> None:
    """The Russia–Japan counterparts are proposed by the shipped vocabulary only."""
    shipped = detect_unknown_meetings(text, _day("2022-06-10"), fictional_registry)
    assert [p.name for p in shipped] == [name]
    assert detect_unknown_meetings(text, _day("2022-06-10"), fictional_registry,
                                   vocabulary=vocabulary) == []


def test_leader_pairs_come_from_the_officials(vocabulary: Vocabulary) -> None:
    """"Varga-Kurvi" is bilateral because subjects.json puts them on opposite sides; an outside
    official (Ostrov) pairs with no one."""
    assert vocabulary.bilateral.search("the Kurvi-Varga talks")
    assert vocabulary.bilateral.search("the Varga-Lenk channel")
    assert not vocabulary.bilateral.search("the Varga-Ostrov talks")
    assert not vocabulary.bilateral.search("the Lenk-Kurvi talks")  # both Bordurian


def test_registry_kinds_and_lookup_follow_the_scope(scope: Scope) -> None:
    """The fixture registry's "3+3" kind is valid only under its own scope, and lookup knows
    its spellings."""
    registry = load_registry(FIXTURE / "registry.json", scope)
    assert [m.id for m in find_meeting("three plus three", registry, scope=scope)] \
        == ["2021-09-szohod-3plus3"]
    with pytest.raises(ValueError, match="unknown kind '3\\+3'"):
        load_registry(FIXTURE / "registry.json")

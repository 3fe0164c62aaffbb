"""Extracting authors, interviewees and quoted experts from article texts."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.models import Contributor
from knowledge.people import PersonMention, extract_people
from tests.knowledge.meetings.founding_texts import FoundingText

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "articles" \
    / "new_expert_vladivostok_2018.md"

ROLE_000 = "Chairman of the Society of Security and Diplomatic Policy Studies (SSDP)"
ROLE_003 = ("Professor of International Politics and the Director of the Institute for World "
            "Affairs, Kyoto Sangyo University")
ROLE_004 = ("PhD in History, the Head of the Department of Afro-Asian Studies and Professor, "
            "Moscow State Institute of International Relations (MGIMO-University)")


def _experts(people: list[PersonMention]) -> list[tuple[str, str, str | None]]:
    return [(p.name, p.relation, p.role) for p in people
            if p.relation in ("author", "interviewed")]


def _people(text: FoundingText, **kwargs: object) -> list[PersonMention]:
    return extract_people(text.text, title=text.title, **kwargs)  # type: ignore[arg-type]


def test_000_akiyama_interviewed(founding: dict[str, FoundingText]) -> None:
    """000: Masahiro Akiyama is interviewed, as Chairman of the SSDP, and nobody else is an expert."""
    assert _experts(_people(founding["000"])) == [("Masahiro Akiyama", "interviewed", ROLE_000)]


def test_001_akiyama_author(founding: dict[str, FoundingText]) -> None:
    """001: Masahiro Akiyama is the author, as Tokyo Foundation President (also "President (2012–2016)")."""
    people = _people(founding["001"])
    assert _experts(people) == [("Masahiro Akiyama", "author", "Tokyo Foundation President")]
    assert people[0].other_roles == ("President (2012–2016)",)


def test_002_nobody(founding: dict[str, FoundingText]) -> None:
    """002: the author is not named; Ivan Timofeev in the teaser is not attributed at all."""
    people = _people(founding["002"])
    assert people == []


def test_003_togo_author(founding: dict[str, FoundingText]) -> None:
    """003: Kazuhiko Togo is the author, with the role his bio line states."""
    assert _experts(_people(founding["003"])) == [("Kazuhiko Togo", "author", ROLE_003)]


def test_004_streltsov_interviewed(founding: dict[str, FoundingText]) -> None:
    """004: Dmitry Streltsov's comments are presented by the think tank: interviewed, with his full role."""
    assert _experts(_people(founding["004"])) == [("Dmitry Streltsov", "interviewed", ROLE_004)]


def test_founding_corpus_has_no_quoted_experts(founding: dict[str, FoundingText]) -> None:
    """No one else in the founding corpus comes out, not even as quoted (politicians are subjects)."""
    for text in founding.values():
        assert all(p.relation != "quoted" for p in _people(text))


@pytest.mark.parametrize("name", ["Ivan Timofeev", "Vladimir Putin", "Putin", "Shinzo Abe", "Abe",
                                  "Fumio Kishida", "Sergey Naryshkin", "Yoshiro Mori",
                                  "Junichiro Koizumi", "Donald Trump", "Andrei Gromyko"])
def test_no_false_attributions(founding: dict[str, FoundingText], name: str) -> None:
    """Politicians the texts discuss and the teaser's author are never people of any relation."""
    for text in founding.values():
        assert name not in {p.name for p in _people(text)}


def test_metadata_author_found_only_in_a_teaser_is_dropped(
        founding: dict[str, FoundingText], caplog: pytest.LogCaptureFixture) -> None:
    """A scraper's byline "Ivan Timofeev" for 002 is dropped: the name appears only in a teaser."""
    assert _people(founding["002"], metadata_authors=("Ivan Timofeev",)) == []
    assert "teaser" in caplog.text


def test_metadata_author_merges_with_the_text(founding: dict[str, FoundingText]) -> None:
    """A metadata author who is also found in the text comes out once, with the text's role."""
    people = _people(founding["003"], metadata_authors=("Kazuhiko Togo",))
    assert _experts(people) == [("Kazuhiko Togo", "author", ROLE_003)]


def test_metadata_author_absent_from_the_text_is_kept() -> None:
    """Metadata is trusted for a name the text does not print."""
    people = extract_people("Relations are warming.\n\nBoth sides want talks.", title="T",
                            metadata_authors=("Anna Kuznetsova",))
    assert _experts(people) == [("Anna Kuznetsova", "author", None)]


def test_new_expert_from_a_bio_line() -> None:
    """A new article's trailing bio "Jane Doe is a Senior Fellow at ..." makes her the author."""
    text = FIXTURE.read_text(encoding="utf-8")
    people = extract_people(text, title="Vladivostok Again: What the Eastern Economic Forum "
                                        "Meeting Tells Us")
    assert _experts(people) == [
        ("Jane Doe", "author", "Senior Fellow at the Pacific Rim Policy Institute")]
    quoted = [(p.name, p.role) for p in people if p.relation == "quoted"]
    assert quoted == [("John Roe", "economist at the Northern Trade Council")]
    assert "Ivan Timofeev" not in {p.name for p in people}


def test_byline() -> None:
    """"By X, role" at the top names the author."""
    text = ("Why the Islands Matter\n\nBy Maria Petrova, Research Fellow, Example Institute\n\n"
            "The dispute is old. " + "Negotiations continue. " * 30)
    assert _experts(extract_people(text, title="Why the Islands Matter")) == [
        ("Maria Petrova", "author", "Research Fellow, Example Institute")]


@pytest.mark.parametrize("dated", ["2020-02-10", "10 February 2020", "Feb. 10, 2020"])
def test_a_bylines_date_is_no_role(dated: str) -> None:
    """"By X, <date>" (a PDF's byline) names the author with no role; a real role after the
    name is still read."""
    text = (f"Why the Islands Matter\n\nBy Kenji Watanabe, {dated}\n\nThe talks on the "
            f"islands went on for years, and little moved.")
    assert _experts(extract_people(text, title="Why the Islands Matter")) == [
        ("Kenji Watanabe", "author", None)]


@pytest.mark.parametrize("line,expected", [
    ("By Ilse Marquand, Senior Fellow at the Halvorsen Institute. March 20, 2021",
     ("Ilse Marquand", "author", "Senior Fellow at the Halvorsen Institute")),
    ("Commentary by Professor Tomas Reddick, historian at Kestrel State University. June 2022",
     ("Tomas Reddick", "author", "historian at Kestrel State University")),
    ("Analysis by Maria Petrova, Research Fellow, Example Institute | 10 February 2020",
     ("Maria Petrova", "author", "Research Fellow, Example Institute")),
])
def test_a_byline_ending_in_its_date_or_led_by_a_word(line: str,
                                                       expected: tuple[str, str, str]) -> None:
    """A byline's date after a full stop or bar is no part of the role, and "Commentary by
    Professor X" names X (it named nobody, or a role "... Studies. March 20, 2021")."""
    text = f"Why the Islands Matter\n\n{line}\n\nThe talks on the islands went on for years."
    assert _experts(extract_people(text, title="Why the Islands Matter")) == [expected]


def test_interview_with_phrase() -> None:
    """"In an interview with X, role, ..." marks X as interviewed."""
    text = ("In an interview with Kenji Tanaka, a professor at Example University, we discussed "
            "the islands. Tanaka said the talks would go on.")
    assert _experts(extract_people(text, title="Interview")) == [
        ("Kenji Tanaka", "interviewed", "professor at Example University")]


def test_single_quote_in_an_authored_piece_is_quoted() -> None:
    """Someone who "told" the author one thing in an authored article is quoted, not interviewed."""
    text = ("The mood has changed. Pavel Orlov, an analyst at Example Bank, told me the deal "
            "was dead. " + "More analysis follows. " * 20
            + "\n\nJane Doe is a Professor of Politics at Example University.")
    people = extract_people(text, title="T")
    assert [(p.name, p.relation) for p in people] == [("Jane Doe", "author"),
                                                     ("Pavel Orlov", "quoted")]


def test_office_title_makes_a_subject() -> None:
    """A name after "Foreign Minister" or "President" (with no organisation before it) is a subject."""
    text = ("Foreign Minister Taro Yamada said the talks were useful. "
            "Russian President Ivan Petrov said nothing.")
    assert extract_people(text, title="T") == []


def test_contributor_conversion(founding: dict[str, FoundingText]) -> None:
    """A mention converts to the plain Contributor the store keeps."""
    person = _people(founding["003"])[0]
    assert person.to_contributor() == Contributor("Kazuhiko Togo", "author", ROLE_003)

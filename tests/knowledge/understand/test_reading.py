"""The question reader finds people, time and meetings from data only: a made-up topic
(Syldavia and Borduria, tests/fixtures/scope/) is read by the same code as the shipped one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from knowledge.meetings import load_registry
from knowledge.meetings.vocabulary import load_vocabulary
from knowledge.scope import load_scope
from knowledge.understand import (
    ExpertEntry,
    MeetingEntry,
    QuestionVocabulary,
    build_question_vocabulary,
    interpret,
    match_people,
)

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "scope"
EXPERTS = (
    ExpertEntry(1, "Mila Horvat", ("Professor of Economics at the University of Klow",)),
    ExpertEntry(2, "Jan Dvorak", ("Director of the Szohod Institute for Peace Studies",)),
    ExpertEntry(3, "Eva Stern", ("former President of the Danube Foundation",)),
)


@pytest.fixture(scope="module")
def fictional() -> QuestionVocabulary:
    """The fictional topic's scope, places, officials and registry, with three experts."""
    scope = load_scope(FIXTURE / "scope.json")
    topic = load_vocabulary(FIXTURE / "scope.json", FIXTURE / "places.json",
                            FIXTURE / "subjects.json")
    meetings = [MeetingEntry(m.id, m.name, m.start, m.end, m.place, m.kind, m.ordinal,
                             m.participants, m.aliases, m.description)
                for m in load_registry(FIXTURE / "registry.json", scope)]
    return build_question_vocabulary(topic, EXPERTS, meetings)


def test_the_issues_fictional_question(fictional: QuestionVocabulary) -> None:
    """"The Klow professor" is the expert whose role names Klow; "the king's winter visit" is
    the registry's royal visit, asked about before it."""
    reading = interpret("What did the Klow professor expect before the king's winter visit?",
                        fictional)
    assert [(p.name, p.via) for p in reading.people] == [("Mila Horvat", "role")]
    assert [(m.meeting_id, m.side) for m in reading.meetings] == [
        ("2022-01-szohod-royal-visit", "before")]
    assert reading.describe() == ("read as: Mila Horvat · before King Muskar's state visit to "
                                  "Szohod")


@pytest.mark.parametrize(("question", "expert"), [
    ("What does the former foundation president think of the 3+3?", "Eva Stern"),
    ("Did the Szohod institute director expect a deal?", "Jan Dvorak"),
    ("What did Horvat say about the expo?", "Mila Horvat"),
    ("Is dr. dvořák hopeful?", None),  # a surname needs its capital: "dvořák" is no name here
    ("What did Dvořák say?", "Jan Dvorak"),  # accents folded
])
def test_people_by_name_or_description(question: str, expert: str | None,
                                       fictional: QuestionVocabulary) -> None:
    """Experts are read from a surname in any spelling or from their stored role's words."""
    assert [p.name for p in interpret(question, fictional).people] == ([expert] if expert else [])


def test_a_description_of_an_official_is_no_expert(fictional: QuestionVocabulary) -> None:
    """"The Zemblan king" fits an official's office better than any expert's role (the
    plan is the Klow professors', no one in particular; "the Klow professor's" is Horvat)."""
    assert interpret("What did the king of Zembla say about the Klow professors' plan?",
                     fictional).people == ()


@pytest.mark.parametrize(("question", "meeting_id"), [
    ("What came out of the three-plus-three in Szohod?", "2021-09-szohod-3plus3"),
    ("What did ministers agree in the joint ministers' format?", "2021-09-szohod-3plus3"),
    ("Who expected anything from the Danube Expo meeting?", "2021-11-vienna-expo"),
    ("How did the Klow summit end?", "2021-03-klow-summit"),
])
def test_meetings_by_format_event_alias_or_place(question: str, meeting_id: str,
                                                  fictional: QuestionVocabulary) -> None:
    """A meeting is read from its format's spellings or description, its event, alias, place."""
    assert [m.meeting_id for m in interpret(question, fictional).meetings][:1] == [meeting_id]


def test_time_phrases_become_a_window(fictional: QuestionVocabulary) -> None:
    """Months, seasons and parts of a year are windows; "that autumn" takes a named meeting's
    year; "the year after" a meeting is the next calendar year."""
    def window(question: str) -> tuple[dt.date, dt.date] | None:
        w = interpret(question, fictional).window
        return (w.start, w.end) if w else None

    assert window("What was said in November 2021?") == (dt.date(2021, 11, 1),
                                                          dt.date(2021, 11, 30))
    assert window("Any hopes in late 2021?") == (dt.date(2021, 9, 1), dt.date(2021, 12, 31))
    assert window("What about spring 2022?") == (dt.date(2022, 3, 1), dt.date(2022, 5, 31))
    assert window("After the Klow summit, what happened that autumn?") == (
        dt.date(2021, 9, 1), dt.date(2021, 11, 30))
    assert window("How did things look the year after the Klow summit?") == (
        dt.date(2022, 1, 1), dt.date(2022, 12, 31))
    assert window("What did the professor think?") is None


def test_a_name_and_a_description_of_someone_else_are_two_experts(
        fictional: QuestionVocabulary) -> None:
    """"Horvat and the Szohod director" reads both experts; a description in apposition to
    the name ("Horvat, the Szohod director", "the Szohod director Horvat") is that name's."""
    def people(question: str) -> list[str]:
        return [p.name for p in interpret(question, fictional).people]

    assert people("What did Horvat and the Szohod director expect?") == [
        "Mila Horvat", "Jan Dvorak"]
    assert people("What did the Szohod director and Horvat expect?") == [
        "Mila Horvat", "Jan Dvorak"]
    assert people("What did Horvat, the Szohod director, expect?") == ["Mila Horvat"]
    assert people("What did the Szohod director Horvat expect?") == ["Mila Horvat"]
    assert people("What did Horvat, the Klow professor, expect?") == ["Mila Horvat"]


def test_relation_words_belong_to_the_meeting_phrase(fictional: QuestionVocabulary) -> None:
    """"before the summit in Klow in March 2021" is before that meeting though its place and
    date come after the noun; "before and after" takes neither side."""
    for question in ("What was expected before the Klow summit?",
                     "What was expected before the summit in Klow in March 2021?"):
        reading = interpret(question, fictional)
        assert [(m.meeting_id, m.side) for m in reading.meetings] == [
            ("2021-03-klow-summit", "before")], question
    both = interpret("What was said before and after the Klow summit?", fictional)
    assert [(m.meeting_id, m.side) for m in both.meetings] == [("2021-03-klow-summit", None)]


def test_a_typed_name_with_a_slip_or_an_honorific_is_the_one_expert_it_resembles(
        fictional: QuestionVocabulary) -> None:
    """/expert and the expert filter forgive a slip ("Horvath", "Dvorack") or an honorific
    ("Dvorak-san") when one expert fits; another name or an unknown one matches nobody."""
    def typed(name: str) -> list[str]:
        return [p.name for p in match_people(name, fictional)]

    assert typed("Horvath") == ["Mila Horvat"]
    assert typed("Dvorack") == ["Jan Dvorak"]
    assert typed("Dvorak-san") == ["Jan Dvorak"]
    assert typed("J. Dvorack") == ["Jan Dvorak"]
    assert typed("Pavel Dvorak") == []
    assert typed("Novakova") == []


def test_a_shared_place_and_a_date_name_the_one_meeting_they_fit(
        fictional: QuestionVocabulary) -> None:
    """Two meetings were in Szohod: "the Szohod meeting in 2022" is the royal visit, "in
    September 2021" the 3+3; "the year before the Klow summit in 2021" is 2020 alone (the
    meeting's own year only names it)."""
    def meetings(question: str) -> list[str]:
        return [m.meeting_id for m in interpret(question, fictional).meetings]

    assert meetings("What came of the Szohod meeting in 2022?") == ["2022-01-szohod-royal-visit"]
    assert meetings("What came of the meeting in Szohod in September 2021?") == [
        "2021-09-szohod-3plus3"]
    before = interpret("What was said the year before the Klow summit in 2021?", fictional)
    assert [w.label for w in before.windows] == ["2020"]


def test_two_joined_descriptions_are_two_experts(fictional: QuestionVocabulary) -> None:
    """Each description joined by "and" / "compared with" is read by itself, so a clearer one
    does not crowd the other out; one description whose words include a person-like word
    ("the Szohod peace institute director") stays one expert."""
    def people(question: str) -> set[str]:
        return {p.name for p in interpret(question, fictional).people}

    assert people("Did the Klow economics professor and the foundation president agree?") == {
        "Mila Horvat", "Eva Stern"}
    assert people("What did the Szohod institute director say compared with the Danube "
                  "Foundation president?") == {"Jan Dvorak", "Eva Stern"}
    assert people("What did the director of the Szohod institute for peace and research "
                  "studies say?") == {"Jan Dvorak"}


@pytest.mark.parametrize(("question", "names"), [
    ("What is the weather in klow?", ("klow", ("weather",))),  # any case
    # an expert's name is a server's, not the topic's: it counts as a word here
    ("Did Horvat's visit to Szohod help Bordurian trade?",
     ("Szohod Bordurian", ("horvat", "help", "trade"))),
    ("Kurvi on the expo in 2021", ("Kurvi", ("expo",))),  # a participant; figures not counted
    ("Klow and Szohod", None),  # nothing but names: nothing to check them against
    # asking about the names themselves: who said what about which meeting
    ("What did the Klow professor expect of the Szohod summit?", None),
    ("How are the trade talks going?", None),  # no names
    ("What about Zemblan trade?", None),  # a third country is a subject, not a name
])
def test_the_names_a_question_carries(fictional: QuestionVocabulary, question: str,
                                      names: tuple[str, tuple[str, ...]] | None) -> None:
    """Cities, the parties, officials and participants a question names, read from the
    topic's data, and the words it says besides them (the no-match rule's names check)."""
    assert fictional.names_in(question) == names


def test_separate_periods_are_separate_windows(fictional: QuestionVocabulary) -> None:
    """"In 2015 and 2019" is two windows (not 2015 to 2019), shown and given as JSON apart;
    touching or nested periods are one window."""
    reading = interpret("What was said in 2015 and in 2019?", fictional)
    assert [(w.start, w.end) for w in reading.windows] == [
        (dt.date(2015, 1, 1), dt.date(2015, 12, 31)), (dt.date(2019, 1, 1), dt.date(2019, 12, 31))]
    assert reading.describe() == "read as: 2015 / 2019"
    assert [w["label"] for w in reading.to_json()["windows"]] == ["2015", "2019"]
    assert reading.to_json()["window"]["start"] == "2015-01-01"
    touching = interpret("What was said in November 2021 and December 2021?", fictional)
    assert [w.label for w in touching.windows] == ["November 2021 – December 2021"]
    nested = interpret("What was hoped in 2021, above all in December 2021?", fictional)
    assert [(w.label, w.start, w.end) for w in nested.windows] == [
        ("2021", dt.date(2021, 1, 1), dt.date(2021, 12, 31))]


def test_unrelated_questions_read_nothing(fictional: QuestionVocabulary) -> None:
    """No person noun, meeting word or date: an empty reading and an empty line."""
    reading = interpret("How long should I bake sourdough bread?", fictional)
    assert not reading and reading.describe() == ""


def test_the_shipped_topic_reads_none_of_the_fictional_words() -> None:
    """The shipped vocabulary knows no Klow, Szohod or 3+3: the words live in the data."""
    shipped = build_question_vocabulary(load_vocabulary(), EXPERTS, [])
    reading = interpret("What came out of the three-plus-three in Szohod?", shipped)
    assert reading.meetings == ()


@pytest.mark.parametrize(("typed", "experts"), [
    ("horvat", ["Mila Horvat"]),
    ("Jan Dvořák", ["Jan Dvorak"]),
    ("the Klow professor", ["Mila Horvat"]),
    ("former foundation president", ["Eva Stern"]),
    ("the king of Zembla", []),
    ("nobody at all", []),
])
def test_match_people_takes_a_name_or_a_description(typed: str, experts: list[str],
                                                   fictional: QuestionVocabulary) -> None:
    """The one person matcher: a loose name first, else a description against stored roles."""
    assert [p.name for p in match_people(typed, fictional)] == experts


def test_a_day_of_a_month_is_no_meetings_number(fictional: QuestionVocabulary) -> None:
    """"The 3rd meeting" is the registry's third; "the 3rd of November", "3rd November" and
    "November 3rd" are days (they used to read the third meeting too)."""
    import dataclasses

    numbered = dataclasses.replace(fictional, meetings=tuple(
        dataclasses.replace(m, ordinal=i + 1) for i, m in enumerate(fictional.meetings)))
    third = numbered.meetings[2].id
    assert [m.meeting_id for m in interpret("What came of the 3rd meeting?", numbered
                                            ).meetings] == [third]
    for question in ("What was said on the 3rd of November 2021?",
                     "What was said on 3rd November 2021?",
                     "What was said on November 3rd, 2021?",
                     "What was said on the 3rd Nov. 2021?"):
        assert interpret(question, numbered).meetings == (), question


def test_a_possessive_name_is_the_name(fictional: QuestionVocabulary) -> None:
    """"Horvat's view" and "Dvořák’s" name the experts (the possessive made "horvats")."""
    for question, expert in (("What was Horvat's view on the expo?", "Mila Horvat"),
                             ("Was Dvořák’s forecast right?", "Jan Dvorak")):
        assert [p.name for p in interpret(question, fictional).people] == [expert]
    assert [p.name for p in match_people("horvat's", fictional)] == ["Mila Horvat"]


def test_a_publishers_name_names_no_meeting(fictional: QuestionVocabulary) -> None:
    """A publisher called "Danube Expo Weekly" is no mention of the Danube Expo meeting; the
    meeting is still read when named without the publisher."""
    import dataclasses

    from knowledge.understand.vocabulary import _phrases

    with_publisher = dataclasses.replace(fictional,
                                         publishers=_phrases(["Danube Expo Weekly", "Klow"]))
    assert interpret("What did the Danube Expo Weekly article say about tariffs?",
                     with_publisher).meetings == ()
    assert [m.meeting_id for m in interpret(
        "Who expected anything from the Danube Expo meeting?", with_publisher).meetings][:1] \
        == ["2021-11-vienna-expo"]
    # a one-word publisher is left to be read as a word ("How did the Klow summit end?")
    assert [m.meeting_id for m in interpret("How did the Klow summit end?", with_publisher
                                            ).meetings][:1] == ["2021-03-klow-summit"]


def test_a_half_or_a_quarter_is_no_meeting_number(fictional: QuestionVocabulary) -> None:
    """"the 1st half of 2022" is a time, not the first meeting."""
    reading = interpret("What came in the 1st half of 2022?", fictional)
    assert reading.meetings == ()
    assert [w.label for w in reading.windows] == ["first half of 2022"]


@pytest.mark.parametrize(("question", "expert"), [
    ("What did Horvath say about the expo?", "Mila Horvat"),  # a slip in the surname
    ("Did Dvorak-san expect a deal?", "Jan Dvorak"),  # an honorific
    ("Is Dvorjak hopeful?", "Jan Dvorak"),
    ("What did Szohod expect?", None),  # a place the topic knows, however close
    ("What did Hor say?", None),  # too short to be a slip
])
def test_a_surname_with_a_slip_or_an_honorific_in_a_question(
        fictional: QuestionVocabulary, question: str, expert: str | None) -> None:
    """A capitalised word close to exactly one expert's surname is that expert, as /expert
    forgives the same slips; the topic's other names are never taken for one."""
    assert [p.name for p in interpret(question, fictional).people] == (
        [expert] if expert else [])


def test_a_hyphenated_description_beside_a_name_is_that_name(
        fictional: QuestionVocabulary) -> None:
    """"the Klow ex-professor Dvorak" describes Dvorak: the noun inside the hyphenated word
    stands right before the name, so it is not read as a second expert (Horvat, the Klow
    professor)."""
    reading = interpret("What did the Klow ex-professor Dvorak say?", fictional)
    assert [p.name for p in reading.people] == ["Jan Dvorak"]


def test_an_ordinal_in_words_names_the_numbered_meeting(fictional: QuestionVocabulary) -> None:
    """With the Klow summit numbered 23rd, "the twenty-third summit" and "their twenty third
    meeting" name it as "the 23rd summit" does; "the third quarter" names nothing."""
    import dataclasses

    numbered = build_question_vocabulary(
        fictional.topic, EXPERTS,
        [dataclasses.replace(m, ordinal=23) if m.id == "2021-03-klow-summit" else m
         for m in fictional.meetings])

    def meetings(question: str) -> list[str]:
        return [m.meeting_id for m in interpret(question, numbered).meetings]

    assert meetings("What came of the 23rd summit?") == ["2021-03-klow-summit"]
    assert meetings("What came of the twenty-third summit?") == ["2021-03-klow-summit"]
    assert meetings("What came of their twenty third meeting?") == ["2021-03-klow-summit"]
    assert meetings("What came in the third quarter of 2021?") == []


def test_a_participant_and_a_shared_place_name_the_meeting(fictional: QuestionVocabulary) -> None:
    """Two meetings were in Szohod; Lenk took part in one: "Lenk's Szohod trip" is the 3+3.
    A shared place with a common word ("the trade minister's Szohod trip") names neither."""
    def meetings(question: str) -> list[str]:
        return [m.meeting_id for m in interpret(question, fictional).meetings]

    assert meetings("What came of Lenk's Szohod trip?") == ["2021-09-szohod-3plus3"]
    assert meetings("What came of the Szohod trip?") == []


def test_the_meeting_before_or_after_a_named_one(fictional: QuestionVocabulary) -> None:
    """"The meeting right after the Klow summit" is the next meeting in the registry (the
    3+3), "the one that preceded the royal visit" the one before it (the Danube Expo); what
    was said before a meeting keeps the meeting, with its side."""
    def meetings(question: str) -> list[tuple[str, str | None]]:
        return [(m.meeting_id, m.side) for m in interpret(question, fictional).meetings]

    assert meetings("What came of the meeting right after the Klow summit?") == [
        ("2021-09-szohod-3plus3", None)]
    assert meetings("What came of the one that preceded the royal visit?") == [
        ("2021-11-vienna-expo", None)]
    assert meetings("What was expected before the Klow summit?") == [
        ("2021-03-klow-summit", "before")]


def test_a_slip_is_read_among_the_experts_the_viewer_may_see(
        fictional: QuestionVocabulary) -> None:
    """Another server's expert with a close surname does not make a slip ambiguous here:
    with only Horvat visible, "Horvath" is Horvat even beside a "Horvatz" elsewhere."""
    other = ExpertEntry(9, "Ana Horvatz", ("Analyst at the Onisko Institute",))
    both = build_question_vocabulary(fictional.topic, (*EXPERTS, other), fictional.meetings)
    assert [p.name for p in interpret("What did Horvath say?", both).people] == []
    assert [p.name for p in interpret("What did Horvath say?", both, {1}).people] == [
        "Mila Horvat"]


@pytest.mark.parametrize(("question", "labels", "side"), [
    ("What was expected two years before the Klow summit?", ["2019"], "before"),
    ("What was expected one year before the Klow summit?", ["2020"], "before"),
    ("What was said two months before the Klow summit?", ["January 2021"], "before"),
    ("What was said a month after the Klow summit?", ["April 2021"], "after"),
    ("What was said three weeks after the Klow summit?", ["2 April – 8 April 2021"], "after"),
    ("What was said in the year of the Klow summit?", ["2021"], None),
    ("What was said the year after the Klow summit in 2021?", ["2022"], "after"),
])
def test_a_distance_from_a_meeting_is_a_window(fictional: QuestionVocabulary, question: str,
                                               labels: list[str], side: str | None) -> None:
    """"two years before the Klow summit" is 2019, "a month after" it April 2021, "the year
    of" it 2021 (outside tester MED-3: the distance was dropped, leaving "before" open)."""
    reading = interpret(question, fictional)
    assert [w.label for w in reading.windows] == labels
    assert [(m.meeting_id, m.side) for m in reading.meetings] == [("2021-03-klow-summit", side)]


def test_an_ordinal_on_a_format_counts_that_formats_meetings(
        fictional: QuestionVocabulary) -> None:
    """"the second 3+3" is the registry's second 3+3 by date, "the first" its first; "the
    third" is none (the registry holds two), not every 3+3 and not the leaders' third
    meeting (outside tester MED-5: "the third 2+2" was read as the only 2+2)."""
    import dataclasses

    first = next(m for m in fictional.meetings if m.kind == "3+3")
    later = dataclasses.replace(first, id="2022-06-klow-3plus3", start=dt.date(2022, 6, 1),
                                end=dt.date(2022, 6, 1), place="Klow",
                                name="Syldavia-Borduria 3+3 in Klow")
    both = build_question_vocabulary(
        fictional.topic, EXPERTS,
        [dataclasses.replace(m, ordinal=3) if m.id == "2021-03-klow-summit" else m
         for m in (*fictional.meetings, later)])

    def meetings(question: str) -> list[str]:
        return [m.meeting_id for m in interpret(question, both).meetings]

    assert meetings("What came of the second 3+3?") == ["2022-06-klow-3plus3"]
    assert meetings("What came of the first three-plus-three meeting?") == [
        "2021-09-szohod-3plus3"]
    assert meetings("What came of the 3rd 3+3?") == []
    assert meetings("What came of the third summit?") == ["2021-03-klow-summit"]
    assert set(meetings("What came of the 3+3?")) == {"2021-09-szohod-3plus3",
                                                      "2022-06-klow-3plus3"}


def test_two_meetings_each_with_its_side_and_the_time_between(
        fictional: QuestionVocabulary) -> None:
    """"after the Klow summit and before the January visit" reads both meetings, each with
    its side, and the time between them; a month before a meeting noun names that month's
    meeting (outside tester MED-2: only the first meeting was read)."""
    reading = interpret("What was said after the Klow summit and before the January visit?",
                        fictional)
    assert [(m.meeting_id, m.side) for m in reading.meetings] == [
        ("2021-03-klow-summit", "after"), ("2022-01-szohod-royal-visit", "before")]
    assert [(w.start, w.end) for w in reading.windows] == [
        (dt.date(2021, 3, 16), dt.date(2022, 1, 17))]
    # the stronger one first in the question makes no difference
    reading = interpret("What was expected before the January visit and after the Klow "
                        "summit?", fictional)
    assert {(m.meeting_id, m.side) for m in reading.meetings} == {
        ("2021-03-klow-summit", "after"), ("2022-01-szohod-royal-visit", "before")}


@pytest.mark.parametrize(("question", "meeting_ids"), [
    ("What came of the visit to Borduria?", ["2022-01-szohod-royal-visit"]),
    ("What came of the summit in Syldavia?", ["2021-03-klow-summit"]),
    ("What came of the September 2021 meeting in Borduria?", []),  # the 3+3: no such noun
    ("What came of the September 2021 3+3 in Borduria?", ["2021-09-szohod-3plus3"]),
    ("What came of the summit in Zembla?", []),  # none held there
])
def test_a_meeting_named_by_the_country_it_was_held_in(
        fictional: QuestionVocabulary, question: str, meeting_ids: list[str]) -> None:
    """A country after a meeting noun names the meetings held there (places data) that the
    noun fits (outside tester MED-8: "the summit in Japan" read nothing)."""
    assert [m.meeting_id for m in interpret(question, fictional).meetings] == meeting_ids


def test_words_only_one_meeting_has_beat_a_shared_place(fictional: QuestionVocabulary) -> None:
    """With "Szohod" an alias of the 3+3, "King Muskar's Szohod reception" is still the royal
    visit: its own name's words single it out among the meetings held there, with no meeting
    noun (outside tester MED-6: "the Sochi Games opening ceremony" was the 2016 meeting)."""
    import dataclasses

    aliased = build_question_vocabulary(
        fictional.topic, EXPERTS,
        [dataclasses.replace(m, aliases=("Szohod",)) if m.id == "2021-09-szohod-3plus3" else m
         for m in fictional.meetings])

    def meetings(question: str) -> list[str]:
        return [m.meeting_id for m in interpret(question, aliased).meetings]

    assert meetings("How did King Muskar's Szohod reception go?") == [
        "2022-01-szohod-royal-visit"]
    assert meetings("How did the Szohod talks go?") == ["2021-09-szohod-3plus3"]


@pytest.mark.parametrize(("question", "experts"), [
    ("What did the Klow State University professor say?", []),
    ("What did the Danube University professor say?", []),
    ("What did the University of Klow professor say?", ["Mila Horvat"]),
    ("What did the Szohod Institute director say?", ["Jan Dvorak"]),
    ("What did the Danube Foundation president say?", ["Eva Stern"]),
    ("What did the Klow professor say?", ["Mila Horvat"]),
])
def test_a_name_of_several_words_fits_only_a_role_that_holds_it_whole(
        fictional: QuestionVocabulary, question: str, experts: list[str]) -> None:
    """"the Klow State University professor" is another institution than Horvat's University
    of Klow, though "Klow" and "University" are both in her role (outside tester MED-7: "the
    Moscow State University professor" was Streltsov of MGIMO); a name her role holds whole
    is hers."""
    assert [p.name for p in interpret(question, fictional).people] == experts


@pytest.mark.parametrize("question", [
    "What was said between the Klow summit and the January visit?",
    "What was said between the January visit and the Klow summit?",
    "What was said from the Klow summit to the royal visit?",
    "What was said from the Klow summit until the royal visit?",
    "Between the 3+3 and the royal visit, what was expected?",
])
def test_between_two_meetings_is_the_time_between_them(fictional: QuestionVocabulary,
                                                       question: str) -> None:
    """"between A and B" and "from A to/until B" read both meetings, the earlier asked after
    and the later before, and the time between them in date order, however much more clearly
    one is named (outside questioner B: no window, and one of the meetings lost)."""
    reading = interpret(question, fictional)
    sides = {m.meeting_id: m.side for m in reading.meetings}
    first = "2021-09-szohod-3plus3" if "3+3" in question else "2021-03-klow-summit"
    assert sides == {first: "after", "2022-01-szohod-royal-visit": "before"}
    start = fictional.meeting(first).end + dt.timedelta(days=1)
    assert [(w.start, w.end) for w in reading.windows] == [(start, dt.date(2022, 1, 17))]


def test_an_alias_of_several_words_is_not_dropped_for_a_word_it_shares(
        fictional: QuestionVocabulary) -> None:
    """"Muskar's visit to Borduria", an alias of the royal visit, is read beside "the third
    summit" whose name also has Muskar (outside questioner B: "between Putin's visit to Japan
    and the 25th summit" lost Putin's visit to the 25th Putin-Abe summit)."""
    import dataclasses

    varied = build_question_vocabulary(fictional.topic, EXPERTS, [
        dataclasses.replace(m, ordinal=3, name="Varga-Muskar summit in Klow")
        if m.id == "2021-03-klow-summit" else
        dataclasses.replace(m, aliases=("Muskar's visit to Borduria",))
        if m.id == "2022-01-szohod-royal-visit" else m for m in fictional.meetings])
    reading = interpret("between Muskar's visit to Borduria and the third summit", varied)
    assert {m.meeting_id for m in reading.meetings} == {"2021-03-klow-summit",
                                                        "2022-01-szohod-royal-visit"}


@pytest.mark.parametrize(("question", "labels"), [
    ("What was expected a year before the Klow summit in March 2021?", ["March 2020"]),
    ("What was said the day before the Klow summit?", ["14 March 2021"]),
    ("What was said two days after the Klow summit?", ["17 March 2021"]),
])
def test_a_distance_from_a_meeting_named_with_its_date(fictional: QuestionVocabulary,
                                                       question: str, labels: list[str]) -> None:
    """The meeting's own month names it, and a year before it is that month a year earlier,
    not a second window; "the day before" is that day (outside questioner E)."""
    assert [w.label for w in interpret(question, fictional).windows] == labels


def test_a_possessive_person_noun_describes_someone(fictional: QuestionVocabulary) -> None:
    """"the Klow professor's take" is Horvat, as "the Klow professor" is: a possessive is
    no plural (outside questioner F)."""
    assert [p.name for p in interpret("the Klow professor's take on the royal visit",
                                      fictional).people] == ["Mila Horvat"]


def _with_a_forum_and_a_ministers_visit(fictional: QuestionVocabulary) -> QuestionVocabulary:
    """The fictional registry with a second summit in Klow and a second visit to Szohod."""
    import dataclasses

    klow = fictional.meeting("2021-03-klow-summit")
    royal = fictional.meeting("2022-01-szohod-royal-visit")
    varied = build_question_vocabulary(fictional.topic, EXPERTS, [
        *fictional.meetings,
        dataclasses.replace(klow, id="2022-06-klow-forum", name="Klow Forum summit",
                            start=dt.date(2022, 6, 1), end=dt.date(2022, 6, 1),
                            kind="multilateral", aliases=(),
                            description="Further talks were expected on its sidelines."),
        dataclasses.replace(royal, id="2022-03-szohod-lenk-visit", name="Lenk visits Szohod",
                            start=dt.date(2022, 3, 1), end=dt.date(2022, 3, 1), aliases=(),
                            participants=("Ivo Lenk", "Ottokar Muskar"),
                            description="The foreign minister's visit.")])

    return varied


def test_a_word_that_asks_does_not_narrow_the_meetings_held_in_a_place(
        fictional: QuestionVocabulary) -> None:
    """"What did experts expect from the summit in Syldavia?" is every summit held there,
    not the one whose description says "expected" (outside questioner G: "the summit in
    Japan" was only the G20, whose description expects talks)."""
    varied = _with_a_forum_and_a_ministers_visit(fictional)
    assert {m.meeting_id for m in interpret(
        "What did experts expect from the summit in Syldavia?", varied).meetings} == {
        "2021-03-klow-summit", "2022-06-klow-forum"}


def test_a_name_in_one_meetings_own_name_narrows_those_a_place_names(
        fictional: QuestionVocabulary) -> None:
    """"Muskar's Szohod visit" is the visit with Muskar in its name, not another visit there
    he took part in (outside questioner B: "Abe's Moscow visit" also read Kishida's)."""
    varied = _with_a_forum_and_a_ministers_visit(fictional)
    assert [m.meeting_id for m in interpret("What came of Muskar's Szohod visit?",
                                            varied).meetings] == ["2022-01-szohod-royal-visit"]

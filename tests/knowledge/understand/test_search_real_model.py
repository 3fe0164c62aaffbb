"""Through the library's search with the real model: a question that names an expert by role
and a meeting by number gets that expert's commentary on it first, and shows its reading
(the knowledge-level twin of the bot's /ask end-to-end test)."""

from __future__ import annotations

import pytest

from knowledge.service import KnowledgeService

pytestmark = pytest.mark.model
STRELTSOV = "Russia and Japan on the Way towards Fully Normalized Relations"


def test_role_and_ordinal_put_the_right_commentary_first(real_service: KnowledgeService) -> None:
    """"The Moscow institute professor" is Streltsov, "the 17th meeting" Abe's April 2017 visit:
    his comment on it is the first hit, and the hit says which readings ranked it."""
    question = ("How did the professor from the Moscow institute of international relations "
                "judge the outcome of the leaders' 17th meeting?")
    reading = real_service.retriever.interpret(question, guild_id=None)
    assert [p.name for p in reading.people] == ["Dmitry Streltsov"]
    assert [m.meeting_id for m in reading.meetings] == ["2017-04-moscow-abe-visit"]
    hits = real_service.search(question, guild_id=None)
    assert hits and hits[0].article.title == STRELTSOV
    assert "by Dmitry Streltsov" in hits[0].why
    assert reading.describe() == ("read as: Dmitry Streltsov · Abe visits Moscow (17th Putin-Abe "
                                  "meeting)")


def test_explicit_filters_still_filter(real_service: KnowledgeService) -> None:
    """Reading one expert from the question does not override the user's --person filter."""
    hits = real_service.search("What did the MGIMO professor say about the 17th meeting?",
                               person="Togo", guild_id=None)
    assert hits and {h.article.title for h in hits} == {
        "Can Japan and Russia achieve a genuine rapprochement?"}


def test_a_place_two_meetings_share_is_the_one_the_date_fits(
        real_service: KnowledgeService) -> None:
    """"The Sochi meeting" names the May 2016 meeting, but "the Sochi meeting in 2014" is
    Abe's visit to the Sochi Olympics (the place names both, the year one); a word only the
    other meeting has keeps it ("in 2016 after the Sochi Olympics")."""
    def meetings(question: str) -> list[str]:
        return [m.meeting_id for m in
                real_service.retriever.interpret(question, guild_id=None).meetings]

    assert meetings("What did experts say about the Sochi meeting?") == [
        "2016-05-sochi-abe-putin"]
    assert meetings("What did experts say about the Sochi meeting in 2014?") == [
        "2014-02-sochi-olympics-opening"]
    assert "2014-02-sochi-olympics-opening" in meetings(
        "What did experts expect in 2016 after the Sochi Olympics?")
    # the place names both, the occasion one ("Winter Games" is the scope's word for it)
    assert meetings("What came of the Sochi Winter Games?") == ["2014-02-sochi-olympics-opening"]
    # and words only the Olympics have beat the 2016 meeting's alias "Sochi"
    assert meetings("How did Abe's attendance at the Sochi Games opening ceremony affect "
                    "ties?") == ["2014-02-sochi-olympics-opening"]


@pytest.mark.parametrize("question", [
    "Putin's dog breed", "Russian vodka brands", "Moscow metro opening hours"])
def test_an_off_topic_question_carrying_the_topics_names_has_no_good_match(
        real_service: KnowledgeService, question: str) -> None:
    """"Moscow" or "Putin" make a question about the metro or a dog look close to the
    library; it is about no more than its names, so it gets "no good match"."""
    assert real_service.search(question, guild_id=None) == []


def test_an_on_topic_question_with_names_is_still_answered(
        real_service: KnowledgeService) -> None:
    """The question says more than "Abe" and "Russia": answered."""
    assert real_service.search("Was a spring trip by Abe to Russia confirmed in early 2019?",
                               guild_id=None)


def test_before_a_meeting_fits_what_was_written_before_it(
        real_service: KnowledgeService) -> None:
    """"Before the 17th meeting" is evidence for commentary written before Abe's visit of
    27 April 2017 (the March 2017 Valdai piece, the December 2016 one), not for Streltsov's assessment dated "April
    2017", written after it, as /summit files them."""
    label = "before Abe visits Moscow (17th Putin-Abe meeting)"
    hits = real_service.search("What was expected before the 17th meeting?", top=10,
                               guild_id=None)
    fitted = {h.article.title for h in hits if label in h.why}
    assert "Russia-Japan Summit Could Improve Relations, but No Breakthrough Expected" in fitted
    assert STRELTSOV in {h.article.title for h in hits} and STRELTSOV not in fitted


def test_a_season_is_loose_at_its_edges_a_month_is_not(real_service: KnowledgeService) -> None:
    """The Vladivostok meeting of 2 September 2016 is "summer 2016" enough to stay read (it
    was dropped for falling two days outside); "the April 2017 talks" in Tokyo's words do not
    become the 2+2 of 20 March."""
    def meetings(question: str) -> list[str]:
        return [m.meeting_id for m in
                real_service.retriever.interpret(question, guild_id=None).meetings]

    assert meetings("summer 2016 Vladivostok") == [
        "2016-09-vladivostok-eef"]
    assert "2017-03-tokyo-2plus2" not in meetings(
        "Which flashpoint did Tokyo put first at the April 2017 talks?")


def test_a_period_asked_about_shows_its_commentary_under_the_floor(
        real_service: KnowledgeService) -> None:
    """"What did experts expect in spring 2017?" shares few words with the March 2017 Valdai
    piece (cosine ~0.18, under HIT_MIN_SIMILARITY 0.20): the reading fits it, so it is shown,
    and first, instead of 2016 and 2019 commentary only."""
    hits = real_service.search("What did experts expect in spring 2017?", guild_id=None)
    assert hits and str(hits[0].article.published).startswith("2017-0")
    assert "spring 2017" in hits[0].why


def test_a_date_and_a_noun_of_the_meetings_own_name(real_service: KnowledgeService) -> None:
    """Four 2016 meetings name Putin; only "Putin visits Japan" is a visit by its name: that
    is "Putin's 2016 visit"."""
    reading = real_service.retriever.interpret("What came of Putin's 2016 visit?",
                                               guild_id=None)
    assert [m.meeting_id for m in reading.meetings] == ["2016-12-japan-putin-visit"]

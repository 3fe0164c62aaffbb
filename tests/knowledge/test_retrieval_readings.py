"""A question's reading is remembered per version of the index: /ask reads a question to rank
it and again for its "read as" line, and the second time must cost nothing and say the same."""

from __future__ import annotations

from knowledge.ingest import Document
from knowledge.models import PartialDate
from knowledge.retrieval import SearchRequest
from knowledge.service import KnowledgeService

QUESTION = "What did Putin and Abe expect from the January 2019 Moscow summit?"
NEW_ARTICLE = ("Experts on the Kuril Islands talks said in 2023 that the summit of the two "
               "leaders changed little. " * 4)


def test_reading_is_remembered_until_the_index_changes(hashing_service: KnowledgeService
                                                       ) -> None:
    """The search's reading is the one the answer line shows (the same object, not a second
    read); after an article is added the question is read afresh, to the same effect."""
    retriever = hashing_service.retriever
    retriever.search(SearchRequest(QUESTION, guild_id=None))
    first = retriever.interpret(QUESTION, guild_id=None)
    assert first.describe()  # the question names people, a month and a meeting
    assert retriever.interpret(QUESTION, guild_id=None) is first
    hashing_service.add_document(Document(NEW_ARTICLE, title="After the talks"))
    again = retriever.interpret(QUESTION, guild_id=None)
    assert again is not first and again == first


def test_readings_kept_are_bounded(hashing_service: KnowledgeService) -> None:
    """Only the last few questions are kept: an old one is read again when asked again."""
    from knowledge.retrieval import QUERY_VECTORS_KEPT

    retriever = hashing_service.retriever
    first = retriever.interpret(QUESTION, guild_id=None)
    for n in range(QUERY_VECTORS_KEPT):
        retriever.interpret(f"What happened at summit number {n}?", guild_id=None)
    assert retriever.interpret(QUESTION, guild_id=None) is not first
    assert retriever.interpret(QUESTION, guild_id=None) == first


def test_the_reading_shown_is_what_the_filters_leave(hashing_service: KnowledgeService
                                                     ) -> None:
    """"Read as" never claims what the explicit filters rule out: an expert filter keeps only
    the read experts it names, --since/--until clip the window and drop meetings outside."""
    service = hashing_service
    question = "What did Togo expect from the January 2019 Moscow summit?"
    plain = service.reading(question, guild_id=None)
    assert [p.name for p in plain.people] == ["Kazuhiko Togo"] and plain.window \
        and plain.meetings
    assert service.reading(question, person="Akiyama", guild_id=None).people == ()
    assert [p.name for p in service.reading(question, person="togo", guild_id=None).people] == \
        ["Kazuhiko Togo"]
    later = service.reading(question, since=PartialDate.parse("2020"), guild_id=None)
    assert later.window is None and later.meetings == ()
    assert later.people == plain.people
    clipped = service.reading("What was said in 2016 and 2017?",
                              since=PartialDate.parse("2017-03"), guild_id=None)
    assert clipped.window is not None and clipped.describe() == \
        "read as: March – December 2017"
    # what search ranks by is the same narrowed reading (its evidence labels say so)
    hits = service.search(question, person="Akiyama", top=5, guild_id=None)
    assert hits and not any("by Kazuhiko Togo" in " ".join(h.why or ()) for h in hits)


def test_two_separate_years_lift_articles_of_either_and_not_between(
        hashing_service: KnowledgeService) -> None:
    """"In 2015 and in 2019" boosts the 2015 and the 2019 commentary, each hit saying which
    year fits it; the 2016 and 2017 articles between them get no time boost (before, the
    reading was one window, 2015 to 2019, which fitted every article)."""
    service = hashing_service
    question = "What did experts say about the islands in 2015 and in 2019?"
    assert service.reading(question, guild_id=None).describe() == "read as: 2015 / 2019"
    hits = service.search(question, top=10, guild_id=None)
    years = {h.article.published.start.year: h.why for h in hits if h.article.published}
    assert "2015" in years[2015] and "2019" not in years[2015]
    assert "2019" in years[2019]
    for year in (2016, 2017):
        if year in years:
            assert "2015" not in years[year] and "2019" not in years[year]
    clipped = service.reading(question, until=PartialDate.parse("2018"), guild_id=None)
    assert clipped.describe() == "read as: 2015"


def test_ordinals_of_centuries_and_anniversaries_name_no_meeting(
        hashing_service: KnowledgeService) -> None:
    """"the 17th century" and "the 25th anniversary" are no 17th or 25th meeting; "the 17th
    summit" still is."""
    service = hashing_service
    assert service.reading("Has it been disputed since the 17th century?",
                           guild_id=None).meetings == ()
    assert service.reading("What happened on the 25th anniversary of the Tokyo Declaration?",
                           guild_id=None).meetings == ()
    assert service.reading("What did the 17th summit bring?", guild_id=None).meetings


def test_an_expert_described_by_the_publisher_they_wrote_for(
        hashing_service: KnowledgeService) -> None:
    """"The East Asia Forum author" is the expert who wrote for East Asia Forum (it read
    nobody: the publisher was no part of what describes an expert)."""
    reading = hashing_service.retriever.interpret(
        "What did the East Asia Forum author say about Trump's election?", guild_id=None)
    assert [p.name for p in reading.people] == ["Kazuhiko Togo"]
    reading = hashing_service.retriever.interpret(
        "What did the Rethinking Russia commentator say about Syria?", guild_id=None)
    assert [p.name for p in reading.people] == ["Dmitry Streltsov"]

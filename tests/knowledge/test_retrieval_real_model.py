"""Integration: a fresh install on the real bundled model answers questions about the corpus."""

from __future__ import annotations

import pytest

from knowledge.models import PartialDate
from knowledge.retrieval import SearchRequest
from knowledge.service import KnowledgeService

pytestmark = pytest.mark.model

VALDAI_2019 = "Abe-Putin Summit in Moscow: No Sensations, Moderation Prevails"
RETHINKING = "Russia and Japan on the Way towards Fully Normalized Relations"


def _titles(service: KnowledgeService, query: str, top: int = 5, **kw: object) -> list[str]:
    hits = service.retriever.search(SearchRequest(query, top, **{"guild_id": None, **kw}))  # type: ignore[arg-type]
    return [h.article.title for h in hits]


def test_fresh_install_answers_about_the_17th_meeting(real_service: KnowledgeService) -> None:
    """A question about the leaders' 17th meeting has the Rethinking Russia commentary in the top 3."""
    assert RETHINKING in _titles(real_service, "What happened at the leaders' 17th meeting?")[:3]


def test_january_2019_expectations_put_valdai_2019_first(real_service: KnowledgeService) -> None:
    """The issue's sample question ranks the Valdai 2019 commentary first."""
    titles = _titles(real_service,
                     "what did the experts expect from the Moscow summit in January 2019")
    assert titles[0] == VALDAI_2019


def test_off_topic_questions_get_no_match(real_service: KnowledgeService) -> None:
    """Questions the library cannot answer return nothing rather than random passages."""
    for query in ("How long should I bake sourdough bread?", "Who won the 1998 World Cup final?",
                  "How do I reverse a linked list in Python?"):
        assert _titles(real_service, query) == [], query


def test_a_question_asking_only_for_a_period_gets_its_commentary(
        real_service: KnowledgeService) -> None:
    """"What did experts write in 2015?" names only a period: no topic word to match, so its
    cosine is under the no-match threshold; it is answered with that period's commentary (it
    was "no good match"), while off-topic questions with a year stay refused."""
    published = {"What did experts write in 2015?": "2015",
                 "What was written in March 2017?": "2017-0",
                 "What did experts write in Q1 2017?": "2017-0",
                 "What did experts write in January 2019?": "2019-01",
                 # the words that ask are many ("show me", "latest"): not only "write"
                 "Show me commentary from April 2017": "2017-04",
                 "Latest commentary from January 2019": "2019-01"}
    for query, prefix in published.items():
        hits = real_service.retriever.search(SearchRequest(query, 3, guild_id=None))
        assert hits, query
        assert str(hits[0].article.published).startswith(prefix), query
        # every hit fits the period (published in it, or on a meeting held in it)
        assert all(h.why and not h.why[-1].startswith(("meaning", "words")) for h in hits), query
    # a period is no more a question's topic than a city is: "weather" is what it asks
    for query in ("weather in Tokyo in 2015", "best restaurants in 2017",
                  "Who won the election in 2016?", "football results in 2016",
                  "weather in Moscow in January 2019"):
        assert _titles(real_service, query) == [], query


def test_a_passage_fitting_the_expert_and_the_year_comes_first(
        real_service: KnowledgeService) -> None:
    """"What did Akiyama write in 2015?": his 2015 article first, not his 2017 one (whose words
    are closer): each part of the reading the passage fits counts."""
    hits = real_service.retriever.search(
        SearchRequest("What did Akiyama write in 2015?", 3, guild_id=None))
    assert str(hits[0].article.published).startswith("2015")
    assert hits[0].article.authors == ["Masahiro Akiyama"]


def test_hits_carry_attribution_and_highlight(real_service: KnowledgeService) -> None:
    """Each hit is attributed, dated and highlighted with a sentence of its passage."""
    hits = real_service.retriever.search(SearchRequest("Kazuhiko Togo on the Lima meeting", 3, guild_id=None))
    assert hits
    for hit in hits:
        assert hit.highlight in hit.passage
        assert hit.article.publisher
        assert 0 < hit.score <= 1.0
    assert any(h.article.authors == ["Kazuhiko Togo"] for h in hits)


def test_date_and_publisher_filters(real_service: KnowledgeService) -> None:
    """Date and publisher filters narrow the results to matching articles."""
    titles = _titles(real_service, "territorial dispute", 10, since=PartialDate.parse("2019"))
    assert set(titles) == {VALDAI_2019}
    titles = _titles(real_service, "territorial dispute", 10, publisher="east asia forum")
    assert set(titles) == {"Can Japan and Russia achieve a genuine rapprochement?"}


def test_a_narrowed_search_shows_only_passages_on_the_topic(
        real_service: KnowledgeService) -> None:
    """Within one meeting's commentary (a handful of passages) the topic's passage is shown and
    the pool's unrelated ones are not: each hit shares a word with the topic or is close in
    meaning by itself, although the plain search of the same pool ranks the unrelated ones too."""
    from knowledge.index.types import Filters
    from knowledge.retrieval import NARROWED_DENSE_MARGIN

    commentary = real_service.meetings.commentary("2017-04", "security", guild_id=None)
    shown = [h.highlight for h in commentary.after]
    assert len(shown) == 1 and "THAAD" in shown[0], shown
    assert commentary.before == ()
    # the same pool through the plain search: more passages, among them unrelated ones
    pool = {h.passage_id for h in real_service.meetings.commentary("2017-04", guild_id=None).after}
    pool |= {h.passage_id for h in commentary.after}
    every = real_service.retriever.search(SearchRequest("security", 10, guild_id=None),
                                          filters=Filters(passage_ids=frozenset(pool)))
    floor = real_service.library.settings.no_match_threshold + NARROWED_DENSE_MARGIN
    assert any(h.bm25_score == 0 and h.dense_score < floor for h in every)
    experts = real_service.experts.views("streltsov", "Korean Peninsula", guild_id=None)[1]
    assert experts and all(h.bm25_score > 0 or h.dense_score >= floor for h in experts)
    assert "Korean Peninsula" in experts[0].highlight

"""service.experts.compare: one view per passage, naming every expert whose best passage it is."""

from __future__ import annotations

import datetime as dt

from knowledge.ingest import Document
from knowledge.models import Contributor, ExpertView, PartialDate
from knowledge.service import KnowledgeService

TOPIC = "salmon fishing quota regime"
COAUTHORED = ("Negotiators from Tokyo and Moscow agreed on a quota regime for salmon fishing near "
              "the Kuril Islands, a modest step the authors call a test of the joint economic "
              "activities plan. The accord covers the season and sets up a commission that "
              "meets twice a year.")
SOLO = ("The salmon fishing quota regime is the real test: a salmon quota regime for fishing "
        "crews, salmon fishing quotas set each year, and a quota regime that fishing towns trust.")


def add(service: KnowledgeService, text: str, title: str, month: str, *authors: str) -> int:
    """Add an article by `authors` published in `month` (YYYY-MM); its id."""
    result = service.add_document(Document(
        text=text, title=title, publisher="Example Review",
        published=PartialDate(month, "month"),
        contributors=tuple(Contributor(name, "author") for name in authors)))
    assert result.status == "added" and result.article_id is not None, result.message
    return result.article_id


def names_of(views: list[ExpertView], article_id: int) -> list[tuple[str, ...]]:
    """The experts of each view quoting the article, in order."""
    return [v.experts for v in views if v.hit.article.id == article_id]


def assert_ordered_and_bounded(views: list[ExpertView], top: int) -> None:
    """Oldest article first (undated last), better score first on a date; each passage once,
    each expert in at most `top` views."""
    keys = [((v.hit.article.published.start if v.hit.article.published else dt.date.max),
             -v.hit.score) for v in views]
    assert keys == sorted(keys)
    passages = [v.hit.passage_id for v in views]
    assert len(passages) == len(set(passages))
    named = [name for v in views for name in v.experts]
    assert all(named.count(name) <= top for name in named)


def test_coauthors_with_the_same_best_passage_get_one_view_naming_both(
        hashing_service: KnowledgeService) -> None:
    """Two co-authors whose best passage is the same: one view naming both, by surname."""
    article = add(hashing_service, COAUTHORED, "Kuril fisheries accord", "2024-05",
                  "John Sample", "Jane Example")
    views = hashing_service.experts.compare(TOPIC, guild_id=None)
    assert names_of(views, article) == [("Jane Example", "John Sample")]
    assert_ordered_and_bounded(views, 1)
    assert all(len(v.experts) == 1 for v in views if v.hit.article.id != article)
    assert views[0].to_json()["experts"] == list(views[0].experts)


def test_distinct_passages_stay_separate_in_order_and_bounds(
        hashing_service: KnowledgeService) -> None:
    """A co-author whose best passage is in her own article has her own view; with two
    passages each, the shared one names both; order and the bound per expert are kept."""
    shared = add(hashing_service, COAUTHORED, "Kuril fisheries accord", "2024-05",
                 "Jane Example", "John Sample")
    solo = add(hashing_service, SOLO, "What the salmon quotas test", "2023-01", "Jane Example")
    experts = hashing_service.experts
    best = experts.compare(TOPIC, guild_id=None)
    assert names_of(best, solo) == [("Jane Example",)]
    assert names_of(best, shared) == [("John Sample",)]
    assert_ordered_and_bounded(best, 1)
    two = experts.compare(TOPIC, top_per_expert=2, guild_id=None)
    assert names_of(two, solo) == [("Jane Example",)]
    assert names_of(two, shared) == [("Jane Example", "John Sample")]
    assert_ordered_and_bounded(two, 2)
    assert len(two) <= 2 * len(experts.list(guild_id=None))

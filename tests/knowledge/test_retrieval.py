"""Retrieval: validation, the person filter, work off the event loop, score order."""

from __future__ import annotations

import asyncio
import threading

import pytest

from knowledge.errors import BadInput, NotFound
from knowledge.models import PartialDate
from knowledge.retrieval import SearchRequest
from knowledge.service import KnowledgeService


@pytest.mark.parametrize("query,error", [
    ("", BadInput), ("x" * 501, BadInput),
    ("\u200b \u202e\u2066 ", BadInput),  # nothing visible: empty, not "no good match"
])
def test_bad_queries_are_user_errors(hashing_service: KnowledgeService, query: str,
                                     error: type) -> None:
    """Empty (also when only invisible characters are typed) and overlong questions raise a
    user error, not a crash."""
    with pytest.raises(error):
        hashing_service.retriever.search(SearchRequest(query, guild_id=None))


def test_unknown_person_filter_is_not_found(hashing_service: KnowledgeService) -> None:
    """Filtering by a person nobody knows says so."""
    with pytest.raises(NotFound):
        hashing_service.retriever.search(SearchRequest("islands", person="Nobody Atall", guild_id=None))


def test_person_filter_matches_loosely(hashing_service: KnowledgeService) -> None:
    """'akiyama' finds Masahiro Akiyama's two articles and nothing else."""
    hits = hashing_service.retriever.search(SearchRequest("Russia Japan relations", top=10,
                                                     person="akiyama", guild_id=None))
    assert hits
    assert {h.article.title for h in hits} <= {
        "Russia-Japan Summit Could Improve Relations, but No Breakthrough Expected",
        "Japan’s Difficult Choices in Navigating Its Ties with Russia"}


def test_search_runs_off_the_event_loop(hashing_service: KnowledgeService) -> None:
    """`await service.run(service.search, ...)` does the work in a worker thread."""
    seen: list[int] = []
    original = hashing_service.retriever.search

    def spy(request, **kw):  # type: ignore[no-untyped-def]
        seen.append(threading.get_ident())
        return original(request, **kw)

    hashing_service.retriever.search = spy  # type: ignore[method-assign]
    asyncio.run(hashing_service.run(hashing_service.search, "islands", guild_id=None))
    assert seen and seen[0] != threading.get_ident()


def test_hits_are_ordered_by_their_score(real_service: KnowledgeService) -> None:
    """The shown score decreases down the list (it includes the repeat-article discount)."""
    hits = real_service.retriever.search(SearchRequest("expectations before the Moscow summit", 8, guild_id=None))
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_person_filter_takes_a_description(hashing_service: KnowledgeService) -> None:
    """--person accepts what the texts say of an expert ("the Kyoto professor" is Togo), through
    the same matcher questions are read with."""
    hits = hashing_service.retriever.search(SearchRequest("Russia Japan relations", top=10,
                                                          person="the Kyoto professor", guild_id=None))
    assert hits and {h.article.title for h in hits} == {
        "Can Japan and Russia achieve a genuine rapprochement?"}


def test_a_start_after_the_end_is_worded_for_any_front_end(
        hashing_service: KnowledgeService) -> None:
    """since after until: the refusal names both dates and no adapter's flag (--since)."""
    request = SearchRequest("sanctions", since=PartialDate.parse("2019"),
                            until=PartialDate.parse("2017-03"), guild_id=None)
    with pytest.raises(BadInput) as refused:
        hashing_service.retriever.search(request)
    assert str(refused.value) == "the start date (2019) is after the end date (Mar 2017)"

"""knowledge/service.py: what the adapters (bot, CLI) ask the facade for instead of reaching
into the retriever, the embedder or the corpus."""

from __future__ import annotations

import pytest

from knowledge.corpus import founding_metadata
from knowledge.errors import BadInput
from knowledge.service import KnowledgeService
from knowledge.store.tables import MAX_ROW_ID


def test_validate_question_tidies_and_refuses_as_search_does(
        hashing_service: KnowledgeService) -> None:
    """Whitespace and invisible characters go; an empty or overlong text is refused, named."""
    assert hashing_service.validate_question("  the \u200bsummit\n ") == "the summit"
    with pytest.raises(BadInput, match="the topic is empty"):
        hashing_service.validate_question(" \u202e ", what="topic")
    limit = hashing_service.settings.search_max_query_chars
    with pytest.raises(BadInput, match="question is too long"):
        hashing_service.validate_question("x" * (limit + 1))


def test_tidy_question_refuses_nothing() -> None:
    """A mention's text is tidied like a question but may be empty."""
    assert KnowledgeService.tidy_question("a\u200b  b") == "a b"
    assert KnowledgeService.tidy_question("\u2066 ") == ""


def test_founding_publishers_are_the_founding_corpus_publishers() -> None:
    """/help names the founding corpus's publishers, each once, sorted."""
    publishers = KnowledgeService.founding_publishers()
    assert publishers == sorted({m["publisher"] for m in founding_metadata() if m.get("publisher")})
    assert publishers


def test_warm_up_embeds(hashing_service: KnowledgeService) -> None:
    """warm_up runs the model once and returns nothing."""
    assert hashing_service.warm_up() is None


def test_max_article_id_is_the_largest_stored_id() -> None:
    """/article bounds its id option by the largest id a stored row can have."""
    assert KnowledgeService.max_article_id() == MAX_ROW_ID

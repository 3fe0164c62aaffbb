"""An article carries its passages' ids, so a cited passage (a Hit) can be found in its text."""

from __future__ import annotations

from knowledge.service import KnowledgeService


def test_a_hit_is_found_among_its_articles_passages(hashing_service: KnowledgeService) -> None:
    """get_article lists passage ids in order; a hit's passage_id points at its own text."""
    [hit] = hashing_service.search("the summit in Moscow", top=1, guild_id=None)
    article = hashing_service.get_article(hit.article.id, guild_id=None)
    assert len(article.passage_ids) == len(article.passages) > 1
    assert list(article.passage_ids) == sorted(article.passage_ids)
    assert article.passages[article.passage_ids.index(hit.passage_id)] == hit.passage

"""Who counts as an expert a viewer may see (matching a loosely written name to them is
`knowledge.retrieval.Retriever.match_experts`, over `knowledge.people.names.match_names`)."""

from __future__ import annotations

from sqlalchemy import Select, select

from knowledge.store.tables import ArticlePersonRow, ArticleRow, PersonRow
from knowledge.visibility import visible

# Relations that make a person an expert of the library (politicians discussed are "subjects").
EXPERT_RELATIONS = ("author", "interviewed", "quoted")


def expert_links(guild_id: int | None) -> Select[PersonRow, ArticlePersonRow, ArticleRow]:
    """What makes someone an expert a viewer may see: a person of kind "expert" who wrote, was
    interviewed or was quoted in an article the viewer may see (knowledge/visibility.py), as
    (person, link, article) rows. The one rule behind the expert list, /help's count, matching
    names and the question reader's people."""
    return (select(PersonRow, ArticlePersonRow, ArticleRow)
            .join(ArticlePersonRow, ArticlePersonRow.person_id == PersonRow.id)
            .join(ArticleRow, ArticleRow.id == ArticlePersonRow.article_id)
            .where(PersonRow.kind == "expert", ArticlePersonRow.relation.in_(EXPERT_RELATIONS),
                   visible(ArticleRow.id, guild_id)))


def expert_ids(guild_id: int | None) -> Select[int]:
    """The ids of the experts the viewer may see (`expert_links`), each once."""
    return expert_links(guild_id).with_only_columns(PersonRow.id).distinct()

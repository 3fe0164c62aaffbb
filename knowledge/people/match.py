"""The stored experts a loosely written name denotes (the matching itself is
`knowledge.people.names.match_names`, the one person-name matcher)."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from knowledge.errors import BadInput
from knowledge.people.names import match_names, name_tokens
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


def match_experts(session: Session, name: str, guild_id: int | None = None) -> list[PersonRow]:
    """The experts the viewer may see that best match a loosely written name, by name; []
    when nobody matches (another server's experts are not candidates: an ambiguity must not
    name them)."""
    if not name_tokens(name):
        raise BadInput("the expert's name is empty")
    people = {p.id: p for p in session.scalars(
        select(PersonRow).where(PersonRow.id.in_(expert_ids(guild_id))))}
    ids = match_names(name, ((p.id, p.name) for p in people.values()))
    return sorted((people[i] for i in ids), key=lambda p: p.name)

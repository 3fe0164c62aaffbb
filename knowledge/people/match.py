"""The stored experts a loosely written name denotes (the matching itself is
`knowledge.people.names.match_names`, the one person-name matcher)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.errors import BadInput
from knowledge.people.names import match_names, name_tokens
from knowledge.store.tables import ArticlePersonRow, PersonRow

# Relations that make a person an expert of the library (politicians discussed are "subjects").
EXPERT_RELATIONS = ("author", "interviewed", "quoted")


def match_experts(session: Session, name: str) -> list[PersonRow]:
    """The experts that best match a loosely written name, by name; [] when nobody matches."""
    if not name_tokens(name):
        raise BadInput("the expert's name is empty")
    people = {p.id: p for p in session.scalars(
        select(PersonRow).where(PersonRow.kind == "expert", PersonRow.id.in_(
            select(ArticlePersonRow.person_id).where(ArticlePersonRow.relation.in_(EXPERT_RELATIONS)))))}
    ids = match_names(name, ((p.id, p.name) for p in people.values()))
    return sorted((people[i] for i in ids), key=lambda p: p.name)

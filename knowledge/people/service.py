"""service.experts: the experts in the library, their passages, and their views side by side."""

from __future__ import annotations

import builtins
import datetime as dt
import logging
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.errors import BadInput, NotFound
from knowledge.library import Library
from knowledge.models import Expert, ExpertArticle, ExpertView, Hit, PartialDate
from knowledge.people.match import expert_links
from knowledge.people.names import canonical_person_key
from knowledge.retrieval import Retriever, SearchRequest, unranked_hits
from knowledge.store import queries
from knowledge.store.tables import (
    ArticlePersonRow,
    ArticleRow,
    PassagePersonRow,
    PassageRow,
    PersonRow,
)
from knowledge.text.clean import echo
from knowledge.visibility import visible

log = logging.getLogger(__name__)

MAX_TOP_PER_EXPERT = 10  # passages per expert in a comparison


def _newest_first(date: PartialDate | None) -> int:
    """Sort key: newest publication first, undated last."""
    return -(date.start if date else dt.date.min).toordinal()


def _oldest_first(date: PartialDate | None) -> int:
    """Sort key: oldest publication first, undated last."""
    return (date.start if date else dt.date.max).toordinal()


class ExpertsService:
    """Experts (authors, interviewees, quoted specialists; never the politicians discussed)."""

    def __init__(self, library: Library, retriever: Retriever) -> None:
        self.library = library
        self.retriever = retriever

    # ----- reading -----------------------------------------------------------------------------
    def _experts(self, session: Session, person_ids: Iterable[int] | None, *,
                 guild_id: int | None) -> list[Expert]:
        """Experts with the articles ``guild_id`` may see (knowledge/visibility.py); an expert
        with none is left out."""
        stmt = expert_links(guild_id)
        if person_ids is not None:
            stmt = stmt.where(PersonRow.id.in_(list(person_ids)))
        by_person: dict[int, list[tuple[ArticlePersonRow, ArticleRow]]] = {}
        people: dict[int, PersonRow] = {}
        for person, link, article in session.execute(stmt):
            people[person.id] = person
            by_person.setdefault(person.id, []).append((link, article))
        experts = [self._expert(people[pid], links) for pid, links in by_person.items()]
        return sorted(experts, key=lambda e: (canonical_person_key(e.name).split()[-1:],
                                              e.name.casefold()))

    @staticmethod
    def _expert(person: PersonRow, links: list[tuple[ArticlePersonRow, ArticleRow]]) -> Expert:
        """One expert, their articles newest first, and every role the texts give them."""
        links = sorted(links, key=lambda la: (_newest_first(queries.published_date(la[1])), la[1].id))
        key = canonical_person_key(person.name)
        roles: list[str] = []
        articles = []
        for link, article in links:
            stated = [link.role] if link.role else []
            for record in (article.extra or {}).get("people", []):
                if canonical_person_key(record.get("name", "")) == key:
                    stated += [r for r in record.get("roles", []) if r]
            roles += stated
            articles.append(ExpertArticle(article.id, article.title, link.relation,  # type: ignore[arg-type]
                                          link.role, queries.published_date(article), article.publisher))
        return Expert(person.id, person.name, tuple(dict.fromkeys(roles)), tuple(articles))

    def list(self, *, guild_id: int | None) -> builtins.list[Expert]:
        """Every expert with their articles and roles, by surname (as ``guild_id`` sees them)."""
        with self.library.read() as session:
            return self._experts(session, None, guild_id=guild_id)

    def get(self, name: str, *, guild_id: int | None) -> Expert:
        """One expert by a loosely written name or a description (`Retriever.match_experts`,
        the matcher of the expert filter too); NotFound with a hint when nobody or several
        fit, or none of their articles is visible to ``guild_id``."""
        people = self.retriever.match_experts(name, guild_id)
        if len(people) > 1:
            names = ", ".join(p.name for p in people)
            raise NotFound(f"“{echo(name)}” matches several experts ({names}); give more of "
                           f"the name")
        with self.library.read() as session:
            found = self._experts(session, [people[0].expert_id], guild_id=guild_id)
        if not found:
            raise NotFound(f"no expert matches “{echo(name)}”", listing="experts")
        return found[0]

    def passage_ids(self, expert_id: int, *, guild_id: int | None
                    ) -> builtins.list[int]:
        """The passages carrying an expert's words (in articles ``guild_id`` may see), newest
        article first, in text order."""
        with self.library.read() as session:
            rows = list(session.execute(
                select(PassageRow.id, ArticleRow.published_start, PassageRow.ordinal)
                .join(PassagePersonRow, PassagePersonRow.passage_id == PassageRow.id)
                .join(ArticleRow, ArticleRow.id == PassageRow.article_id)
                .where(PassagePersonRow.person_id == expert_id,
                       visible(ArticleRow.id, guild_id))))
        rows.sort(key=lambda r: (-(r[1] or dt.date.min).toordinal(), r[2]))
        return [r[0] for r in rows]

    def _search(self, topic: str, passage_ids: builtins.list[int], top: int,
                guild_id: int | None) -> builtins.list[Hit]:
        return self.retriever.search_within(SearchRequest(topic, top, guild_id=guild_id),
                                            passage_ids)

    def views(self, name: str, topic: str | None = None, top: int = 5, *,
              guild_id: int | None) -> tuple[Expert, builtins.list[Hit]]:
        """An expert and their passages (those ``guild_id`` may see): on a topic (ranked; []
        when none matches) or, without one, their passages newest first."""
        if not 1 <= top <= 50:
            raise BadInput("top must be between 1 and 50")
        expert = self.get(name, guild_id=guild_id)
        pids = self.passage_ids(expert.id, guild_id=guild_id)
        if topic is not None and topic.strip():
            return expert, self._search(topic, pids, top, guild_id)
        with self.library.read() as session:
            return expert, unranked_hits(session, pids[:top])

    def compare(self, topic: str, top_per_expert: int = 1, *, guild_id: int | None
                ) -> builtins.list[ExpertView]:
        """Each expert's best passage(s) on a topic, oldest article first so that views read as
        they developed; experts with no matching passage are left out. A passage that is the
        best of several experts (co-authors of one article) is one view naming them all, so
        there are at most `top_per_expert` views per expert. The topic is embedded once for
        every expert (Retriever.embed_query)."""
        topic = self.retriever.validate(topic, "topic")
        if not 1 <= top_per_expert <= MAX_TOP_PER_EXPERT:
            raise BadInput(f"passages per expert must be between 1 and {MAX_TOP_PER_EXPERT}")
        found: builtins.list[tuple[int, str, Hit]] = []  # (place in the expert list, name, hit)
        for place, expert in enumerate(self.list(guild_id=guild_id)):
            for hit in self._search(topic, self.passage_ids(expert.id, guild_id=guild_id),
                                    top_per_expert, guild_id):
                found.append((place, expert.name, hit))
        found.sort(key=lambda f: (_oldest_first(f[2].article.published), -f[2].score))
        # A passage's view takes the place (and the hit) of its best-ranked copy: each expert's
        # search scores it within their own passages, so the copies' scores may differ.
        shared: dict[int, tuple[Hit, builtins.list[tuple[int, str]]]] = {}
        for place, name, hit in found:
            shared.setdefault(hit.passage_id, (hit, []))[1].append((place, name))
        return [ExpertView(tuple(name for _, name in sorted(names)), hit)
                for hit, names in shared.values()]

    def autocomplete(self, prefix: str, limit: int = 25, *, guild_id: int | None
                     ) -> builtins.list[str]:
        """Expert names ``guild_id`` may see whose name or any part of it starts with what was
        typed."""
        typed = prefix.strip().casefold()
        folded = canonical_person_key(prefix)
        names = [e.name for e in self.list(guild_id=guild_id)]
        if not typed:
            return names[:limit]

        def rank(name: str) -> int | None:
            if name.casefold().startswith(typed):
                return 0
            words = name.casefold().split() + canonical_person_key(name).split()
            if any(w.startswith(typed) for w in words) or (
                    folded and any(w.startswith(folded) for w in words)):
                return 1
            return None

        ranked = [(r, n) for n in names if (r := rank(n)) is not None]
        return [n for _, n in sorted(ranked, key=lambda rn: rn[0])][:limit]

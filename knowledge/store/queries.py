"""Queries several features share: article rows as plain summaries, passages for the index,
people get-or-create, key-value state. Each feature keeps its own queries beside its service
(`people/service.py`, `meetings/stored.py`, `sources/records.py`, `sources/polling.py`,
`digests/service.py`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from knowledge.index.types import IndexedPassage
from knowledge.models import ArticleSummary, Contributor, PartialDate
from knowledge.people.names import canonical_person_key
from knowledge.store.tables import (
    ArticlePersonRow,
    ArticleRow,
    IndexStateRow,
    PassageRow,
    PersonRow,
)


def get_or_create_person(session: Session, name: str, kind: str = "expert") -> PersonRow:
    """The person row for a name, created on first sight."""
    key = canonical_person_key(name)  # the merge key stored in people.key
    person = session.scalar(select(PersonRow).where(PersonRow.key == key))
    if person is None:
        person = PersonRow(name=name, key=key, kind=kind)
        session.add(person)
        session.flush()
    return person


def _contributors(session: Session, article_ids: Iterable[int] | None
                  ) -> dict[int, list[Contributor]]:
    """Each article's expert contributors in stored order (every article's when ids is None)."""
    out: dict[int, list[Contributor]] = defaultdict(list)
    stmt = (select(ArticlePersonRow.article_id, PersonRow.name, ArticlePersonRow.relation,
                   ArticlePersonRow.role)
            .join(PersonRow, PersonRow.id == ArticlePersonRow.person_id)
            .where(PersonRow.kind == "expert").order_by(ArticlePersonRow.id))
    if article_ids is not None:
        ids = list(article_ids)
        if not ids:
            return out
        stmt = stmt.where(ArticlePersonRow.article_id.in_(ids))
    rows = session.execute(stmt)
    for article_id, name, relation, role in rows:
        out[article_id].append(Contributor(name=name, relation=relation, role=role))  # type: ignore[arg-type]
    return out


def _period(iso: str | None, precision: str | None) -> PartialDate | None:
    return PartialDate(iso, precision) if iso and precision else None  # type: ignore[arg-type]


def published_date(row: ArticleRow) -> PartialDate | None:
    """An article row's publication date (None when undated)."""
    return _period(row.published_iso, row.published_precision)


# The columns a summary is made of, in `_summary`'s order.
SUMMARY_COLUMNS = (ArticleRow.id, ArticleRow.title, ArticleRow.publisher, ArticleRow.published_iso,
                   ArticleRow.published_precision, ArticleRow.url, ArticleRow.language,
                   ArticleRow.added_at, ArticleRow.source_id)


def _summary(columns: Sequence[Any], contributors: Sequence[Contributor], passages: int
             ) -> ArticleSummary:
    aid, title, publisher, iso, precision, url, language, added_at, source_id = columns
    return ArticleSummary(
        id=aid, title=title, publisher=publisher, published=_period(iso, precision), url=url,
        language=language, contributors=tuple(contributors), added_at=added_at,
        passages=passages, source_id=source_id)


def article_summaries(session: Session, ids: Iterable[int] | None = None
                      ) -> dict[int, ArticleSummary]:
    """Summaries of the given articles (all when ids is None), keyed by id."""
    # Columns, not ORM objects: only what a summary holds (not every article's text), and
    # without an identity-map entry per row (the index load reads every article: at 12,500
    # articles ~0.75 s with ORM rows and IN lists, ~0.15 s this way).
    stmt = select(*SUMMARY_COLUMNS)
    counted = select(PassageRow.article_id, func.count()).group_by(PassageRow.article_id)
    id_list: list[int] | None = None
    if ids is not None:
        id_list = list(ids)
        if not id_list:
            return {}
        stmt = stmt.where(ArticleRow.id.in_(id_list))
        counted = counted.where(PassageRow.article_id.in_(id_list))
    rows = session.execute(stmt).all()
    if not rows:
        return {}
    counts = dict(session.execute(counted).all())
    people = _contributors(session, id_list)
    return {row[0]: _summary(row, people.get(row[0], []), counts.get(row[0], 0))
            for row in rows}


def iter_passages(session: Session, after_id: int = 0, batch: int = 5000
                  ) -> Iterator[list[IndexedPassage]]:
    """Stored passages with their vectors, in id order, in batches, after a given id."""
    last = after_id
    while True:
        rows = session.execute(
            select(PassageRow.id, PassageRow.article_id, PassageRow.text, PassageRow.embedding,
                   PassageRow.sentence_spans, PassageRow.sentence_embeddings)
            .where(PassageRow.id > last).order_by(PassageRow.id).limit(batch)
        ).all()
        if not rows:
            return
        out = []
        for pid, aid, text, vec, spans, sent in rows:
            vector = np.frombuffer(vec, dtype=np.float32)
            sentences = np.frombuffer(sent, dtype=np.float16).reshape(-1, len(vector))
            out.append(IndexedPassage(pid, aid, text, vector,
                                      tuple((a, b) for a, b in spans), sentences))
        yield out
        last = rows[-1][0]


def get_state(session: Session, key: str) -> str | None:
    """A value from the index_state table."""
    row = session.get(IndexStateRow, key)
    return row.value if row else None


def set_state(session: Session, key: str, value: str) -> None:
    """Store a value in the index_state table."""
    row = session.get(IndexStateRow, key)
    if row is None:
        session.add(IndexStateRow(key=key, value=value))
    else:
        row.value = value


# index_state keys: the highest article and passage ids ever stored, kept when a delete takes
# away the highest one. SQLite hands the highest id again to the next row otherwise (a table
# without AUTOINCREMENT takes max(id) + 1), and a reused id is a different article behind an
# old /article link or Read button, and a passage other processes' indexes think they hold.
ARTICLE_ID_HIGH_WATER = "article_id_high_water"
PASSAGE_ID_HIGH_WATER = "passage_id_high_water"


def keep_high_water(session: Session) -> None:
    """Before a delete: remember the highest article and passage ids so far (never lowered)."""
    for key, column in ((ARTICLE_ID_HIGH_WATER, ArticleRow.id),
                        (PASSAGE_ID_HIGH_WATER, PassageRow.id)):
        highest = max(session.scalar(select(func.max(column))) or 0,
                      int(get_state(session, key) or 0))
        if highest:
            set_state(session, key, str(highest))


def next_ids(session: Session) -> tuple[int, int] | None:
    """On SQLite, after a delete took the highest ids: the first article and passage ids a new
    article must take so that no id is handed out twice (None: the database's own ids are new,
    always so on PostgreSQL, whose sequences never go back)."""
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return None
    article_mark = int(get_state(session, ARTICLE_ID_HIGH_WATER) or 0)
    passage_mark = int(get_state(session, PASSAGE_ID_HIGH_WATER) or 0)
    if not article_mark and not passage_mark:
        return None
    return (max(session.scalar(select(func.max(ArticleRow.id))) or 0, article_mark) + 1,
            max(session.scalar(select(func.max(PassageRow.id))) or 0, passage_mark) + 1)

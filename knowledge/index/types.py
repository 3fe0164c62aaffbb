"""The in-memory index's value types: what it stores (`IndexedPassage`), what a search is
asked (`Filters`, `Evidence` and its `Boost`s, `NoMatchRule`, `NamesCheck`, `Browse`) and what
it returns (`RankedPassage`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import numpy as np


@dataclasses.dataclass(frozen=True, slots=True)
class IndexedPassage:
    """What the index needs to know about one stored passage."""

    passage_id: int
    article_id: int
    text: str
    embedding: np.ndarray
    sentence_spans: tuple[tuple[int, int], ...]
    sentence_embeddings: np.ndarray  # (n_sentences, dim), stored as float16


@dataclasses.dataclass(frozen=True, slots=True)
class Filters:
    """Restrictions on which passages may be returned."""

    article_ids: frozenset[int] | None = None
    passage_ids: frozenset[int] | None = None
    publisher: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    # Whose view (knowledge/visibility.py): None every article, else a guild id whose reach,
    # with the operator's library, may be returned (0: the operator's library alone).
    visible_to: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Boost:
    """One reading of the question as ranking evidence: the passages it fits and how strongly.

    A passage fits when its id is in ``passage_ids``, its article in ``article_ids``, or its
    article's publication period overlaps ``window``, and, with ``published``, its article's
    publication period lies within that span ("before the summit": commentary written before
    it; an article dated "April 2017" is not surely before 27 April);
    ``label`` names the signal in `why`."""

    label: str
    weight: float  # 0..1
    passage_ids: frozenset[int] = frozenset()
    article_ids: frozenset[int] = frozenset()
    window: tuple[dt.date, dt.date] | None = None
    published: tuple[dt.date, dt.date] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Evidence:
    """Everything read from a question, as boosts; per passage the strongest boost of each
    ``group`` counts (so the same expert's article and passage do not add up twice)."""

    boosts: tuple[tuple[str, Boost], ...] = ()  # (group, boost)

    def __bool__(self) -> bool:
        return bool(self.boosts)


@dataclasses.dataclass(frozen=True, slots=True)
class NoMatchRule:
    """When a question has no good match: best passage cosine below `threshold`, unless it is
    above `lexical_floor` and its best BM25 passage holds `coverage` of its idf mass.

    And when the names a question carries are what matches ("weather in Tokyo" is close to a
    passage on Tokyo and Moscow because of "Tokyo"): below `names_ceiling`, a question most
    of whose other words the library never uses must have a cosine with its best passage
    exceeding its names' alone ("Tokyo") by `names_margin`."""

    threshold: float
    lexical_floor: float
    coverage: float
    names_margin: float = 0.0
    names_ceiling: float = -1.0


@dataclasses.dataclass(frozen=True, slots=True)
class NamesCheck:
    """The names a question carries, for `NoMatchRule`'s names check: the words it says
    besides them (stems) and the names' own vector, embedded only if the check needs it."""

    rest: tuple[str, ...]
    vector: Callable[[], np.ndarray]


@dataclasses.dataclass(frozen=True, slots=True)
class Browse:
    """A question that may ask only for what its reading names ("What was written in March
    2017?", "Commentary from spring 2017"): `words`, the stems of the reading (its expert,
    period and meeting) and of the words that ask for commentary (`request_stems`). Such a
    question carries no topic words to match, so its cosine is low; when it says nothing
    else, it is answered with the passages the reading fits instead of "no good match".
    `dated`: a period was read, so the question's numbers belong to it ("Q1 2017", "on 22
    January 2019", "2017/18")."""

    words: frozenset[str]
    dated: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class RankedPassage:
    """A passage chosen by the ranker, before it is turned into a `Hit`."""

    passage_id: int
    article_id: int
    text: str
    highlight: str
    score: float
    dense: float
    bm25: float
    why: tuple[str, ...] = ()

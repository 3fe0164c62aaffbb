"""Plain data that crosses the door between the library and its users (CLI, bot, tests).

Never ORM rows, never Discord objects: frozen dataclasses with a ``to_json`` where the CLI
prints them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Literal

DatePrecision = Literal["day", "month", "year"]
Relation = Literal["author", "interviewed", "quoted"]


@dataclasses.dataclass(frozen=True, slots=True)
class PartialDate:
    """A publication or meeting date known to a day, a month or a year."""

    iso: str  # "2017-04-27", "2017-04" or "2017"
    precision: DatePrecision

    @property
    def start(self) -> dt.date:
        """First day of the period the date covers."""
        parts = [int(p) for p in self.iso.split("-")]
        return dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)

    @property
    def end(self) -> dt.date:
        """Last day of the period the date covers."""
        start = self.start
        if self.precision == "day":
            return start
        if self.precision == "month":
            nxt = dt.date(start.year + (start.month == 12), start.month % 12 + 1, 1)
            return nxt - dt.timedelta(days=1)
        return dt.date(start.year, 12, 31)

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        """Parse ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; raise ValueError otherwise."""
        text = text.strip()
        parts = text.split("-")
        if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
            raise ValueError(f"not a date: {text!r} (use YYYY, YYYY-MM or YYYY-MM-DD)")
        precision: DatePrecision = ("year", "month", "day")[len(parts) - 1]  # type: ignore[assignment]
        normalised = "-".join([parts[0], *[p.zfill(2) for p in parts[1:]]])
        date = cls(normalised, precision)
        date.start  # noqa: B018 - validates month/day ranges
        return date

    def __str__(self) -> str:
        return self.iso


@dataclasses.dataclass(frozen=True, slots=True)
class Contributor:
    """A person linked to an article, with the role the text gives them there."""

    name: str
    relation: Relation
    role: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class ArticleSummary:
    """An article's metadata, without its text."""

    id: int
    title: str
    publisher: str | None
    published: PartialDate | None
    url: str | None
    language: str
    contributors: tuple[Contributor, ...]
    added_at: dt.datetime
    passages: int = 0
    source_id: int | None = None

    @property
    def authors(self) -> list[str]:
        """Names of the people who wrote the article."""
        return [c.name for c in self.contributors if c.relation == "author"]

    @property
    def experts(self) -> list[str]:
        """Names of the experts whose views the article carries (authors and interviewees)."""
        return [c.name for c in self.contributors if c.relation in ("author", "interviewed")]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (CLI contract)."""
        return {
            "article_id": self.id,
            "title": self.title,
            "publisher": self.publisher,
            "authors": self.authors,
            "contributors": [dataclasses.asdict(c) for c in self.contributors],
            "published": self.published.iso if self.published else None,
            "published_precision": self.published.precision if self.published else None,
            "url": self.url,
            "language": self.language,
            "passages": self.passages,
            "added_at": self.added_at.isoformat(),
            "source_id": self.source_id,
        }


@dataclasses.dataclass(frozen=True, slots=True)
class Article:
    """An article with its indexed (cleaned) text and the original text it came from."""

    summary: ArticleSummary
    text: str
    original_text: str
    passages: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (CLI contract)."""
        return {**self.summary.to_json(), "text": self.text, "original_text": self.original_text,
                "passage_texts": list(self.passages)}


@dataclasses.dataclass(frozen=True, slots=True)
class Hit:
    """One ranked passage: the text, its best sentence, where it comes from and how well it matched."""

    passage_id: int
    article: ArticleSummary
    passage: str
    highlight: str
    score: float
    dense_score: float
    bm25_score: float

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict; the keys are the CLI's contract."""
        a = self.article
        return {
            "article_id": a.id,
            "passage_id": self.passage_id,
            "title": a.title,
            "publisher": a.publisher,
            "authors": a.authors,
            "experts": a.experts,
            "published": a.published.iso if a.published else None,
            "url": a.url,
            "passage": self.passage,
            "highlight": self.highlight,
            "score": round(self.score, 6),
            "dense_score": round(self.dense_score, 6),
            "bm25_score": round(self.bm25_score, 6),
        }


@dataclasses.dataclass(frozen=True, slots=True)
class AddResult:
    """Outcome of adding one input: what was stored, or why nothing was."""

    input: str
    status: Literal["added", "duplicate", "error"]
    message: str
    article_id: int | None = None
    title: str | None = None
    passages: int = 0

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (CLI contract for ``add --json``)."""
        return dataclasses.asdict(self)

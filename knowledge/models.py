"""Plain data that crosses the door between the library and its users (CLI, bot, tests).

Never ORM rows, never Discord objects: frozen dataclasses with a ``to_json`` where the CLI
prints them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Literal

from knowledge.text.months import MONTH_ABBREVIATIONS

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

    def display(self, end: dt.date | None = None) -> str:
        """The one way dates are shown to people: "27 Apr 2017", "Apr 2017", "2017", and with
        a last day "15–16 Dec 2016" or "30 Nov – 2 Dec 2016"."""
        start = self.start
        if self.precision == "year":
            return str(start.year)
        if self.precision == "month":
            return f"{MONTH_ABBREVIATIONS[start.month - 1]} {start.year}"
        month = MONTH_ABBREVIATIONS[start.month - 1]
        if end and end != start:
            last = MONTH_ABBREVIATIONS[end.month - 1]
            if (end.year, end.month) == (start.year, start.month):
                return f"{start.day}–{end.day} {month} {start.year}"
            return f"{start.day} {month} – {end.day} {last} {end.year}"
        return f"{start.day} {month} {start.year}"

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
    passage_ids: tuple[int, ...] = ()  # the id of each passage, in order (a Hit's passage_id)
    # Where each passage starts in `text` (passages overlap by a sentence, and several may
    # open with the same words: their position, not their words, places them).
    passage_starts: tuple[int, ...] = ()

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
    why: tuple[str, ...] = ()  # the signals that ranked it ("meaning #1", "by <expert>")

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
            "why": list(self.why),
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
    # A duplicate the adder's server did not have: the source it got now (it gained the
    # article), else None.
    adopted_source: int | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (CLI contract for ``add --json``, whose keys it keeps)."""
        out = dataclasses.asdict(self)
        del out["adopted_source"]  # in the message ("now yours too, as source #N")
        return out


# ----- experts and meetings (knowledge/people, knowledge/meetings) -----------------------------
@dataclasses.dataclass(frozen=True, slots=True)
class ExpertArticle:
    """One article an expert is linked to, and how."""

    article_id: int
    title: str
    relation: Relation
    role: str | None
    published: PartialDate | None
    publisher: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class Expert:
    """A person whose views the library carries, with every role the texts give them."""

    id: int
    name: str
    roles: tuple[str, ...]
    articles: tuple[ExpertArticle, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict; `name`, `roles`, `articles` are the CLI's contract."""
        return {
            "id": self.id, "name": self.name, "roles": list(self.roles),
            "articles": [{"article_id": a.article_id, "title": a.title, "relation": a.relation,
                          "role": a.role,
                          "published": a.published.iso if a.published else None,
                          "publisher": a.publisher} for a in self.articles],
        }


@dataclasses.dataclass(frozen=True, slots=True)
class Meeting:
    """A summit, visit or ministerial meeting from the registry (or a confirmed proposal)."""

    id: str
    name: str
    date: PartialDate | None
    date_end: dt.date | None
    place: str | None
    kind: str
    ordinal: int | None
    participants: tuple[str, ...]
    description: str | None
    article_ids: tuple[int, ...] = ()
    passages: int = 0
    experts: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict; keys are the CLI's contract."""
        return {
            "id": self.id, "name": self.name,
            "date": self.date.iso if self.date else None,
            "date_precision": self.date.precision if self.date else None,
            "date_end": self.date_end.isoformat() if self.date_end else None,
            "place": self.place, "kind": self.kind, "ordinal": self.ordinal,
            "participants": list(self.participants), "description": self.description,
            "articles": list(self.article_ids), "passages": self.passages,
            "experts": list(self.experts),
        }


@dataclasses.dataclass(frozen=True, slots=True)
class MeetingCommentary:
    """What was said about a meeting: expectations before it, assessments after it, and the
    linked passages of articles that cannot be placed on either side (undated, no cue)."""

    meeting: Meeting
    before: tuple[Hit, ...]
    after: tuple[Hit, ...]
    unplaced: tuple[Hit, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict; `before`, `after` and `unplaced` are lists of hit objects."""
        return {**self.meeting.to_json(), "before": [h.to_json() for h in self.before],
                "after": [h.to_json() for h in self.after],
                "unplaced": [h.to_json() for h in self.unplaced]}


@dataclasses.dataclass(frozen=True, slots=True)
class ExpertView:
    """One passage on a topic and every expert whose best passage it is (a section of
    /compare): co-authors of one article often share theirs, and it is shown once."""

    experts: tuple[str, ...]  # names, in the expert list's order (by surname)
    hit: Hit

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (CLI contract: `experts`, a list of names, and `hit`)."""
        return {"experts": list(self.experts), "hit": self.hit.to_json()}


# ----- sources and digests (knowledge/sources, knowledge/digests) -------------------------------
@dataclasses.dataclass(frozen=True, slots=True)
class SourceStatus:
    """A source as `/source status` shows it."""

    id: int
    kind: str  # seed | file | article | feed
    url: str | None
    title: str | None
    active: bool
    articles: int
    last_fetch_at: dt.datetime | None
    last_new_article_at: dt.datetime | None
    last_error: str | None
    failing: bool
    next_poll_at: dt.datetime | None
    # The last fetch that worked (last_fetch_at is the last attempt, failed ones included).
    last_success_at: dt.datetime | None = None

    @property
    def last_fetch_failed(self) -> bool:
        """Whether the last attempt failed (then its time is not the last success's)."""
        return self.last_fetch_at is not None and self.last_fetch_at != self.last_success_at

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        out = dataclasses.asdict(self)
        for key in ("last_fetch_at", "last_new_article_at", "next_poll_at", "last_success_at"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


@dataclasses.dataclass(frozen=True, slots=True)
class DigestItem:
    """One new article in a digest."""

    article_id: int
    title: str
    publisher: str | None
    experts: tuple[str, ...]
    published: PartialDate | None
    extract: str  # one or two sentences
    url: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class DigestSection:
    """Articles grouped under one meeting or theme."""

    heading: str
    items: tuple[DigestItem, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Digest:
    """The articles added in one period, grouped; empty when nothing is new."""

    period_start: dt.datetime
    period_end: dt.datetime
    sections: tuple[DigestSection, ...]
    run_id: int | None = None

    @property
    def empty(self) -> bool:
        """Whether nothing is new."""
        return not any(s.items for s in self.sections)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "run_id": self.run_id,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "sections": [{"heading": s.heading, "items": [
                {"article_id": i.article_id, "title": i.title, "publisher": i.publisher,
                 "experts": list(i.experts), "published": i.published.iso if i.published else None,
                 "extract": i.extract, "url": i.url} for i in s.items]} for s in self.sections],
        }


# ----- per-server settings (knowledge/guilds.py) ------------------------------------------------
@dataclasses.dataclass(frozen=True, slots=True)
class GuildConfig:
    """What one server's admins chose; None means the deployment's setting applies."""

    guild_id: int
    admin_role: str | None = None
    ask_cooldown_rate: int | None = None
    ask_cooldown_seconds: float | None = None
    timezone: str | None = None
    alert_channel_id: int | None = None

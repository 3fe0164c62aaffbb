"""The founding texts with their curated dates, split into paragraphs (shared by the meeting and
people tests)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from knowledge.corpus import FOUNDING_DIR, founding_metadata
from knowledge.models import PartialDate


@dataclasses.dataclass(frozen=True)
class FoundingText:
    """One founding article: its text, title, publication period and paragraphs."""

    text: str
    title: str
    published: tuple[dt.date, dt.date]
    paragraphs: tuple[str, ...]


def load_founding() -> dict[str, FoundingText]:
    """The five founding texts keyed "000".."004"."""
    out = {}
    for meta in founding_metadata():
        text = (FOUNDING_DIR / meta["file"]).read_text(encoding="utf-8")
        published = PartialDate.parse(meta["published"])
        paragraphs = tuple(p.strip() for p in text.split("\n\n") if p.strip())
        out[meta["slug"][:3]] = FoundingText(text, meta["title"],
                                             (published.start, published.end), paragraphs)
    return out

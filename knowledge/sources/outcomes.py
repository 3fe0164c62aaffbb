"""Plain results of source work: what one feed poll did, and what a feed's entries gave."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

PollStatus = Literal["new", "unchanged", "not_modified", "failed", "busy"]


@dataclasses.dataclass(frozen=True, slots=True)
class PollOutcome:
    """What polling one feed did: new articles, entries seen again, or why it failed.

    ``busy``: another process holds the feed's lease, so this one left it alone.
    """

    source_id: int
    url: str | None
    status: PollStatus
    new_article_ids: tuple[int, ...] = ()
    seen_again: int = 0  # known entries that came back edited, or duplicates of stored articles
    unreadable: int = 0  # entries whose text could not be read this time
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (CLI contract for ``poll --json``)."""
        out = dataclasses.asdict(self)
        out["new_article_ids"] = list(self.new_article_ids)
        return out


@dataclasses.dataclass
class EntryTally:
    """Running count of what happened to a feed's entries in one add or poll."""

    added: list[int] = dataclasses.field(default_factory=list)
    announced: int = 0
    seen_again: int = 0
    errors: list[str] = dataclasses.field(default_factory=list)
    passages: int = 0
    postponed: int = 0  # entries whose pages wait for the next poll (the poll's deadline)

    def summary(self) -> str:
        """'2 new articles, 1 already in the library, 1 could not be read'."""
        parts = [f"{len(self.added)} new article{'' if len(self.added) == 1 else 's'}"]
        if self.seen_again:
            parts.append(f"{self.seen_again} already in the library")
        if self.errors:
            parts.append(f"{len(self.errors)} could not be read ({self.errors[0]})")
        if self.postponed:
            parts.append(f"{self.postponed} left for the next poll (this one ran out of time)")
        return ", ".join(parts)

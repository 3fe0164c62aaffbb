"""`PersonMention`: an expert an article names, as the extractor found them (shared by the
extractor and the passage-voice check, so neither imports the other)."""

from __future__ import annotations

import dataclasses
from typing import Literal

from knowledge.models import Contributor, Relation

Voice = Literal["whole", "attributed"]


@dataclasses.dataclass(frozen=True, slots=True)
class PersonMention:
    """An expert an article names, how they relate to it, and the role the text gives them.

    ``voice`` says which passages carry their words: "whole" (every passage of their own
    article or comment piece) or "attributed" (only passages that attribute words to them).
    """

    name: str
    relation: Relation
    role: str | None
    evidence: str
    other_roles: tuple[str, ...] = ()
    voice: Voice = "attributed"

    def to_contributor(self) -> Contributor:
        """The plain contributor record stored with an article."""
        return Contributor(self.name, self.relation, self.role)

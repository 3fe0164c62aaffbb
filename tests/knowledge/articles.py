"""A small article outside the founding corpus, and a row counter, for library-level tests."""

from __future__ import annotations

from sqlalchemy import func, select

from knowledge.service import KnowledgeService

NEW_ARTICLE = """# Arctic shipping after the thaw

The Northern Sea Route has become a test of whether commercial shipping can adapt to ice that
melts earlier each summer. Operators report that insurance costs remain the main obstacle.

Ports along the route need dredging and icebreaker escorts remain scarce. Analysts expect
traffic to grow slowly rather than in a sudden boom, as cargo owners wait for reliability.
"""


def count_rows(service: KnowledgeService, table: type) -> int:
    """How many rows a table holds."""
    with service.library.read() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0

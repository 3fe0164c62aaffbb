"""A small article outside the founding corpus, a row counter, and an embedded library holding
that article, for library-level tests."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select

from knowledge.embedding import HashingEmbedder
from knowledge.service import KnowledgeService
from knowledge.settings import Settings

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


def sqlite_library(data_dir: Path, *, added: bool) -> Path:
    """DATA_DIR's embedded library: the founding articles, and one more if `added`."""
    service = KnowledgeService.open(Settings(data_dir=data_dir, _env_file=None),  # type: ignore[call-arg]
                                    embedder=HashingEmbedder())
    try:
        if added:
            path = data_dir.parent / "arctic.md"
            path.write_text(NEW_ARTICLE, encoding="utf-8")
            (result,) = asyncio.run(service.sources.add(str(path), guild_id=None))
            assert result.status == "added"
    finally:
        service.close()
    return data_dir / "summit-desk.sqlite3"

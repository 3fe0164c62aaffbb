"""Migration 0005: stored fingerprints get their quarters, and near-copies are found by them."""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import select, text

from knowledge.corpus import founding_document, founding_metadata
from knowledge.ingest import find_duplicate_with_reason, prepare
from knowledge.store.db import make_engine, make_sessionmaker, migrate
from knowledge.store.tables import ArticleRow
from knowledge.text.simhash import bands, to_signed
from tests.knowledge.store.test_upgrade import FIXTURES, _load_into_postgres

# Stored fingerprints with the sign bit set and clear: the backfill must agree with Python's
# quarters for both (SQLite and PostgreSQL shift negative numbers arithmetically).
NEGATIVE = to_signed(0xF00D_0000_BEEF_1234)
POSITIVE = 0x0123_4567_89AB_CDEF


def test_the_upgrade_fills_every_fingerprints_quarters(tmp_path: Path, database_url: str) -> None:
    fixture = tmp_path / "0004.sqlite3"
    shutil.copyfile(FIXTURES / "0004_article_deletions.sqlite3", fixture)
    with sqlite3.connect(fixture) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM articles ORDER BY id")]
        conn.execute("UPDATE articles SET simhash = ? WHERE id = ?", (NEGATIVE, ids[0]))
        conn.execute("UPDATE articles SET simhash = ? WHERE id = ?", (POSITIVE, ids[1]))
        conn.execute("UPDATE articles SET simhash = NULL WHERE id = ?", (ids[2],))
    conn.close()
    if database_url.startswith("sqlite"):
        shutil.copyfile(fixture, database_url.split(":///", 1)[1])
    else:
        _load_into_postgres(fixture, "0004_article_deletions", database_url)
    engine = make_engine(database_url)
    try:
        migrate(engine)
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT id, simhash, simhash_band0, simhash_band1, simhash_band2, simhash_band3 "
                "FROM articles ORDER BY id")).all()
        assert len(rows) == len(ids)
        by_id = {r[0]: r for r in rows}
        assert by_id[ids[0]][1] == NEGATIVE and by_id[ids[1]][1] == POSITIVE
        assert by_id[ids[2]][1:] == (None,) * 5
        for row in rows:
            if row[1] is not None:
                assert tuple(row[2:]) == bands(row[1]), row

        # A near-copy of the article with the negative fingerprint (3 bits off, one in each of
        # three quarters) is found through the quarter the two still share.
        session = make_sessionmaker(engine)()
        with session:
            stored = session.scalar(select(ArticleRow).where(ArticleRow.id == ids[0]))
            assert stored is not None
            prepared = prepare(founding_document(founding_metadata()[0]))
            near = NEGATIVE ^ (1 << 3) ^ (1 << 20) ^ (1 << 40)
            copy = dataclasses.replace(
                prepared, content_hash="not-stored",
                document=dataclasses.replace(prepared.document, canonical_url=None),
                simhash=near & (2 ** 64 - 1))
            found = find_duplicate_with_reason(session, copy)
            assert found is not None and found[0].id == ids[0] and found[1] == "near_duplicate"
            far = dataclasses.replace(copy, simhash=(near ^ (1 << 60)) & (2 ** 64 - 1))
            assert find_duplicate_with_reason(session, far) is None  # 4 bits: not a copy
    finally:
        engine.dispose()

"""A library written by an older release opens with the current code: migrated, nothing lost.

Each schema revision has a fixture in tests/fixtures/upgrade/ (a SQLite library that revision's
code wrote, and what it answered), made once by tests/fixtures/upgrade/make_fixture.py.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, create_engine, select, text

from knowledge.embedding import Embedder
from knowledge.service import KnowledgeService
from knowledge.settings import Settings
from knowledge.store.db import alembic_config, make_engine, stored_revision
from tests.fixtures.upgrade.make_fixture import answers

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "upgrade"
REVISIONS = sorted(p.stem for p in FIXTURES.glob("*.sqlite3"))

Rows = dict[str, dict[tuple[Any, ...], dict[str, Any]]]

# Recomputed from the articles when the model or the extractors change (a re-embedding, or
# prepare_store's re-enrichment), so an upgrade may rewrite them; they must not be lost. Every
# other table and column is what people put in and must come through unchanged.
DERIVED_TABLES = {"people", "article_people", "passage_people", "passage_meetings", "meetings",
                  "meeting_proposals", "index_state"}
DERIVED_COLUMNS = {"passages": {"embedding", "sentence_embeddings", "sentence_spans"}}


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def _plain(value: Any) -> Any:
    """One form for a value read from either backend (zones, memoryviews)."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def _rows(engine: Engine) -> Rows:
    """Every row of every table, keyed by table and primary key."""
    meta = MetaData()
    meta.reflect(engine)
    out: Rows = {}
    with engine.connect() as conn:
        for name, table in meta.tables.items():
            if name == "alembic_version":
                continue
            key = [c.name for c in table.primary_key.columns]
            out[name] = {tuple(row[k] for k in key): {c: _plain(v) for c, v in row.items()}
                         for row in (r._asdict() for r in conn.execute(select(table)))}
    return out


def _load_into_postgres(fixture: Path, revision: str, url: str) -> None:
    """The fixture's rows in a PostgreSQL database created at the fixture's revision."""
    target = create_engine(url)
    source = create_engine(f"sqlite:///{fixture}")
    try:
        with target.begin() as conn:
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        meta = MetaData()
        meta.reflect(target)
        old = MetaData()
        old.reflect(source)
        with source.connect() as src, target.begin() as dst:
            dst.execute(text("SET TIME ZONE 'UTC'"))  # SQLite's datetimes are UTC, zoneless
            for table in meta.sorted_tables:
                if table.name == "alembic_version":
                    continue
                rows = [r._asdict() for r in src.execute(select(old.tables[table.name]))]
                if rows:
                    dst.execute(table.insert(), rows)
                if "id" in table.c and table.c.id.autoincrement is not False and rows and \
                        isinstance(rows[0]["id"], int):
                    dst.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                                     f"'id'), (SELECT max(id) FROM {table.name}))"))
    finally:
        target.dispose()
        source.dispose()


def test_every_schema_revision_has_an_upgrade_fixture() -> None:
    """A new migration needs its fixture (run tests/fixtures/upgrade/make_fixture.py)."""
    revisions = {script.revision for script in _scripts().walk_revisions()}
    missing = sorted(revisions - set(REVISIONS))
    assert not missing, (f"no upgrade fixture for revision(s) {missing}: run "
                         "`.venv/bin/python tests/fixtures/upgrade/make_fixture.py` and commit "
                         "what it writes in tests/fixtures/upgrade/")
    for revision in REVISIONS:
        assert (FIXTURES / f"{revision}.json").is_file(), f"{revision}.json is missing"


@pytest.mark.model
@pytest.mark.parametrize("revision", REVISIONS)
def test_an_older_library_opens_migrated_with_nothing_lost(
        revision: str, settings: Settings, real_embedder: Embedder) -> None:
    """The fixture's library, opened by today's code: schema at head, what people put in kept
    row for row, derived data not lost, the same first hit for each question, the same
    articles, sources, digest subscriptions and server settings."""
    fixture = FIXTURES / f"{revision}.sqlite3"
    recorded = json.loads((FIXTURES / f"{revision}.json").read_text(encoding="utf-8"))
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        shutil.copyfile(fixture, url.split(":///", 1)[1])
    else:
        _load_into_postgres(fixture, revision, url)
    engine = make_engine(url)
    try:
        assert stored_revision(engine) == revision
        pristine = create_engine(f"sqlite:///{fixture}")
        before = _rows(pristine)
        pristine.dispose()
        assert {t: len(r) for t, r in before.items()} == recorded["rows"]

        service = KnowledgeService.open(settings, embedder=real_embedder)
        try:
            assert stored_revision(engine) == _scripts().get_current_head()
            got = answers(service)
        finally:
            service.close()
        after = _rows(engine)
    finally:
        engine.dispose()

    for table, rows in before.items():
        assert table in after, f"table {table} is gone after the upgrade"
        if table in DERIVED_TABLES:
            assert not rows or after[table], f"{table} was emptied by the upgrade"
            continue
        derived = DERIVED_COLUMNS.get(table, set())
        for key, row in rows.items():
            assert key in after[table], f"{table} row {key} is gone after the upgrade"
            new = after[table][key]
            changed = {c for c in row if c in new and c not in derived and new[c] != row[c]}
            assert not changed, f"{table} row {key} changed in {sorted(changed)}"
    # The same answers; a first hit's passage may move within its article as ranking is tuned,
    # but its text is still there.
    assert {q: h and h["title"] for q, h in got["first_hits"].items()} == \
        {q: h and h["title"] for q, h in recorded["answers"]["first_hits"].items()}
    texts = {row["text"] for row in after["passages"].values()}
    for hit in recorded["answers"]["first_hits"].values():
        assert hit is None or hit["passage"] in texts
    # Answers a later revision added (a later fixture records them) are compared from then on.
    for name, value in recorded["answers"].items():
        if name != "first_hits":
            assert got[name] == value, name

"""Copy a whole library into a new database: the embedded SQLite file to PostgreSQL.

    python -m knowledge.store.transfer [--from URL] [--to URL]

By default it copies DATA_DIR's SQLite library (`DATA_DIR/summit-desk.sqlite3`) into the
database DATABASE_URL names, with the settings the bot reads (environment and `.env`). Both
are first brought to the newest schema. The target must hold no library yet: what a first
start of the bot or `check` stored there (the founding articles) is replaced, anything more
is refused. Every table is copied row for row, ids included, in one transaction, so a failure
leaves the target as it was; PostgreSQL's id sequences are then moved past the copied ids.
Stop every bot using either database first: a bot holding DATA_DIR's lock is refused. The
copied SQLite file records where it went, for the left-behind warning.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Unicode,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError

from knowledge.errors import ConfigurationError, KnowledgeError
from knowledge.process_lock import running_here
from knowledge.store.db import make_engine, migrate
from knowledge.store.tables import Base

BATCH = 500
# index_state key in a copied SQLite library: where and when it was copied to
COPIED_TO = "copied_to"
# The tables the first start of a bot (or `check`) fills: the founding articles and what is
# derived from them, and the bot's standing scheduler jobs. A target holding only those is
# replaced by the copy.
_FIRST_START = frozenset({"articles", "passages", "article_people", "article_reach",
                          "index_state", "meetings", "people", "passage_meetings",
                          "passage_people", "apscheduler_jobs"})
_FOUNDING_AT_MOST = 50  # a first start stores a handful of founding articles (5 today)
# APScheduler's job store, created by migration 0001 but not one of the library's tables.
_JOBS = Table("apscheduler_jobs", MetaData(),
              Column("id", Unicode(191), primary_key=True),
              Column("next_run_time", Float(precision=25)),
              Column("job_state", LargeBinary, nullable=False))


def library_tables() -> list[Table]:
    """Every table of a library, parents before the tables that refer to them."""
    return [*Base.metadata.sorted_tables, _JOBS]


def transfer(source: Engine, target: Engine) -> dict[str, int]:
    """Copy every row of the library in `source` into `target` (migrated, and empty);
    the number of rows copied per table."""
    migrate(source)
    migrate(target)
    tables = library_tables()
    replaced = _only_a_first_start(target, tables)
    copied: dict[str, int] = {}
    with source.connect() as src, target.begin() as dst:
        if replaced:  # what a first start stored (`check` run first): the copy replaces it
            for table in reversed(tables):
                dst.execute(table.delete())
        for table in tables:
            copied[table.name] = 0
            result = src.execution_options(yield_per=BATCH).execute(select(table))
            for rows in result.mappings().partitions(BATCH):
                dst.execute(insert(table), [dict(row) for row in rows])
                copied[table.name] += len(rows)
        if target.dialect.name == "postgresql":
            _move_sequences(dst, tables)
    return copied


def _only_a_first_start(target: Engine, tables: list[Table]) -> bool:
    """False for an empty target, True when it holds only what the first start of a bot (or
    `check`) stores, the founding articles and what is derived from them; ConfigurationError
    when anything else is there, which the copy must not overwrite."""
    articles = Base.metadata.tables["articles"]
    with target.connect() as conn:
        filled = {t.name for t in tables
                  if conn.execute(select(1).select_from(t).limit(1)).first()}
        count = conn.scalar(select(func.count()).select_from(articles)) or 0
        founding = count <= _FOUNDING_AT_MOST and all(
            (extra or {}).get("founding") for extra in conn.scalars(select(articles.c.extra)))
    if not filled:
        return False
    if founding and filled <= _FIRST_START:
        return True
    raise ConfigurationError(
        f"the target database already holds a library with more than the founding articles "
        f"({count} articles; {', '.join(sorted(filled - _FIRST_START)[:3]) or 'articles'} not "
        "empty): copy into a new, empty database, or drop and recreate this one")


def _move_sequences(conn: Connection, tables: list[Table]) -> None:
    """Set each serial id's sequence past the ids copied in (else the next insert collides)."""
    for table in tables:
        for column in table.primary_key.columns:
            if isinstance(column.type, Integer) and column.autoincrement in (True, "auto"):
                conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                    f"coalesce(max({column.name}), 1), max({column.name}) IS NOT NULL) "
                    f"FROM {table.name}"))


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: one line on success, one line and exit 2 on failure."""
    from knowledge.settings import database_failure, display_database_url, load_settings

    parser = argparse.ArgumentParser(prog="python -m knowledge.store.transfer",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="source", help="the library to copy (default: the "
                        "SQLite file in DATA_DIR)")
    parser.add_argument("--to", dest="target", help="the new, empty database (default: "
                        "DATABASE_URL)")
    args = parser.parse_args(argv)
    settings = load_settings()
    source_url = args.source or \
        f"sqlite:///{(settings.data_dir / 'summit-desk.sqlite3').resolve()}"
    target_url = args.target or settings.database_url
    if not target_url:
        print("error: DATABASE_URL is empty (the library is already the SQLite file in "
              "DATA_DIR): set it to the new database, or pass --to", file=sys.stderr)
        return 2
    if source_url == target_url:
        print("error: the library to copy and the target are the same database",
              file=sys.stderr)
        return 2
    source_file = source_url.removeprefix("sqlite:///")
    if source_url.startswith("sqlite:///") and not Path(source_file).is_file():
        print(f"error: no library to copy: {source_file} does not exist", file=sys.stderr)
        return 2
    running = running_here(settings.data_dir)
    if running:  # what it writes after the copy would be lost at the switch
        print(f"error: a bot runs on DATA_DIR {settings.data_dir.resolve()} ({running}): stop "
              "every bot using either database, then copy", file=sys.stderr)
        return 2
    source, target = make_engine(source_url), make_engine(target_url)
    try:
        for url, engine in ((source_url, source), (target_url, target)):
            try:
                migrate(engine)  # (again in transfer: a no-op then) to know which one failed
            except DBAPIError as exc:
                print(f"error: {database_failure(exc, url)}", file=sys.stderr)
                return 2
        copied = transfer(source, target)
        if source.dialect.name == "sqlite":  # the left-behind warning then says it was copied
            with source.begin() as conn:
                conn.execute(text("DELETE FROM index_state WHERE key = :key"), {"key": COPIED_TO})
                conn.execute(text("INSERT INTO index_state (key, value) VALUES (:key, :value)"),
                             {"key": COPIED_TO, "value": f"{display_database_url(target_url)} "
                              f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"})
    except KnowledgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DBAPIError as exc:
        print(f"error: {database_failure(exc, target_url)}", file=sys.stderr)
        return 2
    finally:
        source.dispose()
        target.dispose()
    counted = ", ".join(f"{copied[table]} {name}{'s' * (copied[table] != 1)}" for table, name in (
        ("articles", "article"), ("passages", "passage"), ("sources", "source"),
        ("digest_subscriptions", "digest subscription")))
    print(f"copied {counted} ({sum(copied.values())} rows in {len(copied)} tables) from "
          f"{display_database_url(source_url)} to {display_database_url(target_url)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

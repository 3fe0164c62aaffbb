"""The database engine and versioned migrations (Alembic), applied at start-up.

A start on a database already at the newest revision (every start but the first after an
upgrade) only reads `alembic_version` and compares it with the head revision named in the
migration files; Alembic itself (~0.2-0.4 s of imports and script loading) is imported only when
there is something to migrate.
"""

from __future__ import annotations

import ast
import contextlib
import fcntl
import functools
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from knowledge.errors import ConfigurationError

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# Any constant works; it only has to be the same in every process sharing a PostgreSQL database.
_PG_MIGRATION_LOCK = 7_351_002


def make_engine(url: str) -> Engine:
    """Create an engine with the settings each backend needs for concurrent use."""
    if url.startswith("sqlite"):
        db_path = url.split(":///", 1)[-1]
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Serialise migrations between processes that start together on one database."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK})
                conn.commit()
        return
    db_path = str(engine.url.database or "")
    if not db_path or db_path == ":memory:":
        yield
        return
    with open(db_path + ".migrate-lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def migration_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection holding one transaction for a whole upgrade, DDL included, so a migration
    cut short (a full disk, a crash) leaves the schema as it was. PostgreSQL's DDL is
    transactional as it is. Python's sqlite3 driver sends BEGIN only before INSERT, UPDATE and
    DELETE, so each CREATE TABLE was committed alone and a failed first migration left half a
    schema and no version; here, as SQLAlchemy documents for SQLite, the driver's own
    transaction handling is switched off and BEGIN sent explicitly (IMMEDIATE: the write lock
    from the start, as a read-then-write deferred transaction can fail at once in WAL mode)."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            yield conn
        return
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        saved = driver.isolation_level  # type: ignore[union-attr]
        driver.isolation_level = None  # type: ignore[union-attr]
        try:
            with conn.begin():  # its commit/rollback reach the driver's COMMIT/ROLLBACK
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                yield conn
        finally:
            # The connection goes back to the pool: the rest of the library keeps the
            # driver's usual behaviour.
            driver.isolation_level = saved  # type: ignore[union-attr]


def _refuse_a_half_made_schema(engine: Engine) -> None:
    """ConfigurationError when the database holds Summit Desk tables but no schema version: a
    first migration cut short by a version without all-or-nothing migrations on SQLite (or
    tables made by hand). Alembic would stop at "table ... already exists" at every start."""
    from knowledge.store.tables import Base

    with engine.connect() as conn:
        found = set(inspect(conn).get_table_names())
    ours = sorted(found & {"apscheduler_jobs", *Base.metadata.tables})
    if not ours:
        return
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        raise ConfigurationError(
            f"the database {path} holds part of a schema ({len(ours)} tables) but no schema "
            "version: its first set-up was cut short (a full disk?). Restore it from a backup, "
            f"or, if it is a new library with nothing in it yet, delete {path} (and any -wal "
            "and -shm file beside it) and start again")
    raise ConfigurationError(
        f"the database {engine.url.render_as_string(hide_password=True)} holds Summit Desk "
        f"tables ({', '.join(ours[:3])}{', ...' if len(ours) > 3 else ''}) but no schema "
        "version (alembic_version): its "
        "set-up was cut short or the tables were made by hand; restore it from a backup, or "
        "drop those tables and start again")


@functools.cache
def head_revision() -> str | None:
    """The newest revision of the packaged migrations, read from the files' `revision` and
    `down_revision` assignments without loading Alembic; None unless there is exactly one head
    (then `migrate` lets Alembic decide)."""
    found = _revisions()
    if found is None:
        return None
    revisions, parents = found
    heads = sorted(revisions - parents)
    return heads[0] if len(heads) == 1 else None


@functools.cache
def _revisions() -> tuple[frozenset[str], frozenset[str]] | None:
    """(every revision, every revision some other one follows) of the packaged migrations;
    None when a file's assignments cannot be read without running it."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        values: dict[str, object] = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name) and target.id in ("revision",
                                                                      "down_revision"):
                        try:
                            values[target.id] = ast.literal_eval(node.value) \
                                if node.value is not None else None
                        except ValueError:
                            return None
        revision, down = values.get("revision"), values.get("down_revision")
        if not isinstance(revision, str):
            return None
        revisions.add(revision)
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):
            parents.update(str(d) for d in down)
    return frozenset(revisions), frozenset(parents)


def schema_revision(bind: Connection | Session) -> str | None:
    """The revision in `alembic_version`, read on an open connection or session (None: no
    single row); the one reader of it (`stored_revision` opens a connection for it)."""
    rows = bind.execute(text("SELECT version_num FROM alembic_version")).all()
    return str(rows[0][0]) if len(rows) == 1 else None


def stored_revision(engine: Engine) -> str | None:
    """The revision in the database's `alembic_version` (None: no table or no single row)."""
    try:
        with engine.connect() as conn:
            return schema_revision(conn)
    except DBAPIError:  # no such table yet: a new database
        return None


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent, safe with concurrent starters).
    A database already at the head revision is left alone without loading Alembic."""
    head = head_revision()
    stored = stored_revision(engine)
    if head is not None and stored == head:
        log.debug("database schema is at head (%s)", head)
        return
    known = _revisions()
    if stored is not None and known is not None and stored not in known[0]:
        # A newer version of the code migrated it and this one was put back: Alembic would
        # say "Can't locate revision identified by ..." (an internal error).
        raise ConfigurationError(
            f"the database is at schema {stored}, newer than this code knows (latest "
            f"{head or 'several heads'}): upgrade the code or restore the backup taken "
            "before the upgrade")
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with _migration_lock(engine):
        if stored_revision(engine) is None:  # another process may have migrated meanwhile
            _refuse_a_half_made_schema(engine)
        with migration_transaction(engine) as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    log.debug("database schema is at head")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)

"""Alembic environment: runs the versioned migrations on the connection it is handed."""

from __future__ import annotations

from alembic import context

from knowledge.store.db import make_engine, migration_transaction
from knowledge.store.tables import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Migrate using the connection from `knowledge.store.db.migrate`, or the configured URL.
    Either way the connection already holds one transaction for the whole upgrade (SQLite
    included: `migration_transaction`), so Alembic commits nothing between revisions and a
    failure leaves the schema as it was."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with migration_transaction(engine) as conn:
            context.configure(connection=conn, target_metadata=target_metadata,
                              render_as_batch=conn.dialect.name == "sqlite")
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


run_migrations_online()

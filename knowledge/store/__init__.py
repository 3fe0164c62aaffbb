"""Persistence: ORM tables, the engine, migrations and the queries beside them."""

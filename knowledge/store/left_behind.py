"""The embedded SQLite library left in DATA_DIR after DATABASE_URL was pointed at another
database (PostgreSQL): the bot then starts a new, empty library, and what was added to the old
one (articles, sources, digest subscriptions) seems lost. `bot check` and the bot's start name
the file; docs/operations.md says how to move it (`python -m knowledge.store.transfer`)."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from knowledge.settings import Settings

# What an operator adds to a library (founding articles are marked in `extra`).
_ADDED = (
    ("article", "articles", "SELECT count(*) FROM articles "
                            "WHERE coalesce(json_extract(extra, '$.founding'), 0) != 1"),
    ("source", "sources", "SELECT count(*) FROM sources"),
    ("digest subscription", "digest subscriptions", "SELECT count(*) FROM digest_subscriptions"),
)


def sqlite_library_left_behind(settings: Settings) -> str | None:
    """One warning line when DATABASE_URL is not SQLite but DATA_DIR holds the embedded
    library with something added to it; None otherwise (also when the file cannot be read)."""
    if not settings.database_url or make_url(settings.database_url).get_backend_name() \
            == "sqlite":
        return None
    path = settings.data_dir / "summit-desk.sqlite3"
    if not path.is_file():
        return None
    try:  # read-only: nothing is created or changed beside the file
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            counts = [(one if found == 1 else many, found) for one, many, query in _ADDED
                      if (found := conn.execute(query).fetchone()[0])]
            copied = conn.execute("SELECT value FROM index_state WHERE key = 'copied_to'"
                                  ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:  # not a Summit Desk library, or an unreadable one: nothing to say
        return None
    if not counts:
        return None
    if copied:  # python -m knowledge.store.transfer recorded where it went
        return (f"DATA_DIR still holds the SQLite library {path.resolve()}, copied to "
                f"{copied[0]}: move the file out of DATA_DIR (keep it as a backup) to end "
                "this warning")
    added = [f"{count} {name}" for name, count in counts]
    return (f"DATA_DIR holds a SQLite library, {path.resolve()} ({', '.join(added)} added), "
            "but DATABASE_URL names another database: copy the library over with python -m "
            "knowledge.store.transfer (docs/operations.md, \"Moving a library to "
            "PostgreSQL\"), then move the file out of DATA_DIR (keep it as a backup)")

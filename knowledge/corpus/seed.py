"""The seed database: a new embedded library starts as a copy of the founding corpus, stored.

A first start on the embedded default (SQLite in DATA_DIR) would otherwise run the four
migrations and store and enrich the founding articles (splitting, people and meeting
extraction, BM25 terms): about half a second before the first answer, every install. The
package ships that result instead, made by `python -m knowledge build-seed` with exactly that
code path, as a compressed SQLite file in a zip with its manifest.

The copy is used only when it is what the code would produce: the manifest names the schema
revision and a hash of every input of storing (`content_key`: the founding texts, metadata and
prebuilt vectors, the registry and vocabulary data, and the source of ingestion, enrichment,
text handling, the store and its migrations). Anything else (another schema, changed code, a
configured model other than the bundled one, a database that is not the default file, a file
already there, a broken zip) and the normal first start runs, with one log line saying why.
`tests/knowledge/test_seed.py` checks that the shipped seed is current and that a seeded
library holds what a normally started one holds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from knowledge.settings import Settings

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent.parent
SEED_FILE = Path(__file__).resolve().parent / "founding_seed.zip"
SEED_FORMAT = 1
DB_MEMBER = "library.sqlite3"
MANIFEST_MEMBER = "manifest.json"
# What storing the founding corpus depends on, relative to the knowledge package: modules and
# packages (every .py and data file inside), so a change to any of them makes the seed stale.
SEED_INPUTS = (
    "ingest.py", "enrich.py", "models.py", "scope.py", "topic.py", "visibility.py", "errors.py",
    "corpus", "people", "meetings", "text", "store", "migrations",
)
# (what the package installs: a wheel or image holds the same files, so the key is the same)
_DATA_SUFFIXES = {".py", ".json", ".txt", ".npz"}


def content_key() -> str:
    """A hash of every input of storing the founding corpus (see SEED_INPUTS)."""
    digest = hashlib.sha256()
    for rel in SEED_INPUTS:
        root = PACKAGE_DIR / rel
        files = [root] if root.is_file() else sorted(
            p for p in root.rglob("*") if p.is_file() and p.suffix in _DATA_SUFFIXES
            and "__pycache__" not in p.parts and p != SEED_FILE)
        for path in files:
            digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def default_database_file(settings: Settings) -> Path | None:
    """The SQLite file of the embedded default, or None when DATABASE_URL names another."""
    if settings.database_url:
        return None
    prefix = "sqlite:///"
    url = settings.resolved_database_url
    return Path(url[len(prefix):]) if url.startswith(prefix) else None


def read_manifest(path: Path = SEED_FILE) -> dict | None:
    """The seed's manifest, or None when the file is absent or unreadable."""
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read(MANIFEST_MEMBER))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        if path.exists():
            log.warning("seed database %s is unreadable (%s): storing the founding corpus "
                        "instead", path, exc)
        return None
    return manifest if isinstance(manifest, dict) else None


def why_not_usable(settings: Settings, manifest: dict | None,
                   fingerprint: str | None = None) -> str | None:
    """Why the seed cannot start this library (None: it can); `fingerprint` is the embedder's
    when the caller brings its own, else the settings say which model will run."""
    from knowledge.settings import BUNDLED_MODEL
    from knowledge.store.db import head_revision

    if settings.topic_dir is not None:
        return "TOPIC_DIR names another topic (the seed's meetings are the bundled topic's)"
    if manifest is None:
        return "no seed database shipped"
    if manifest.get("format") != SEED_FORMAT:
        return f"seed format {manifest.get('format')} (this version reads {SEED_FORMAT})"
    if fingerprint is not None:
        if fingerprint != manifest.get("model_fingerprint"):
            return f"the embedder is {fingerprint}, the seed's vectors are " \
                   f"{manifest.get('model_fingerprint')}"
    elif settings.embedding_model != BUNDLED_MODEL or settings.embedding_backend == "torch":
        return "a model or backend other than the bundled ONNX model is configured"
    elif settings.embedding_onnx_file is not None and not _is_bundled(settings.embedding_onnx_file):
        return "EMBEDDING_ONNX_FILE names another ONNX file than the bundled one"
    elif manifest.get("model_fingerprint") != _bundled_fingerprint():
        return "the seed's vectors were made by another ONNX file than the bundled one"
    if manifest.get("schema_revision") != head_revision():
        return f"seed schema {manifest.get('schema_revision')} is not the newest"
    if manifest.get("content_key") != content_key():
        return "the code or data that store the founding corpus changed since the seed was " \
               "built (python -m knowledge build-seed)"
    return None


def restore_seed(settings: Settings, path: Path = SEED_FILE, *,
                 fingerprint: str | None = None) -> bool:
    """Start a new embedded library from the seed: True when the database file was created
    from it. Never replaces an existing file; safe when two processes start at once."""
    target = default_database_file(settings)
    if target is None or target.exists() or not settings.loads_founding_corpus:
        return False  # (the seed is the founding corpus: FOUNDING_CORPUS off, no seed)
    manifest = read_manifest(path)
    reason = why_not_usable(settings, manifest, fingerprint)
    if reason is not None:
        log.info("new library stored from the founding texts, not the seed: %s", reason)
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.seed")
    try:
        with zipfile.ZipFile(path) as archive, archive.open(DB_MEMBER) as src, \
                tmp.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        _stamp_added_now(tmp)
        try:
            os.link(tmp, target)  # fails if another process made the library meanwhile
        except FileExistsError:
            return False
    except (OSError, KeyError, zipfile.BadZipFile, sqlite3.Error) as exc:
        log.warning("seed database %s could not be copied (%s): storing the founding corpus "
                    "instead", path, exc)
        return False
    finally:
        tmp.unlink(missing_ok=True)
    log.info("new library started from the seed database (%s)", manifest.get("built") if
             manifest else "?")
    return True


def _stamp_added_now(path: Path) -> None:
    """The founding articles were added now, on this install, not when the seed was built."""
    now = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S.%f}"  # as UTCDateTime stores it
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE articles SET added_at = ?", (now,))
    conn.close()


def write_seed(database: Path, path: Path = SEED_FILE) -> dict:
    """(maintainers) Ship `database`, a new library started the normal way on the embedded
    default with the bundled model (`python -m knowledge build-seed` makes one), as the seed."""
    if (manifest_fingerprint := _bundled_fingerprint()) is None:
        raise RuntimeError("the bundled ONNX file's manifest is unreadable")
    with sqlite3.connect(database) as conn:
        stored = conn.execute("SELECT value FROM index_state WHERE key = 'model_fingerprint'"
                              ).fetchone()
    conn.close()
    if stored is None or stored[0] != manifest_fingerprint:
        raise RuntimeError(f"the seed must hold the bundled ONNX model's vectors "
                           f"({manifest_fingerprint}), not {stored[0] if stored else 'none'}")
    from knowledge.store.db import head_revision

    manifest = {
        "format": SEED_FORMAT,
        "schema_revision": head_revision(),
        "content_key": content_key(),
        "model_fingerprint": manifest_fingerprint,
        "built": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        compact = Path(tmp) / "compact.sqlite3"
        with sqlite3.connect(database) as conn:
            conn.execute("VACUUM INTO ?", (str(compact),))
        conn.close()
        partial = path.with_name(f".{path.name}.tmp")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            archive.write(compact, DB_MEMBER)
            archive.writestr(MANIFEST_MEMBER, json.dumps(manifest, indent=2) + "\n")
        os.replace(partial, path)
    return manifest


def _is_bundled(path: Path) -> bool:
    from knowledge.embedding.onnx_model import BUNDLED_ONNX

    return Path(path).resolve() == BUNDLED_ONNX.resolve()


def _bundled_fingerprint() -> str | None:
    """The bundled ONNX file's fingerprint as its manifest names it (the embedder checks the
    file against it when it loads)."""
    from knowledge.embedding.onnx_model import BUNDLED_ONNX, manifest_path

    try:
        return str(json.loads(manifest_path(BUNDLED_ONNX).read_text())["fingerprint"])
    except (OSError, ValueError, KeyError, TypeError):
        return None

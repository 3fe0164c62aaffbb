"""The shipped seed database (knowledge/corpus/seed.py): current, faithful, and never in the way."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest

from knowledge.corpus import seed
from knowledge.embedding import Embedder, HashingEmbedder
from knowledge.service import KnowledgeService
from knowledge.settings import Settings
from knowledge.store.db import head_revision

# Columns that differ between two starts by design (when the articles were added).
VOLATILE = {("articles", "added_at")}


def embedded_settings(data_dir: Path) -> Settings:
    """The embedded default: no DATABASE_URL, the bundled model."""
    return Settings(data_dir=data_dir, _env_file=None)  # type: ignore[call-arg]


def dump(db_file: Path) -> dict[str, list[tuple]]:
    """Every table's rows, sorted, without the volatile columns."""
    out: dict[str, list[tuple]] = {}
    with sqlite3.connect(db_file) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        for table in tables:
            columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
            keep = [c for c in columns if (table, c) not in VOLATILE]
            rows = conn.execute(f'SELECT {", ".join(keep)} FROM "{table}"').fetchall()
            out[table] = sorted(rows, key=repr)
    conn.close()
    return out


def test_the_shipped_seed_is_current() -> None:
    manifest = seed.read_manifest()
    assert manifest is not None, "knowledge/corpus/founding_seed.zip is missing"
    assert manifest["schema_revision"] == head_revision(), \
        "the seed is behind the migrations: run python -m knowledge build-seed"
    assert manifest["content_key"] == seed.content_key(), \
        "storing the founding corpus changed since the seed was built: " \
        "run python -m knowledge build-seed"
    assert seed.why_not_usable(embedded_settings(Path("unused")), manifest) is None


@pytest.mark.model
def test_a_seeded_library_holds_what_a_normal_first_start_stores(
        tmp_path: Path, real_embedder: Embedder) -> None:
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    seeded_settings = embedded_settings(tmp_path / "seeded")
    seeded = KnowledgeService.open(seeded_settings)
    normal_settings = embedded_settings(tmp_path / "normal")
    normal = KnowledgeService.open(normal_settings, embedder=real_embedder, seed=False)
    try:
        seeded_file = seed.default_database_file(seeded_settings)
        normal_file = seed.default_database_file(normal_settings)
        assert seeded_file is not None and normal_file is not None
        assert dump(seeded_file) == dump(normal_file)
        with sqlite3.connect(seeded_file) as conn:
            added = [dt.datetime.fromisoformat(r[0])
                     for r in conn.execute("SELECT added_at FROM articles")]
        conn.close()
        assert len(added) == 5 and all(a >= started for a in added)
        for question in ("what did the professor expect from the Putin visit",
                         "joint economic activities on the islands"):
            assert [(h.passage_id, h.passage, h.highlight, round(h.score, 5))
                    for h in seeded.search(question, guild_id=None)] == \
                [(h.passage_id, h.passage, h.highlight, round(h.score, 5))
                 for h in normal.search(question, guild_id=None)]
    finally:
        seeded.close()
        normal.close()


def test_the_seed_is_copied_only_onto_a_new_embedded_library(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path / "data")
    assert seed.restore_seed(settings) is True
    target = seed.default_database_file(settings)
    assert target is not None and target.exists()
    before = target.read_bytes()
    assert seed.restore_seed(settings) is False  # a library is there: never replaced
    assert target.read_bytes() == before
    assert not list(target.parent.glob(".*.seed"))  # no temporary file left behind
    other = Settings(data_dir=tmp_path / "other", _env_file=None,  # type: ignore[call-arg]
                     database_url=f"sqlite:///{tmp_path / 'explicit.sqlite3'}")
    assert seed.restore_seed(other) is False
    assert not (tmp_path / "explicit.sqlite3").exists()


def test_another_model_or_embedder_is_not_given_the_seeds_vectors(tmp_path: Path) -> None:
    torch_settings = Settings(data_dir=tmp_path / "torch", embedding_backend="torch",
                              _env_file=None)  # type: ignore[call-arg]
    assert seed.restore_seed(torch_settings) is False
    other_file = Settings(data_dir=tmp_path / "file", _env_file=None,  # type: ignore[call-arg]
                          embedding_onnx_file=tmp_path / "custom.onnx")
    assert "EMBEDDING_ONNX_FILE" in str(seed.why_not_usable(other_file, seed.read_manifest()))
    assert seed.restore_seed(other_file) is False
    from knowledge.embedding import BUNDLED_ONNX

    bundled_file = Settings(data_dir=tmp_path / "bundled", _env_file=None,  # type: ignore[call-arg]
                            embedding_onnx_file=BUNDLED_ONNX)
    assert seed.why_not_usable(bundled_file, seed.read_manifest()) is None
    hashing = embedded_settings(tmp_path / "hashing")
    assert seed.restore_seed(hashing, fingerprint=HashingEmbedder().fingerprint) is False
    service = KnowledgeService.open(hashing.model_copy(update={"no_match_threshold": 0.05}),
                                    embedder=HashingEmbedder())
    try:  # the normal first start ran: the library holds the hashing embedder's vectors
        assert service.library.stored_fingerprint() == HashingEmbedder().fingerprint
        assert len(service.index) == 31
    finally:
        service.close()


def rewritten(tmp_path: Path, **changes: object) -> Path:
    """A copy of the shipped seed with its manifest changed."""
    copy = tmp_path / "seed.zip"
    with zipfile.ZipFile(seed.SEED_FILE) as src, zipfile.ZipFile(copy, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == seed.MANIFEST_MEMBER:
                data = json.dumps({**json.loads(data), **changes}).encode()
            dst.writestr(item, data)
    return copy


@pytest.mark.parametrize("changes, reason", [
    ({"content_key": "0" * 64}, "changed since the seed was built"),
    ({"schema_revision": "0003_old"}, "is not the newest"),
    ({"format": 99}, "seed format 99"),
    ({"model_fingerprint": "onnx-int8:model:other"}, "another ONNX file"),
])
def test_a_stale_seed_is_refused_with_one_line_saying_why(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, changes: dict, reason: str) -> None:
    settings = embedded_settings(tmp_path / "data")
    with caplog.at_level(logging.INFO, logger="knowledge.corpus.seed"):
        assert seed.restore_seed(settings, rewritten(tmp_path, **changes)) is False
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and reason in lines[0]
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())


def test_a_broken_seed_file_falls_back_to_the_normal_start(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    broken = tmp_path / "seed.zip"
    broken.write_bytes(seed.SEED_FILE.read_bytes()[:5000])  # truncated download or disk
    settings = embedded_settings(tmp_path / "data")
    with caplog.at_level(logging.WARNING, logger="knowledge.corpus.seed"):
        assert seed.restore_seed(settings, broken) is False
    assert any("unreadable" in r.getMessage() for r in caplog.records)
    target = seed.default_database_file(settings)
    assert target is not None and not target.exists()

    no_db = tmp_path / "nodb.zip"  # a manifest but no database inside
    with zipfile.ZipFile(seed.SEED_FILE) as src, zipfile.ZipFile(no_db, "w") as dst:
        dst.writestr(seed.MANIFEST_MEMBER, src.read(seed.MANIFEST_MEMBER))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="knowledge.corpus.seed"):
        assert seed.restore_seed(settings, no_db) is False
    assert any("could not be copied" in r.getMessage() for r in caplog.records)
    assert not target.exists()
    assert not list(target.parent.glob(".*.seed"))


def test_the_content_key_follows_the_inputs_of_storing(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "knowledge"
    shutil.copytree(seed.PACKAGE_DIR, package,
                    ignore=shutil.ignore_patterns("__pycache__", "*.onnx", "*.zip"))
    monkeypatch.setattr(seed, "PACKAGE_DIR", package)
    key = seed.content_key()
    assert key == seed.content_key()
    (package / "index" / "hybrid.py").write_text("# ranking is not an input of storing\n")
    assert seed.content_key() == key
    registry = package / "meetings" / "registry.json"
    registry.write_text(registry.read_text() + "\n")
    assert seed.content_key() != key


@pytest.mark.model
def test_build_seed_makes_a_seed_that_starts_the_same_library(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import REPO

    output = tmp_path / "built.zip"
    done = subprocess.run([sys.executable, "-m", "knowledge", "build-seed", "--output",
                           str(output)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert str(output) in done.stdout
    built = embedded_settings(tmp_path / "built")
    shipped = embedded_settings(tmp_path / "shipped")
    assert seed.restore_seed(built, output) and seed.restore_seed(shipped)
    built_file, shipped_file = seed.default_database_file(built), seed.default_database_file(shipped)
    assert built_file is not None and shipped_file is not None
    assert dump(built_file) == dump(shipped_file)


def test_write_seed_refuses_a_library_without_the_bundled_models_vectors(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path / "data")
    KnowledgeService.open(settings, embedder=HashingEmbedder()).close()
    database = seed.default_database_file(settings)
    assert database is not None
    with pytest.raises(RuntimeError, match="bundled ONNX model's vectors"):
        seed.write_seed(database, tmp_path / "seed.zip")
    assert not (tmp_path / "seed.zip").exists()


def test_a_filesystem_without_hard_links_gets_the_normal_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """The copy is published with a hard link (atomic, never over another process's new
    library); where links are refused (some network or bind-mounted filesystems), one warning
    and the normal first start, nothing half-written left behind."""
    import os

    def refuse(src: object, dst: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", refuse)
    settings = embedded_settings(tmp_path / "data")
    with caplog.at_level(logging.WARNING, logger="knowledge.corpus.seed"):
        assert seed.restore_seed(settings) is False
    assert any("could not be copied" in r.getMessage() for r in caplog.records)
    target = seed.default_database_file(settings)
    assert target is not None and not target.exists()
    assert not list(target.parent.iterdir())

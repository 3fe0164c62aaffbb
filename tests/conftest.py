"""Shared fixtures: an isolated data dir and settings per test, and services on either embedder."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from knowledge.embedding import Embedder, HashingEmbedder, make_embedder
from knowledge.service import KnowledgeService
from knowledge.settings import BUNDLED_MODEL, Settings

REPO = Path(__file__).resolve().parent.parent

# Tests never see a developer's .env or real token.
for _name in list(os.environ):
    if _name.startswith(("DISCORD_", "DATABASE_URL", "EMBEDDING_MODEL", "DATA_DIR", "TOPIC_DIR",
                         "FOUNDING_CORPUS")):
        del os.environ[_name]


PG_URL = os.environ.get("TEST_DATABASE_URL", "")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, and a new PostgreSQL database on the server
    TEST_DATABASE_URL points at (skipped when it is not set)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    name = f"summit_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Settings:
    """Settings pointing at a fresh data dir and database; no .env is read."""
    monkeypatch.chdir(tmp_path)
    return Settings(data_dir=tmp_path / "data", database_url=database_url,
                    _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def hashing_service(settings: Settings) -> Iterator[KnowledgeService]:
    """A service on the fast deterministic test embedder (founding corpus embedded at open)."""
    # Hashed bags of words have lower cosines than the real model: thresholds to match.
    settings = settings.model_copy(update={"no_match_threshold": 0.05,
                                           "hit_min_similarity": 0.0,
                                           "no_match_names_margin": 0.0})
    service = KnowledgeService.open(settings, embedder=HashingEmbedder())
    yield service
    service.close()


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    """The real bundled model on its default backend (the shipped int8 ONNX file), loaded once."""
    return make_embedder(BUNDLED_MODEL, backend="onnx")


@pytest.fixture
def real_service(settings: Settings, real_embedder: Embedder) -> Iterator[KnowledgeService]:
    """A fresh install on the real model, seeded from the shipped prebuilt index."""
    service = KnowledgeService.open(settings, embedder=real_embedder)
    yield service
    service.close()

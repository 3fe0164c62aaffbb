"""Shared fixtures: an isolated data dir and settings per test, and services on either embedder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.embedding import HashingEmbedder, SentenceTransformerEmbedder
from knowledge.service import KnowledgeService
from knowledge.settings import BUNDLED_MODEL, Settings

REPO = Path(__file__).resolve().parent.parent

# Tests never see a developer's .env or real token.
for _name in list(os.environ):
    if _name.startswith(("DISCORD_", "DATABASE_URL", "EMBEDDING_MODEL", "DATA_DIR")):
        del os.environ[_name]


def test_database_url(tmp_path: Path) -> str:
    """SQLite in the test's tmp dir (PostgreSQL variants are parametrised elsewhere)."""
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings pointing at a fresh data dir; no .env is read."""
    monkeypatch.chdir(tmp_path)
    return Settings(data_dir=tmp_path / "data", database_url=test_database_url(tmp_path),
                    _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def hashing_service(settings: Settings) -> Iterator[KnowledgeService]:
    """A service on the fast deterministic test embedder (founding corpus embedded at open)."""
    # Hashed bags of words have lower cosines than the real model: thresholds to match.
    settings = settings.model_copy(update={"no_match_threshold": 0.05,
                                           "hit_min_similarity": 0.0})
    service = KnowledgeService.open_sync(settings, embedder=HashingEmbedder())
    yield service
    service.close()


@pytest.fixture(scope="session")
def real_embedder() -> SentenceTransformerEmbedder:
    """The real bundled model, loaded once per test session."""
    embedder = SentenceTransformerEmbedder(BUNDLED_MODEL)
    embedder.load()
    return embedder


@pytest.fixture
def real_service(settings: Settings, real_embedder: SentenceTransformerEmbedder
                 ) -> Iterator[KnowledgeService]:
    """A fresh install on the real model, seeded from the shipped prebuilt index."""
    service = KnowledgeService.open_sync(settings, embedder=real_embedder)
    yield service
    service.close()

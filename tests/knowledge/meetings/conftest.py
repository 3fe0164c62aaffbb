"""Fixtures for the meeting tests: the founding texts and the registry."""

from __future__ import annotations

import pytest

from knowledge.meetings import Meeting, load_registry
from tests.knowledge.meetings.founding_texts import FoundingText, load_founding


@pytest.fixture(scope="session")
def founding() -> dict[str, FoundingText]:
    """The five founding texts keyed "000".."004"."""
    return load_founding()


@pytest.fixture(scope="session")
def registry() -> tuple[Meeting, ...]:
    """The curated meeting registry."""
    return load_registry()


@pytest.fixture(scope="session")
def by_id(registry: tuple[Meeting, ...]) -> dict[str, Meeting]:
    """Registry meetings by id."""
    return {m.id: m for m in registry}

"""Fixtures for the people tests: the founding texts."""

from __future__ import annotations

import pytest

from tests.knowledge.meetings.founding_texts import FoundingText, load_founding


@pytest.fixture(scope="session")
def founding() -> dict[str, FoundingText]:
    """The five founding texts keyed "000".."004"."""
    return load_founding()

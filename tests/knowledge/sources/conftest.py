"""Fixtures for source tests: the local fake web server and fetch settings that trust it."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from knowledge.sources import FetchSettings
from tests.fakes.web_server import FakeWeb


@pytest.fixture
def web() -> Iterator[FakeWeb]:
    """A fake web server on 127.0.0.1 (random port) serving tests/fixtures/web."""
    with FakeWeb() as server:
        yield server


@pytest.fixture
def fetch_settings() -> FetchSettings:
    """Settings that allow exactly the fake server's address; every other private IP is refused."""
    return FetchSettings(connect_timeout=2.0, read_timeout=2.0, total_timeout=10.0,
                         max_bytes=1_000_000, allowed_addresses=frozenset({"127.0.0.1"}))


@pytest.fixture
def closed_port() -> int:
    """A local port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

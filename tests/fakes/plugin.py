"""pytest fixtures for the fake Discord; register with `pytest_plugins = ["tests.fakes.plugin"]`.

Override `fake_world` (a World) or `fake_discord_options` (FakeDiscord keyword arguments) in a
test module or conftest to change the world before the server starts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from .discord_server import FakeDiscord
from .world import World


@pytest.fixture
def fake_world() -> World:
    """The default world: guild "Summit Desk", role "Summit Admin", users owner/alice/bob."""
    return World.default()


@pytest.fixture
def fake_discord_options() -> dict[str, Any]:
    """Keyword arguments for FakeDiscord (e.g. heartbeat_interval, shard_count)."""
    return {"heartbeat_interval": 1.0}


@pytest_asyncio.fixture
async def fake_discord(
    fake_world: World, fake_discord_options: dict[str, Any]
) -> AsyncIterator[FakeDiscord]:
    """A started FakeDiscord; fails the test at teardown if Discord would have rejected a request."""
    async with FakeDiscord(fake_world, **fake_discord_options) as fake:
        yield fake
        fake.assert_no_errors()

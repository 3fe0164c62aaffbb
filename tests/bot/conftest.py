"""Fixtures shared by the bot's end-to-end modules: each module describes its own `world`
(servers, users, roles); a module needing another fake (shards, held requests) or web routes
defines its own `fake` or `web`, which pytest prefers to these."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from tests.fakes.discord_server import FakeDiscord
from tests.fakes.web_server import FakeWeb
from tests.fakes.world import World


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fake(world: World) -> AsyncIterator[FakeDiscord]:
    """One fake Discord for the module, on the module's world."""
    async with FakeDiscord(world, heartbeat_interval=0.5) as server:
        yield server


@pytest.fixture(scope="module")
def web() -> Iterator[FakeWeb]:
    """A local web server for the module (tests/fixtures/web, and its /stall that never
    answers)."""
    with FakeWeb() as server:
        yield server

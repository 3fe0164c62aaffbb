"""bot/paginator.py: page sources come and go with the cogs that register them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.client import SummitDesk
from bot.paginator import Paginator
from bot.replies import Reply
from bot.settings import BotSettings

# The cogs that register page sources, and the sources each registers.
PAGED = {"bot.exts.ask": {"ask"}, "bot.exts.article": {"art"}, "bot.exts.experts": {"experts"},
         "bot.exts.digest": {"preview", "digests"}, "bot.exts.sources": {"sources", "health"}}


async def no_pages(interaction: Any, key: str, message: Any) -> Sequence[Reply]:
    """A page source with nothing to show."""
    return []


async def other_pages(interaction: Any, key: str, message: Any) -> Sequence[Reply]:
    """Another page source with nothing to show."""
    return []


async def no_wait(interaction: Any) -> float:
    """A throttle that never holds a turn back."""
    return 0.0


@pytest_asyncio.fixture
async def desk(tmp_path: Path) -> AsyncIterator[SummitDesk]:
    """The bot with every paged cog loaded, not connected (no library opened)."""
    settings = BotSettings(_env_file=None, discord_token="x",  # type: ignore[call-arg]
                           data_dir=tmp_path / "data", embedding_model="hashing:128")
    bot = SummitDesk(settings)
    for extension in PAGED:
        await bot.load_extension(extension)
    yield bot
    bot.paginator.close()
    await bot.http.close()  # never logged in: Client.close expects a started client


def test_unregister_forgets_a_source_and_its_throttle() -> None:
    """After unregister a source and its throttle are gone; unknown names are ignored."""
    paginator = Paginator(60)
    paginator.register("ask", no_pages, throttle=no_wait)
    paginator.unregister("ask", "never")
    assert paginator.sources == {} and paginator.throttles == {}


def test_a_name_held_by_another_maker_is_refused() -> None:
    """Two makers cannot share a name (a reloaded cog must unregister first); registering the
    same maker again is harmless."""
    paginator = Paginator(60)
    paginator.register("ask", no_pages)
    paginator.register("ask", no_pages)
    with pytest.raises(ValueError, match="registered already"):
        paginator.register("ask", other_pages)
    paginator.unregister("ask")
    paginator.register("ask", other_pages)
    assert paginator.sources == {"ask": other_pages}


async def test_unloading_a_cog_leaves_no_stale_page_source(desk: SummitDesk) -> None:
    """Each cog's sources go with it (no bound method of an unloaded cog stays reachable)."""
    assert set(desk.paginator.sources) == set().union(*PAGED.values())
    for extension, sources in PAGED.items():
        await desk.unload_extension(extension)
        assert not sources & set(desk.paginator.sources), extension
    assert desk.paginator.sources == {} and desk.paginator.throttles == {}


async def test_a_reloaded_cog_registers_its_own_sources_again(desk: SummitDesk) -> None:
    """A reload registers the new cog's page makers in place of the old cog's, cleanly."""
    old = dict(desk.paginator.sources)
    for extension in PAGED:
        await desk.reload_extension(extension)
    assert set(desk.paginator.sources) == set(old)
    for source, maker in desk.paginator.sources.items():
        owner = maker.__self__  # type: ignore[attr-defined]
        assert owner is not old[source].__self__  # type: ignore[attr-defined]
        assert desk.get_cog(owner.__cog_name__) is owner, source
    assert set(desk.paginator.throttles) == {"ask"}

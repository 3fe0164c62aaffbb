"""Per-server settings (/config): stored per guild, validated, reset to the default with None."""

from __future__ import annotations

import pytest

from knowledge.errors import BadInput
from knowledge.models import GuildConfig
from knowledge.service import KnowledgeService


def test_a_server_stores_only_what_it_changed(hashing_service: KnowledgeService) -> None:
    """A new server has every field unset; changes are kept per server and survive reading."""
    guilds = hashing_service.guilds
    assert guilds.get(1) == GuildConfig(1)
    guilds.update(1, admin_role="  Digest   Editors ", alert_channel_id=55)
    guilds.update(1, ask_cooldown_rate=5, ask_cooldown_seconds=60, timezone="europe/berlin")
    assert guilds.get(1) == GuildConfig(1, "Digest Editors", 5, 60.0, "Europe/Berlin", 55)
    assert guilds.get(2) == GuildConfig(2)
    assert guilds.changed(1)["timezone"] == "Europe/Berlin"
    guilds.update(1, alert_channel_id=None)
    assert guilds.get(1).alert_channel_id is None and guilds.get(1).admin_role == "Digest Editors"


@pytest.mark.parametrize("changes", [
    {"timezone": "Mars/Olympus"}, {"ask_cooldown_rate": 0}, {"ask_cooldown_seconds": -1},
    {"admin_role": "   "}, {"colour": "blue"},
])
def test_bad_values_are_refused_and_nothing_is_stored(hashing_service: KnowledgeService,
                                                      changes: dict[str, object]) -> None:
    """Each bad value is a BadInput; the server's settings stay as they were."""
    with pytest.raises(BadInput):
        hashing_service.guilds.update(7, **changes)
    assert hashing_service.guilds.get(7) == GuildConfig(7)

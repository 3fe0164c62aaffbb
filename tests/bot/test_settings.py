"""bot/settings.py and endpoint configuration: Discord settings parse as documented."""

from __future__ import annotations

from collections.abc import Iterator

import discord
import pytest
import yarl
from pydantic import ValidationError

from bot.client import DEFAULT_API_BASE, configure_endpoints
from bot.settings import BotSettings
from knowledge.settings import settings_problems


def make(**values: object) -> BotSettings:
    """Settings from explicit values only (no environment file)."""
    values.setdefault("discord_token", "tok")
    return BotSettings(_env_file=None, **values)  # type: ignore[arg-type]


def test_token_is_secret() -> None:
    """The token never shows in the settings' repr or str."""
    settings = make(discord_token="very-secret-token")
    assert "very-secret-token" not in repr(settings) + str(settings)
    assert settings.discord_token.get_secret_value() == "very-secret-token"


def test_empty_values_mean_unset() -> None:
    """Empty DISCORD_DEV_GUILD_ID / DISCORD_SHARD_COUNT (as in .env.example) mean none."""
    settings = make(discord_dev_guild_id="", discord_shard_count="", discord_shard_ids="")
    assert settings.discord_dev_guild_id is None
    assert settings.discord_shard_count is None and settings.discord_shard_ids == []


def test_shard_ids_are_a_comma_list_within_the_count() -> None:
    """DISCORD_SHARD_IDS "0, 2" with a count of 4 selects shards 0 and 2."""
    settings = make(discord_shard_ids="0, 2", discord_shard_count="4")
    assert settings.discord_shard_ids == [0, 2] and settings.effective_shard_count == 4
    with pytest.raises(ValidationError, match="needs DISCORD_SHARD_COUNT"):
        make(discord_shard_ids="1")
    with pytest.raises(ValidationError, match="outside"):
        make(discord_shard_ids="0,4", discord_shard_count="4")


def test_custom_gateway_runs_one_shard_unless_told_otherwise() -> None:
    """Without a count, a configured gateway is used directly (one shard); else Discord decides."""
    assert make().effective_shard_count is None
    assert make(discord_gateway_url="ws://127.0.0.1:1/gw").effective_shard_count == 1


def test_empty_token_is_refused() -> None:
    """A blank token is a settings error, not a login attempt."""
    with pytest.raises(ValidationError) as caught:
        make(discord_token="   ")
    assert settings_problems(caught.value) == ["DISCORD_TOKEN: DISCORD_TOKEN is empty"]


def test_problems_name_the_setting_but_not_the_value() -> None:
    """Validation messages never echo the rejected value."""
    with pytest.raises(ValidationError) as caught:
        make(discord_shard_count="hunter2")
    (line,) = settings_problems(caught.value)
    assert line.startswith("DISCORD_SHARD_COUNT:") and "hunter2" not in line


@pytest.fixture
def endpoints() -> Iterator[None]:
    """Restore discord.py's endpoints after the test."""
    base = discord.http.Route.BASE
    gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE = base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway


def test_endpoints_follow_the_settings(endpoints: None) -> None:
    """REST and gateway URLs come from the settings; empty values restore Discord's own."""
    configure_endpoints(make(discord_api_base_url="http://127.0.0.1:9/api/v10/",
                             discord_gateway_url="ws://127.0.0.1:9/gateway"))
    assert discord.http.Route.BASE == "http://127.0.0.1:9/api/v10"
    gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    assert str(gateway) == str(yarl.URL("ws://127.0.0.1:9/gateway"))
    assert discord.http.Route("GET", "/users/@me").url == "http://127.0.0.1:9/api/v10/users/@me"
    configure_endpoints(make())
    assert discord.http.Route.BASE == DEFAULT_API_BASE
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY).startswith("wss://gateway.discord")

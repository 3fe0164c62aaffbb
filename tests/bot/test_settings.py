"""bot/settings.py and endpoint configuration: Discord settings parse as documented."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import discord
import pytest
import yarl
from pydantic import ValidationError

from bot.client import DEFAULT_API_BASE, configure_endpoints
from bot.settings import BotSettings
from knowledge.digests.schedule import cron_trigger, resolve_timezone
from knowledge.errors import BadInput
from knowledge.settings import settings_problems, unknown_env_file_keys


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


def problems(**values: object) -> list[str]:
    """The settings lines for these values (which must be refused)."""
    with pytest.raises(ValidationError) as caught:
        make(**values)
    return settings_problems(caught.value)


def test_a_shard_named_twice_is_refused() -> None:
    """DISCORD_SHARD_IDS=0,0 would open shard 0 twice and never be ready: refused, in words
    that name the setting once."""
    assert problems(discord_shard_count="2", discord_shard_ids="0,0") == [
        "DISCORD_SHARD_IDS: lists shard 0 more than once"]


def test_shard_problems_name_the_setting_once() -> None:
    """No "DISCORD_SHARD_IDS: DISCORD_SHARD_IDS ..." and no "settings: ..." prefix on a rule
    across two settings."""
    assert problems(discord_shard_ids="0,x") == [
        "DISCORD_SHARD_IDS: must be a comma list of numbers (e.g. 0,1)"]
    assert problems(discord_shard_ids="0,5", discord_shard_count="2") == [
        "DISCORD_SHARD_IDS 5 is outside 0..1 (DISCORD_SHARD_COUNT is 2)"]
    assert problems(discord_shard_ids="1") == [
        "DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT (the total)"]


def test_sharding_is_described() -> None:
    """`bot check` and the start-up line say which shards this process runs."""
    assert make().describe_sharding() == "all shards, as many as Discord recommends"
    assert make(discord_shard_count="1").describe_sharding() == "all 1 shard in this process"
    assert make(discord_shard_count="4", discord_shard_ids="0,2").describe_sharding() == \
        "shards 0, 2 of 4 in this process"


@pytest.mark.parametrize("name,value,message", [
    ("no_match_threshold", "5", "NO_MATCH_THRESHOLD: Input should be less than or equal to 1"),
    ("no_match_threshold", "-1.5", "NO_MATCH_THRESHOLD: Input should be greater than or equal "
                                   "to -1"),
    ("hit_min_similarity", "2", "HIT_MIN_SIMILARITY: Input should be less than or equal to 1"),
    ("no_match_lexical_floor", "1.01", "NO_MATCH_LEXICAL_FLOOR: Input should be less than or "
                                       "equal to 1"),
    ("fetch_connect_timeout", "-5", "FETCH_CONNECT_TIMEOUT: Input should be greater than 0"),
    ("fetch_read_timeout", "0", "FETCH_READ_TIMEOUT: Input should be greater than 0"),
    ("discord_dev_guild_id", "-5", "DISCORD_DEV_GUILD_ID: Input should be greater than or equal "
                                   "to 1"),
    ("discord_owner_guild_id", "0", "DISCORD_OWNER_GUILD_ID: Input should be greater than or "
                                    "equal to 1"),
    ("discord_api_base_url", "notaurl", "DISCORD_API_BASE_URL: must be an http:// or https:// "
                                        "URL with a host (empty: Discord's own)"),
    ("discord_api_base_url", "ws://127.0.0.1/api", "DISCORD_API_BASE_URL: must be an http:// "
                                                   "or https://"),
    ("discord_gateway_url", "ftp://x", "DISCORD_GATEWAY_URL: must be a ws:// or wss:// URL"),
    ("discord_gateway_url", "wss://", "DISCORD_GATEWAY_URL: must be a ws:// or wss:// URL"),
    ("log_level", "verbose", "LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
])
def test_meaningless_values_are_refused(name: str, value: str, message: str) -> None:
    """Cosines outside -1..1, timeouts of 0 or less, negative guild ids, URLs of the wrong
    kind and unknown log levels are settings errors at load, not surprises later."""
    (line,) = problems(**{name: value})
    assert line.startswith(message), line


def test_meaningful_values_still_pass() -> None:
    """The edges of each range, proxies' URLs, a lower-case level (stored as logging wants it)
    and database URLs SQLAlchemy reads right (a '/' or ':' in the password, a user name with
    '@' as some hosted servers use) are accepted."""
    settings = make(no_match_threshold="-1", hit_min_similarity="1", fetch_read_timeout="0.5",
                    discord_dev_guild_id="1", log_level="debug",
                    discord_api_base_url="https://proxy.example/api/v10",
                    discord_gateway_url="wss://gateway.example")
    assert settings.log_level == "DEBUG" and settings.no_match_threshold == -1
    for url in ("postgresql+psycopg://summit:p/w:x@db/summitdesk",
                "postgresql+psycopg://user@tenant:pw@db/summitdesk"):
        assert make(database_url=url).database_url == url


@pytest.mark.parametrize("name,value", [
    ("digest_default_timezone", "Mars/Olympus"), ("digest_default_timezone", "Europe/Lndon"),
    ("digest_default_schedule", "61 9 * * *"), ("digest_default_schedule", "0 9 * *"),
    ("digest_default_schedule", "0 9 1 * 1"),
])
def test_digest_defaults_are_checked_as_digest_set_checks_them(name: str, value: str) -> None:
    """A default /digest set would refuse is refused at start-up, in the digests' own words."""
    (line,) = problems(**{name: value})
    with pytest.raises(BadInput) as refused:
        if name == "digest_default_timezone":
            resolve_timezone(value)
        else:
            cron_trigger(value, "UTC")
    assert line == f"{name.upper()}: {refused.value}"


def test_good_digest_defaults_pass() -> None:
    """Another valid timezone (in any case) and schedule are accepted as /digest set would."""
    settings = make(digest_default_timezone="europe/london",
                    digest_default_schedule=" 30  7 * * 1-5 ")
    assert settings.digest_default_timezone == "Europe/London"
    assert settings.digest_default_schedule == "30 7 * * 1-5"


@pytest.mark.parametrize("password", ["S3cr3t@Qz9pw", "Kp@Zs9/Wq#Rd8", "Ax7@Bq:Cz", "Xy3@Yq/Zr?Qw"])
def test_a_password_with_an_unencoded_at_is_refused_unechoed(password: str) -> None:
    """An '@' in the password makes SQLAlchemy read its tail as host, port or database (and
    the driver then prints it): refused with a hint to percent-encode, no part echoed."""
    url = f"postgresql+psycopg://summit:{password}@db:5432/summitdesk"
    (line,) = problems(database_url=url)
    assert line.startswith("DATABASE_URL: an unencoded '@' in the password"), line
    assert "percent-encode" in line
    for part in re.split(r"[@/?#:]", password):
        assert part not in line
    encoded = url.replace(password, quote(password, safe=""))
    assert make(database_url=encoded).database_url == encoded


def test_unknown_env_file_keys_are_named_with_the_closest_setting(tmp_path: Path) -> None:
    """Upper-case keys of .env that are no setting but look like one (close to a name, or a
    known prefix) are found; other tools' keys, lower-case keys and real settings are not."""
    env = tmp_path / ".env"
    env.write_text("DATABSE_URL=sqlite://\nDISCORD_TOKNE=x\nDISCORD_SOMETHING=1\n"
                   "DISCORD_TOKEN=x\nHF_HUB_OFFLINE=1\nPOSTGRES_PASSWORD=p\n"
                   "log_levle=DEBUG\nEMBEDDING_MODEL=hashing:8\n", encoding="utf-8")
    assert unknown_env_file_keys(BotSettings.model_fields, env) == [
        ("DATABSE_URL", "DATABASE_URL"), ("DISCORD_TOKNE", "DISCORD_TOKEN"),
        ("DISCORD_SOMETHING", None)]
    assert unknown_env_file_keys(BotSettings.model_fields, tmp_path / "absent") == []


def test_custom_gateway_runs_one_shard_unless_told_otherwise() -> None:
    """Without a count, a configured gateway is used directly (one shard); else Discord decides."""
    assert make().effective_shard_count is None
    assert make(discord_gateway_url="ws://127.0.0.1:1/gw").effective_shard_count == 1


def test_empty_token_is_refused() -> None:
    """A blank token is a settings error, not a login attempt."""
    with pytest.raises(ValidationError) as caught:
        make(discord_token="   ")
    assert settings_problems(caught.value) == ["DISCORD_TOKEN is empty"]


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

"""Discord settings on top of the library's settings, built at start-up (never at import time)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from knowledge.settings import Settings

MAX_SNOWFLAKE = 2**63 - 1  # Discord ids are 64-bit


def _check_url(value: str, schemes: tuple[str, ...]) -> str:
    """An empty value, or a URL with one of `schemes` and a host (the value is not echoed:
    a proxy URL may carry credentials)."""
    value = value.strip()
    if not value:
        return value
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        host = None
    else:
        if parts.scheme.lower() not in schemes:
            host = None
    if not host:
        schemes_text = " or ".join(f"{scheme}://" for scheme in schemes)
        article = "an" if schemes_text.startswith("h") else "a"
        raise ValueError(f"must be {article} {schemes_text} URL with a host (empty: Discord's "
                         "own)")
    return value


class BotSettings(Settings):
    """Everything `python -m bot` needs: the library's settings plus Discord's."""

    discord_token: SecretStr = Field(description="The bot token from the Developer Portal.")
    discord_dev_guild_id: int | None = Field(
        None, ge=1, le=MAX_SNOWFLAKE,
        description="Sync commands to this guild only (instant); empty = global sync.",
    )
    discord_owner_guild_id: int | None = Field(
        None, ge=1, le=MAX_SNOWFLAKE,
        description="The owner's own server: /about and /resync are registered there only; "
                    "empty = the dev guild, else hidden behind Administrator.",
    )
    discord_admin_role: str = Field(
        "", description="Role name or id that may use admin commands besides Manage Server."
    )
    discord_api_base_url: str = Field(
        "", description="REST base URL (e.g. a proxy's .../api/v10); empty = Discord's own."
    )
    discord_gateway_url: str = Field(
        "", description="Gateway websocket URL (e.g. a proxy); empty = Discord's own."
    )
    discord_shard_count: int | None = Field(
        None, ge=1, description="Total shards; empty = Discord's recommendation."
    )
    discord_shard_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Shards this process runs (comma list); empty = all."
    )
    discord_guild_ready_timeout: float = Field(
        2.0, ge=0.0, description="Seconds to wait for guilds after READY before on_ready."
    )

    ask_cooldown_rate: int = Field(3, ge=1, description="/ask uses allowed per user per window.")
    ask_cooldown_seconds: float = Field(30.0, ge=0.0, description="/ask cooldown window "
                                                                 "(0 = no cooldown).")
    ask_page_size: int = Field(3, ge=1, le=10, description="Passages per /ask page.")
    ask_max_hits: int = Field(15, ge=1, le=50, description="Passages /ask pages through at most.")
    # Discord drops an interaction not acknowledged within 3 s: stay well under that.
    reply_within_ms: int = Field(
        1000, ge=0, le=2000, description="Commands and clicks that read the library "
                                         "(/ask, /latest, ...) answer in one step when done "
                                         "within this many milliseconds; slower ones show "
                                         "\"thinking…\" first (0 = always show it)."
    )
    # Interaction tokens (which edit an ephemeral page) live 15 minutes: stay under that.
    page_timeout_seconds: float = Field(
        600.0, ge=1.0, le=840.0, description="Seconds after the last click before Back/Next "
                                             "are disabled on a paged answer."
    )

    @field_validator("discord_shard_ids", mode="before")
    @classmethod
    def _split_shard_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            try:
                return [int(p) for p in parts]
            except ValueError:
                raise ValueError("must be a comma list of numbers (e.g. 0,1)") from None
        return value

    @field_validator("discord_shard_ids")
    @classmethod
    def _no_repeated_shard(cls, value: list[int]) -> list[int]:
        # discord.py would open the same shard twice and never report ready.
        repeated = sorted({i for i in value if value.count(i) > 1})
        if repeated:
            raise ValueError(f"lists shard {', '.join(map(str, repeated))} more than once")
        return value

    @field_validator("discord_api_base_url")
    @classmethod
    def _check_api_base(cls, value: str) -> str:
        return _check_url(value, ("http", "https"))

    @field_validator("discord_gateway_url")
    @classmethod
    def _check_gateway(cls, value: str) -> str:
        return _check_url(value, ("ws", "wss"))

    @field_validator("discord_token")
    @classmethod
    def _token_present(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("DISCORD_TOKEN is empty")
        return value

    @model_validator(mode="after")
    def _shards_consistent(self) -> BotSettings:
        if self.discord_shard_ids:
            if self.discord_shard_count is None:
                raise ValueError("DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT (the total)")
            bad = [i for i in self.discord_shard_ids if not 0 <= i < self.discord_shard_count]
            if bad:
                top = self.discord_shard_count - 1
                raise ValueError(f"DISCORD_SHARD_IDS {', '.join(map(str, bad))} "
                                 f"{'is' if len(bad) == 1 else 'are'} outside 0..{top} "
                                 f"(DISCORD_SHARD_COUNT is {self.discord_shard_count})")
        return self

    def secret_values(self) -> list[str]:
        """Strings no output may show: the token and the database password."""
        return [self.discord_token.get_secret_value(), *super().secret_values()]

    def describe_sharding(self) -> str:
        """The shard set-up in words, for `bot check` and the start-up log line."""
        count = self.effective_shard_count
        if self.discord_shard_ids:
            ids = ", ".join(map(str, self.discord_shard_ids))
            return f"shards {ids} of {count} in this process"
        if count is None:
            return "all shards, as many as Discord recommends"
        return f"all {count} shard{'s' if count != 1 else ''} in this process"

    @property
    def effective_shard_count(self) -> int | None:
        """Shards to run: the setting, else one when a custom gateway is set, else Discord's."""
        if self.discord_shard_count is not None:
            return self.discord_shard_count
        # Without a count discord.py asks GET /gateway/bot and connects to the URL it returns;
        # a configured gateway must win, so run one shard against it directly.
        return 1 if self.discord_gateway_url else None


def load_bot_settings(**overrides: object) -> BotSettings:
    """Build the bot's settings from the environment, `.env` and explicit overrides."""
    return BotSettings(**overrides)  # type: ignore[arg-type]

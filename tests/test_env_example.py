"""`.env.example` documents every setting the bot and the library read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import BotSettings
from knowledge.cli.common import cli_settings
from knowledge.settings import Settings, unknown_env_file_keys

REPO = Path(__file__).resolve().parent.parent


def test_every_setting_is_listed_with_a_comment() -> None:
    """Each settings field appears in .env.example, preceded by a comment line."""
    lines = (REPO / ".env.example").read_text(encoding="utf-8").splitlines()
    missing, uncommented = [], []
    for field in BotSettings.model_fields:
        name = field.upper()
        index = next((i for i, line in enumerate(lines)
                      if re.match(rf"^#?\s*{name}=", line)), None)
        if index is None:
            missing.append(name)
            continue
        above = [line for line in lines[:index] if line.strip()]
        if not above or not (above[-1].startswith("#") or re.match(r"^#?\s*[A-Z_]+=", above[-1])):
            uncommented.append(name)
    assert not missing, f"not in .env.example: {missing}"
    assert not uncommented


def test_the_example_is_a_valid_settings_file() -> None:
    """Copied as it is (plus a token), .env.example loads: every active value passes the
    checks settings now make, no key in it is unknown, and it leaves DATA_DIR to the
    environment (a copy as systemd's EnvironmentFile would override the unit's DATA_DIR)."""
    example = REPO / ".env.example"
    settings = BotSettings(_env_file=example, discord_token="x")  # type: ignore[call-arg]
    assert "data_dir" not in settings.model_fields_set
    assert unknown_env_file_keys(BotSettings.model_fields, example) == []


def test_the_cooldown_is_switched_off_as_documented() -> None:
    """The comment says ASK_COOLDOWN_SECONDS=0 switches the /ask cooldown off: that value is
    accepted; ASK_COOLDOWN_RATE must stay at least 1 (0 would not mean "off")."""
    text = (REPO / ".env.example").read_text(encoding="utf-8")
    assert "(ASK_COOLDOWN_SECONDS=0 = no cooldown)" in text and "(0 = off)" not in text
    assert BotSettings(_env_file=None, discord_token="x",  # type: ignore[call-arg]
                       ask_cooldown_seconds=0).ask_cooldown_seconds == 0
    with pytest.raises(ValidationError, match="ask_cooldown_rate"):
        BotSettings(_env_file=None, discord_token="x", ask_cooldown_rate=0)  # type: ignore[call-arg]


def test_the_example_means_the_same_to_the_bot_and_the_command_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Copied to .env (plus a token), .env.example gives every library setting the same value
    through BotSettings and the CLI's settings as through the library's own Settings: no
    check of the library is lost in the bot (EMBEDDING_ONNX_FILE= was Path('.') there)."""
    text = (REPO / ".env.example").read_text(encoding="utf-8")
    assert "\nDISCORD_TOKEN=\n" in text
    (tmp_path / ".env").write_text(text.replace("\nDISCORD_TOKEN=\n", "\nDISCORD_TOKEN=x\n"),
                                   encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    library = Settings()  # type: ignore[call-arg]
    bot = BotSettings()  # type: ignore[call-arg]
    cli = cli_settings()
    assert library.embedding_onnx_file is None
    for field in Settings.model_fields:
        assert getattr(bot, field) == getattr(library, field), field
        assert getattr(cli, field) == getattr(library, field), field
    assert bot.discord_dev_guild_id is None and bot.discord_shard_count is None


def test_no_subclass_replaces_a_settings_validator() -> None:
    """pydantic lets a subclass's validator replace the parent's of the same name: each of
    the library's validators is still the one the bot's settings run."""
    parent = Settings.__pydantic_decorators__
    child = BotSettings.__pydantic_decorators__
    for kind in ("field_validators", "model_validators"):
        mine, theirs = getattr(parent, kind), getattr(child, kind)
        for name, decorator in mine.items():
            assert name in theirs, (kind, name)
            assert unbound(theirs[name].func) is unbound(decorator.func), (kind, name)


def unbound(function: object) -> object:
    """The function under a classmethod's binding (each class binds its own)."""
    return getattr(function, "__func__", function)


def test_the_example_leaves_the_log_format_to_the_image() -> None:
    """LOG_FORMAT stays commented out: compose's env_file would otherwise override the Docker
    image's LOG_FORMAT=json with text."""
    example = REPO / ".env.example"
    settings = BotSettings(_env_file=example, discord_token="x")  # type: ignore[call-arg]
    assert "log_format" not in settings.model_fields_set
    assert "ENV" in (REPO / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert "LOG_FORMAT=json" in (REPO / "deploy" / "Dockerfile").read_text(encoding="utf-8")

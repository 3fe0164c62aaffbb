"""Operator-facing settings rules: a read-only DATA_DIR is named as such, and LOG_FORMAT takes
any case as LOG_LEVEL does."""

from __future__ import annotations

import errno
import tempfile
from pathlib import Path
from typing import Any

import pytest

from knowledge.errors import ConfigurationError
from knowledge.settings import (
    Settings,
    database_url_secrets,
    database_url_without_password,
    display_database_url,
)


def test_a_read_only_data_dir_is_named_read_only_not_given_chown_advice(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """EROFS (a `:ro` volume, systemd's ProtectSystem=strict) says the file system is read-only
    and how to mount it read-write; chown cannot help there, so it is not suggested."""
    def read_only(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", read_only)
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError) as caught:
        settings.ensure_data_dir()
    message = str(caught.value)
    assert message.startswith(f"DATA_DIR {tmp_path.resolve()} is on a read-only file system: "
                              "mount it read-write"), message
    assert "ReadWritePaths=" in message and "chown" not in message


@pytest.mark.parametrize("written", ["JSON", "Json", " json ", "TEXT"])
def test_log_format_accepts_any_case(written: str) -> None:
    """LOG_FORMAT=JSON is json (it was refused while LOG_LEVEL=debug passed)."""
    settings = Settings(_env_file=None, log_format=written)  # type: ignore[call-arg]
    assert settings.log_format == written.strip().lower()


def test_a_password_given_as_a_query_parameter_is_masked_too() -> None:
    """`?password=` (libpq's other spelling) is hidden wherever a database URL is shown or
    logged, like the user part's password; the index cache's name drops either."""
    url = "postgresql+psycopg://summit@db/x?sslmode=require&password=Quer%40yPw"
    assert display_database_url(url) == \
        "postgresql+psycopg://summit@db/x?sslmode=require&password=***"
    assert {"Quer%40yPw", "Quer@yPw"} <= set(database_url_secrets(url))
    assert database_url_without_password(url) == "postgresql+psycopg://summit@db/x?sslmode=require"
    both = "postgresql+psycopg://summit:Us3rPw@db/x?password=Quer%40yPw"
    assert display_database_url(both) == "postgresql+psycopg://summit:***@db/x?password=***"

"""knowledge/logs.py masks credentials in every line it writes: interaction and webhook tokens in
the URLs discord.py logs at DEBUG, "token" fields, URL passwords and the configured secrets."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import discord
import pytest

from knowledge.logs import hide_in_logs, redact, setup_logging

INTERACTION_TOKEN = "itok_aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OTA6c2VjcmV0"
WEBHOOK_TOKEN = "wtok_Zm9vYmFyYmF6cXV4LXNlY3JldC13ZWJob29r"


@pytest.fixture(autouse=True)
def root_logging() -> Iterator[None]:
    """Put the root logger back as it was after each test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def log_discord_requests() -> None:
    """What discord.py's HTTP client and webhook adapter log at DEBUG for an interaction's
    callback and its @original edit (their own format strings, URLs from their own routes)."""
    callback = discord.http.Route("POST", "/interactions/{interaction_id}/{interaction_token}"
                                  "/callback", interaction_id=1234567890123,
                                  interaction_token=INTERACTION_TOKEN).url
    logging.getLogger("discord.http").debug("%s %s with %s has returned %s", "POST", callback,
                                            None, 204)
    edit = discord.http.Route("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
                              webhook_id=987654321, webhook_token=WEBHOOK_TOKEN).url
    logging.getLogger("discord.webhook.async_").debug(
        "Webhook ID %s with %s %s has returned status code %s", 987654321, "PATCH", edit, 200)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_interaction_and_webhook_tokens_are_masked(fmt: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """At DEBUG the request lines are kept, their tokens replaced by ***."""
    setup_logging("DEBUG", fmt)
    log_discord_requests()
    logging.getLogger("discord.state").debug("payload %s", {"type": 2, "token": INTERACTION_TOKEN})
    logging.getLogger("bot").info("followup", extra={"payload": {"token": WEBHOOK_TOKEN}})
    err = capsys.readouterr().err
    assert INTERACTION_TOKEN not in err and WEBHOOK_TOKEN not in err
    assert "/interactions/1234567890123/***/callback" in err
    assert "/webhooks/987654321/***/messages/@original" in err
    assert err.count("***") == 4, err


def test_configured_secrets_are_masked_also_in_tracebacks(
        capsys: pytest.CaptureFixture[str]) -> None:
    """The bot token and database password the settings name, given at set-up or later, are
    masked in messages and tracebacks; a URL's password is masked even when not configured."""
    setup_logging("INFO", "text", secrets=["bot-token-Hunter2"])
    hide_in_logs(["db-Pass-W0rd"])
    try:
        raise RuntimeError("login with bot-token-Hunter2 to postgresql://summit:db-Pass-W0rd@db/x")
    except RuntimeError:
        logging.getLogger("bot").exception("failed")
    logging.getLogger("x").warning("see mysql://root:Other-Pw1@h/db")
    err = capsys.readouterr().err
    assert "Hunter2" not in err and "db-Pass-W0rd" not in err and "Other-Pw1" not in err
    assert "RuntimeError: login with *** to postgresql://summit:***@db/x" in err
    assert "mysql://root:***@h/db" in err
    assert redact("printed db-Pass-W0rd") == "printed ***"

"""bot/tree.py: which errors users see as a short message and which are logged as bugs."""

from __future__ import annotations

import types
from typing import Any

import discord
import pytest
from discord import app_commands

import bot.tree
from bot.checks import NotAdmin
from bot.tree import GENERIC, explain, run_component
from knowledge.errors import BadInput, NotFound


@app_commands.command(name="probe", description="A command to attach errors to.")
async def probe(interaction: discord.Interaction) -> None:
    """Never invoked."""


def test_domain_errors_become_sentences_saying_what_next() -> None:
    """A KnowledgeError raised inside a command is the user's answer, not a bug: as a full
    sentence, with what to do next unless it says so already."""
    wrapped = app_commands.CommandInvokeError(probe, NotFound("no expert called “Smith”"))
    assert explain(wrapped) == ("No expert called “Smith”. Check the spelling (suggestions "
                                "appear as you type), or see /help.", False)
    message, _ = explain(BadInput("the question is empty"))
    assert message.startswith("The question is empty. Change that") and "/help" in message
    assert explain(NotFound("no meeting matches “x”", listing="summits")) == (
        "No meeting matches “x”. /summits lists them all; suggestions appear as you type.",
        False)


def test_a_clicked_menu_whose_article_is_gone_says_so_not_check_the_spelling() -> None:
    """A Read pick (or any button) pointing at an article deleted since it was posted: nothing
    was typed, so no "check the spelling"; the reply says it may have been removed."""
    message, unexpected = explain(NotFound("no article #3"), clicked=True)
    assert message == ("No article #3. It may have been removed from the library since this "
                       "was posted; /latest shows what is new.") and not unexpected
    assert "spelling" in explain(NotFound("no article #3"))[0]  # typed: as before


def test_every_refusal_is_a_sentence_with_a_next_step() -> None:
    """Each framework refusal starts with a capital, ends with a stop and names a way on."""
    errors = [app_commands.NoPrivateMessage(), app_commands.CheckFailure(),
              app_commands.BotMissingPermissions(["embed_links"]),
              app_commands.MissingPermissions(["manage_guild"]),
              app_commands.CommandNotFound("gone", [])]
    for error in errors:
        message, unexpected = explain(error)
        assert message[0].isupper() and message.endswith("."), message
        assert not unexpected
        assert any(step in message for step in ("/", "run it", "grant", "Ask one")), message


def test_cooldown_is_friendly_and_says_when() -> None:
    """The cooldown refusal says how long to wait."""
    error = app_commands.CommandOnCooldown(app_commands.Cooldown(1, 30.0), 12.4)
    message, unexpected = explain(error)
    assert "ask again in 12 s" in message and not unexpected


def test_refusals_are_not_bugs() -> None:
    """Permission refusals are short, expected answers."""
    assert explain(NotAdmin("Only server admins (Manage Server) can use this command.")) == (
        "Only server admins (Manage Server) can use this command.", False)
    assert explain(app_commands.NoPrivateMessage())[1] is False


def test_anything_else_is_a_generic_reply_and_a_logged_bug() -> None:
    """Unexpected exceptions get the generic reply and are flagged for a logged traceback."""
    wrapped = app_commands.CommandInvokeError(probe, KeyError("boom"))
    assert explain(wrapped) == (GENERIC, True)


def test_a_value_that_could_not_be_read_is_echoed_inert() -> None:
    """An option value discord.py could not convert is repeated without Markdown, mentions or
    direction controls (an override would reverse the rest of the sentence)."""
    error = app_commands.TransformerError("\u202e**x** @everyone", discord.AppCommandOptionType.string,
                                          app_commands.Transformer())
    message, unexpected = explain(error)
    assert "\u202e" not in message and "**" not in message and "@everyone" not in message
    assert message.startswith("I could not understand “") and not unexpected


@pytest.fixture
def component_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any, str | None]]:
    """What run_component reported and logged, instead of Discord and the log."""
    calls: list[tuple[str, Any, str | None]] = []

    async def report(interaction: Any, error: BaseException, command: str | None = None) -> None:
        calls.append(("report", error, command))

    def logged(interaction: Any, outcome: str, command: str | None = None) -> None:
        calls.append(("log", outcome, command))

    monkeypatch.setattr(bot.tree, "report_error", report)
    monkeypatch.setattr(bot.tree, "log_interaction", logged)
    return calls


async def test_a_component_failure_gets_the_tree_reply(
        component_calls: list[tuple[str, Any, str | None]]) -> None:
    """A button's or menu's work that raises is answered like a failed command, not logged ok."""
    interaction: Any = types.SimpleNamespace(extras={})
    boom = KeyError("boom")

    async def work() -> None:
        raise boom

    await run_component(interaction, "read", work())
    assert component_calls == [("report", boom, "read")]
    assert interaction.extras  # the latency clock started


async def test_a_component_outcome_is_logged(
        component_calls: list[tuple[str, Any, str | None]]) -> None:
    """The outcome the work returns is logged under the component's name; None means ok."""
    async def refused() -> str:
        return "refused"

    async def done() -> None:
        return None

    await run_component(types.SimpleNamespace(extras={}), "read", refused())  # type: ignore[arg-type]
    await run_component(types.SimpleNamespace(extras={}), "latest (button)", done())  # type: ignore[arg-type]
    assert component_calls == [("log", "refused", "read"), ("log", "ok", "latest (button)")]

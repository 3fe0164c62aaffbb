"""bot/tree.py: which errors users see as a short message and which are logged as bugs."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.checks import NotAdmin
from bot.tree import GENERIC, explain
from knowledge.errors import BadInput, NotFound


@app_commands.command(name="probe", description="A command to attach errors to.")
async def probe(interaction: discord.Interaction) -> None:
    """Never invoked."""


def test_domain_errors_are_shown_verbatim() -> None:
    """A KnowledgeError raised inside a command is the user's answer, not a bug."""
    wrapped = app_commands.CommandInvokeError(probe, NotFound("no expert called “Smith”"))
    assert explain(wrapped) == ("no expert called “Smith”", False)
    assert explain(BadInput("the question is empty")) == ("the question is empty", False)


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

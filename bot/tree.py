"""The one CommandTree: every app-command error becomes a short reply; bugs are also logged."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.checks import ADMINS_ONLY, NotAdmin, NotOwner, give_back_search
from bot.replies import clean, clean_cut
from bot.respond import answer_text, log_interaction, mark_started
from knowledge.errors import BadInput, ConfigurationError, KnowledgeError, NotFound

if TYPE_CHECKING:
    from bot.client import SummitDesk

log = logging.getLogger(__name__)

GENERIC = ("Something went wrong on my side. The error is logged; please try again in a "
           "minute, and tell the server's admins if it keeps happening.")
# What to do next, for a domain error whose message does not say it already.
NEXT_STEP = {
    BadInput: "Change that and run the command again; /help shows an example of each command.",
    NotFound: "Check the spelling (suggestions appear as you type), or see /help.",
    ConfigurationError: "Please tell the bot's operator.",
}
HINTED = ("/", "try ", "use ", "give ", "write ", "set one", "add it", "upload", "again")


def sentence(text: str) -> str:
    """A message as a full sentence: capital first letter, closing punctuation."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…" else f"{text}."


# A NotFound from something the bot posted (a Read menu, a button): nothing was typed, so
# nothing to spell; what it pointed to went away since (an article deleted).
GONE = "It may have been removed from the library since this was posted; /latest shows what is new."


def domain_message(error: KnowledgeError, *, clicked: bool = False) -> str:
    """A domain error as one or two sentences: what is wrong, then what to do next;
    `clicked`: it came from a button or menu the bot posted, not from typed input."""
    message = sentence(clean(str(error))) or "That did not work."  # may quote what was typed
    if isinstance(error, NotFound) and clicked:
        return f"{message} {GONE}"
    if isinstance(error, NotFound) and error.listing:
        return f"{message} /{error.listing} lists them all; suggestions appear as you type."
    if any(hint in message.casefold() for hint in HINTED):
        return message
    step = next((text for kind, text in NEXT_STEP.items() if isinstance(error, kind)),
                "See /help for what each command expects.")
    return f"{message} {step}"


def explain(error: BaseException, *, clicked: bool = False) -> tuple[str, bool]:
    """A user-facing message for an error, and whether it is unexpected (a bug).

    Every message is a full sentence that says what to do next.
    """
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    if isinstance(original, KnowledgeError):
        return domain_message(original, clicked=clicked), False
    if isinstance(error, app_commands.CommandOnCooldown):
        return (f"Easy there: you can ask again in {max(error.retry_after, 1):.0f} s. "
                "The cooldown keeps answers fast for everyone."), False
    if isinstance(error, NotAdmin | NotOwner):
        return str(error), False
    if isinstance(error, app_commands.MissingPermissions | app_commands.MissingRole
                  | app_commands.MissingAnyRole):
        return ADMINS_ONLY, False
    if isinstance(error, app_commands.BotMissingPermissions):
        missing = ", ".join(p.replace("_", " ") for p in error.missing_permissions)
        return (f"I need these permissions here: {missing}. A server admin can grant them in "
                "the channel's settings."), False
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works in a server: run it in one of its channels.", False
    if isinstance(error, app_commands.TransformerError):
        return (f"I could not understand “{clean_cut(str(error.value), 100)}”. Pick one of the "
                "suggestions, or see /help for the format."), False
    if isinstance(error, app_commands.CheckFailure):
        return "You cannot use this command here. See /help for what you can use.", False
    if isinstance(error, app_commands.CommandSignatureMismatch):
        return ("This command changed since it was registered with Discord; the bot's owner "
                "can run /resync. Please try again later."), False
    if isinstance(error, app_commands.CommandNotFound):
        return "That command is not available any more. Type / to see the current ones.", False
    return GENERIC, True


# Discord's codes for an interaction that can no longer be answered: its token expired, or
# the 3-second acknowledgement was missed (Discord was slow to take it, a 429 held it back).
EXPIRED_CODES = {10062, 10015}  # Unknown interaction, Unknown webhook


async def report_error(interaction: discord.Interaction[SummitDesk], error: BaseException,
                       command: str | None = None) -> None:
    """Reply with the short explanation; log unexpected errors with their traceback. An
    interaction Discord no longer knows is one WARNING line: no reply can reach the user (their
    client says the bot did not respond) and it is no bug to page an operator for."""
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    name = command or (interaction.command.qualified_name if interaction.command else "?")
    if isinstance(original, discord.NotFound) and original.code in EXPIRED_CODES:
        log.warning("command %s for user %s in guild %s: Discord no longer knows the "
                    "interaction (%s %s), no reply possible", name, interaction.user.id,
                    interaction.guild_id, original.code, original.text)
        log_interaction(interaction, "expired", command=name)
        return
    clicked = interaction.type is discord.InteractionType.component
    message, unexpected = explain(error, clicked=clicked)
    give_back_search(interaction, error)
    if unexpected:
        log.error("command %s failed for user %s in guild %s", name, interaction.user.id,
                  interaction.guild_id, exc_info=original)
    log_interaction(interaction, "error" if unexpected else "refused", command=name)
    await answer_text(interaction, message, ephemeral=True)


async def run_component(interaction: discord.Interaction[Any], command: str,
                        work: Awaitable[str | None]) -> None:
    """Run a button's or select menu's `work` the way the tree runs a command: the latency
    clock starts, a failure becomes `report_error`'s short private reply (the tree's `on_error`
    never sees component callbacks), and the outcome `work` returns (None: "ok") is logged."""
    mark_started(interaction)
    try:
        outcome = await work
    except Exception as exc:
        await report_error(interaction, exc, command=command)
        return
    log_interaction(interaction, outcome or "ok", command=command)


class SummitTree(app_commands.CommandTree["SummitDesk"]):
    """Command tree with one error handler and a per-interaction log line."""

    async def interaction_check(self, interaction: discord.Interaction[SummitDesk], /) -> bool:
        """Start the latency clock for every command and autocomplete."""
        mark_started(interaction)
        return True

    async def on_error(self, interaction: discord.Interaction[SummitDesk],
                       error: app_commands.AppCommandError, /) -> None:
        """Domain errors and refusals as short ephemeral replies; bugs as a generic reply."""
        await report_error(interaction, error)

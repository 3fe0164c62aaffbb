"""/help (and a bare mention of the bot): what the library holds and one example per command; a
mention with a question gets the /ask command to paste."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import UserCooldowns, server_cooldown
from bot.exts._choices import TOPIC_LIMIT
from bot.exts._render import DM_SCOPE
from bot.replies import HELP_COLOUR, EmbedBuilder, Reply, clean_cut, code, counted, notice
from bot.respond import answer, in_time
from knowledge.service import KnowledgeService
from knowledge.visibility import viewer

if TYPE_CHECKING:
    from bot.client import SummitDesk

log = logging.getLogger(__name__)

# One example per command people can see; a command without one shows its description.
EXAMPLES: dict[str, str] = {
    "ask": "`/ask question: what did experts expect from the last summit?` · narrow it with "
           "`expert:`, `publisher:`, `since: 2017`, `until: 2019-06`",
    "article": "`/article id:` type part of a title: read the whole article (only you see it)",
    "latest": "`/latest count: 5`: the newest articles",
    "expert": "`/expert name:` pick a name from the suggestions, `topic:` optional",
    "experts": "`/experts`: everyone the library quotes",
    "compare": "`/compare topic: the economy`: each expert's best passage side by side",
    "summit": "`/summit name:` pick a meeting from the suggestions: before and after",
    "summits": "`/summits`: every meeting, with a timeline",
    "help": "`/help`: this card (or mention me)",
}
CONTEXT_MENU_HINT = ("On any message: **Apps → Ask Summit Desk** asks the library with its "
                     "text (only you see the answer).")
ADMIN_GROUPS = ("source", "digest", "config")
HELP_WORDS = ("", "help", "/help")


def mention_question(message: discord.Message, me: discord.abc.User) -> tuple[str, bool]:
    """What a message mentioning the bot says besides the mention, as one line a slash
    option takes: other mentions as the names they show, no invisible characters or code
    marks (backticks), at most TOPIC_LIMIT characters; and whether it had to be cut."""
    shown = next((u for u in message.mentions if u.id == me.id), me)
    text = message.clean_content.replace(f"@{shown.display_name}", " ")
    text = KnowledgeService.tidy_question(text.replace("`", " "))
    if len(text) <= TOPIC_LIMIT:
        return text, False
    return text[:TOPIC_LIMIT].rsplit(" ", 1)[0], True


def question_reply(question: str, cut: bool = False) -> Reply:
    """The answer to a mention with a question: the /ask command that asks it, to paste
    (saying so when the question was too long for it)."""
    shortened = (f" Your question was cut to fit: /ask takes {TOPIC_LIMIT} characters at "
                 f"most.") if cut else ""
    return notice(f"I answer questions through /ask, which cites who said what. Paste this in "
                  f"the message box: {code(f'/ask question: {question}', TOPIC_LIMIT + 20)}"
                  f"{shortened}")


def posting_rights(message: discord.Message) -> discord.Permissions:
    """What the bot may do in the message's channel (everything in a DM to it)."""
    if message.guild is None:
        return discord.Permissions.all()
    return message.channel.permissions_for(message.guild.me)


def command_lines(names: Iterable[tuple[str, str]]) -> list[str]:
    """`(name, description)` of the public commands -> one example line each."""
    return [f"• {EXAMPLES.get(name) or f'`/{name}`: {description}'}" for name, description in names]


def help_embed(*, articles: int, passages: int, experts: int, publishers: list[str],
               commands_shown: Iterable[tuple[str, str]], admin_groups: Iterable[str],
               in_dm: bool = False) -> discord.Embed:
    """The /help card: size of the library, its founding publishers, one example per command
    (in a DM, a sentence saying that the articles servers added are not counted or searched)."""
    builder = EmbedBuilder(title="Summit Desk: expert commentary, cited", colour=HELP_COLOUR)
    founded = ", ".join(clean_cut(p, 80) for p in publishers) or "its first articles"
    builder.set_description(
        f"A library of **{counted(articles, 'article')}** ({counted(passages, 'passage')}, "
        f"{counted(experts, 'expert')}), "
        f"started with articles from {founded}. Every answer cites who said it, where and "
        "when; **Read** opens the source." + (f" {DM_SCOPE}" if in_dm else ""))
    builder.add_field("Commands", "\n".join(command_lines(commands_shown)))
    builder.add_field("On a message", CONTEXT_MENU_HINT)
    groups = [f"`/{g}`" for g in admin_groups]
    if groups:
        builder.add_field("Server admins", f"{', '.join(groups)}: sources, digests, alerts and "
                                           "settings (Manage Server or the admin role).")
    builder.set_footer("Mention me to see this card again.")
    return builder.build()


class Help(commands.Cog):
    """/help and the mention reply."""

    def __init__(self, bot: SummitDesk) -> None:
        self.bot = bot
        self.mention_cooldowns = UserCooldowns()

    async def help_reply(self, guild_id: int | None) -> Reply:
        """The help card, from the size of the library the asker's server sees (a DM: the
        operator's library) and the synced command tree."""
        service = self.bot.service
        stats = await service.run(service.stats, guild_id=viewer(guild_id))
        shown: list[tuple[str, str]] = []
        admin: list[str] = []
        for command in self.bot.tree.get_commands(type=discord.AppCommandType.chat_input):
            if command.name in ADMIN_GROUPS:
                admin.append(command.name)
            elif command.default_permissions is None:  # owner-only ones are gated: left out
                shown.append((command.name, command.description))
        return Reply(embeds=[help_embed(
            articles=stats.articles, passages=stats.passages, experts=stats.experts,
            publishers=service.founding_publishers(), commands_shown=shown, admin_groups=admin,
            in_dm=guild_id is None)])

    @app_commands.command(name="help", description="What Summit Desk knows and how to ask it.")
    async def help(self, interaction: discord.Interaction[SummitDesk]) -> None:
        """Public, short help with an example per command."""
        await answer(interaction, await in_time(interaction,
                                                self.help_reply(interaction.guild_id)))

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A message that mentions the bot gets the help card when it says nothing else (or
        "help"), else the /ask command asking what it says; none while its author is on the
        /ask cooldown, for a bot, a text command ("@Summit Desk resync": its own handler
        answers), a reply to one of the bot's messages without a mention in its text, or in a
        channel where the bot cannot post."""
        me = self.bot.user
        if me is None or message.author.bot or not any(u.id == me.id for u in message.mentions):
            return
        tokens = (f"<@{me.id}>", f"<@!{me.id}>")
        rest = message.content
        for token in tokens:
            rest = rest.replace(token, " ")
        wants_help = rest.strip().casefold() in HELP_WORDS
        if not wants_help and not any(token in message.content for token in tokens):
            return  # a reply that pings the bot: conversation, not a question for it
        if not wants_help and (await self.bot.get_context(message)).valid:
            return
        question, cut = ("", False) if wants_help else mention_question(message, me)
        rights = posting_rights(message)
        if not rights.send_messages or (not question and not rights.embed_links):
            log.info("mention by user %s in channel %s left unanswered: I may not post there",
                     message.author.id, message.channel.id)
            return
        guild_id = message.guild.id if message.guild else None
        # Each reply posts (a card also counts the library): a mention is held to the /ask
        # cooldown like a question, and one on cooldown gets no answer at all (an answer
        # saying so would be the very post the cooldown is there to spare).
        wait = self.mention_cooldowns.retry_after_for(
            message.author.id, await server_cooldown(self.bot, guild_id))
        if wait:
            log.info("help mention by user %s in channel %s left unanswered: cooling down "
                     "for %.0f s", message.author.id, message.channel.id, wait)
            return
        try:
            reply = question_reply(question, cut) if question \
                else await self.help_reply(guild_id)
            # A reply needs Read Message History; without it the answer is a plain post.
            if rights.read_message_history:
                await message.reply(**reply.kwargs(), mention_author=False)
            else:
                await message.channel.send(**reply.kwargs())
        except discord.HTTPException as exc:
            log.warning("could not answer a mention in channel %s: %s", message.channel.id, exc)


async def setup(bot: SummitDesk) -> None:
    """Extension entry point."""
    await bot.add_cog(Help(bot))

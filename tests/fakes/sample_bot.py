"""A tiny real discord.py bot the fake Discord's self-tests drive (run as a subprocess).

Environment: FAKE_API_BASE, FAKE_GATEWAY_URL, FAKE_TOKEN, FAKE_GUILD_ID (for a guild-only
command), SAMPLE_SHARD ("id/count": an AutoShardedBot for that one shard; "auto": an AutoShardedBot
that asks GET /gateway/bot for the shard count), SAMPLE_SYNC ("0"
to skip the command sync).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import sys
import traceback
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

log = logging.getLogger("sample_bot")

FRUITS = ["apple", "apricot", "banana", "cherry"]


class ClickView(discord.ui.View):
    """One button that rewrites the message it sits on."""

    @discord.ui.button(label="Click", custom_id="sample:click", style=discord.ButtonStyle.primary)
    async def click(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        """Edit the message in place (callback type 7)."""
        await interaction.response.edit_message(content=f"clicked by {interaction.user.name}", view=None)


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    """A one-field modal."""

    text: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(
        label="Your feedback", custom_id="feedback:text"
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        """Thank the user, quoting what they typed."""
        await interaction.response.send_message(f"thanks: {self.text.value}", ephemeral=True)


summit = app_commands.Group(name="summit", description="Summit commands")


@summit.command(name="list", description="List summits")
async def summit_list(interaction: discord.Interaction) -> None:
    """A subcommand."""
    await interaction.response.send_message("summits: 1956, 1993")


SampleBot = commands.Bot | commands.AutoShardedBot


def add_commands(bot: SampleBot, guild_id: int | None) -> None:
    """Register the sample slash commands."""
    tree = bot.tree

    @tree.command(description="Reply pong")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong", allowed_mentions=discord.AllowedMentions.none())

    @tree.command(description="Defer, then follow up")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await asyncio.sleep(0.05)
        await interaction.followup.send("done slowly", embed=discord.Embed(title="Slow", description="x"))

    @tree.command(description="Pick a fruit")
    @app_commands.describe(name="The fruit")
    async def fruit(interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(f"you picked {name}")

    @fruit.autocomplete("name")
    async def fruit_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=f, value=f) for f in FRUITS if f.startswith(current)]

    @tree.command(description="Show a button")
    async def buttons(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("choose", view=ClickView())

    @tree.command(description="Upload a file")
    async def upload(interaction: discord.Interaction, file: discord.Attachment) -> None:
        data = await file.read()
        await interaction.response.send_message(
            f"got {file.filename} {len(data)} bytes",
            file=discord.File(io.BytesIO(data[::-1]), "reversed.bin"),
            ephemeral=True,
        )

    @tree.command(description="Post in the channel")
    async def post(interaction: discord.Interaction, text: str) -> None:
        await interaction.response.defer(ephemeral=True)
        assert isinstance(interaction.channel, discord.abc.Messageable)
        message = await interaction.channel.send(text)
        await interaction.followup.send(f"posted {message.id}")

    @tree.command(description="Open a modal")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(FeedbackModal())

    @tree.command(description="Count cached members")
    async def members(interaction: discord.Interaction) -> None:
        assert interaction.guild is not None
        await interaction.response.send_message(f"members: {len(interaction.guild.members)}")

    @tree.command(description="Admins only")
    @app_commands.default_permissions(manage_guild=True)
    async def adminonly(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("admin ok")

    @tree.command(description="Exercise original-response and followup edits")
    async def edits(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("first")
        original = await interaction.original_response()
        await interaction.edit_original_response(content=f"edited {original.id}")
        extra = await interaction.followup.send("extra", ephemeral=True, wait=True)
        await extra.edit(content="extra edited")
        await extra.delete()
        assert isinstance(interaction.channel, discord.abc.Messageable)
        note = await interaction.channel.send("channel note")
        await note.edit(content="channel note edited")

    @tree.command(description="DM the invoker")
    async def dmme(interaction: discord.Interaction) -> None:
        await interaction.user.send("psst")
        await interaction.response.send_message("sent", ephemeral=True)

    @tree.context_menu(name="Shout")
    async def shout(interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.response.send_message(message.content.upper(), ephemeral=True)

    tree.add_command(summit)

    if guild_id:
        @tree.command(description="Guild-only ping", guild=discord.Object(guild_id))
        async def guildping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(f"guild pong {interaction.guild_id}")

    @tree.error
    async def on_app_command_error(interaction: discord.Interaction, error: Exception) -> None:
        print("COMMAND ERROR", flush=True)
        traceback.print_exception(error)


def build_bot() -> SampleBot:
    """A Bot (or AutoShardedBot for one shard) configured from the environment."""
    intents = discord.Intents.default()
    intents.members = True
    intents.message_content = True
    options: dict[str, Any] = {"command_prefix": "!", "intents": intents, "guild_ready_timeout": 0.05}
    shard = os.environ.get("SAMPLE_SHARD")
    guild_id = int(os.environ.get("FAKE_GUILD_ID", "0")) or None
    sync = os.environ.get("SAMPLE_SYNC", "1") == "1"
    bot: SampleBot
    if shard == "auto":
        bot = commands.AutoShardedBot(**options)
    elif shard:
        shard_id, shard_count = (int(x) for x in shard.split("/"))
        bot = commands.AutoShardedBot(shard_ids=[shard_id], shard_count=shard_count, **options)
    else:
        bot = commands.Bot(**options)
    add_commands(bot, guild_id)

    @bot.command()
    async def hello(ctx: commands.Context[Any]) -> None:
        await ctx.send(f"hi {ctx.author.name}")

    async def setup_hook() -> None:
        if sync:
            await bot.tree.sync()
            if guild_id:
                await bot.tree.sync(guild=discord.Object(guild_id))
            print("SYNCED", flush=True)

    async def on_ready() -> None:
        print(f"READY shards={getattr(bot, 'shard_ids', None)}", flush=True)

    async def on_resumed() -> None:
        print("RESUMED", flush=True)

    bot.setup_hook = setup_hook  # type: ignore[method-assign]
    bot.add_listener(on_ready)
    bot.add_listener(on_resumed)
    return bot


def main() -> None:
    """Point discord.py at the fake and run."""
    discord.http.Route.BASE = os.environ["FAKE_API_BASE"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["FAKE_GATEWAY_URL"])
    discord.utils.setup_logging(level=logging.INFO, handler=logging.StreamHandler(sys.stdout))
    bot = build_bot()
    with contextlib.suppress(KeyboardInterrupt):
        bot.run(os.environ["FAKE_TOKEN"], log_handler=None)


if __name__ == "__main__":
    main()

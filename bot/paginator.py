"""Pages people can flip: Back/Next, "page x of y", a delete button, and expiry.

Every multi-page answer goes through one `Paginator`. The state a click needs is in the
message itself (the page source and its key in the buttons' custom_ids; /ask keeps its
question in the embed footer), so a click works on any page message, also after a restart.
Only the person who asked pages their public message; anyone else gets their own ephemeral
copy, which they page in turn. Back and Next are disabled when a message has not been used for
`timeout` seconds (less than the 15-minute life of the interaction token that edits it); after a
restart, whose timers are gone, a click on a message older than that disables them then.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.checks import cooldown_text
from bot.replies import NO_MENTIONS, Reply
from bot.respond import answer_text, log_interaction, mark_answered, mark_started
from bot.tree import run_component

if TYPE_CHECKING:
    from bot.client import SummitDesk

log = logging.getLogger(__name__)

# A page source: (interaction, key, message clicked or None) -> the pages, first to last.
PageMaker = Callable[[discord.Interaction[Any], str, discord.Message | None],
                     Awaitable[Sequence[Reply]]]
# Seconds a click must wait before its source may run again (0: go ahead), e.g. a cooldown.
Throttle = Callable[[discord.Interaction[Any]], Awaitable[float]]

TURN_ID = re.compile(r"pg:(?P<source>[a-z]+):(?P<action>back|next):(?P<page>\d+):(?P<key>.*)")
DELETE_PREFIX = "pg:del:"
CONTROLS_ROW = 4  # the last of the five rows: a page's own components go above


def page_label(page: int, total: int) -> str:
    """The indicator between Back and Next."""
    return f"Page {page + 1} of {total}"


class TurnButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                 template=TURN_ID.pattern):
    """Back or Next: the page it leads to is in its custom_id."""

    def __init__(self, source: str, action: str, page: int, key: str, *,
                 disabled: bool = False) -> None:
        label, emoji = ("Back", "◀️") if action == "back" else ("Next", "▶️")
        super().__init__(discord.ui.Button(
            label=label, emoji=emoji, style=discord.ButtonStyle.secondary,
            custom_id=f"pg:{source}:{action}:{page}:{key}", disabled=disabled,
            row=CONTROLS_ROW))
        self.source, self.action, self.page, self.key = source, action, page, key

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str], /
                             ) -> TurnButton:
        """Rebuild the button from a click on any message."""
        return cls(match["source"], match["action"], int(match["page"]), match["key"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Show the page; failures become a short private reply like a command's."""
        bot = cast("SummitDesk", interaction.client)
        await bot.paginator.on_turn(interaction, self.source, self.key, self.page)


class DeleteButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                   template=r"pg:del:(?P<source>[a-z]+)"):
    """Deletes the message, for the person who asked only."""

    def __init__(self, source: str) -> None:
        super().__init__(discord.ui.Button(
            emoji="🗑️", style=discord.ButtonStyle.danger, custom_id=f"{DELETE_PREFIX}{source}",
            row=CONTROLS_ROW))
        self.source = source

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str], /
                             ) -> DeleteButton:
        """Rebuild the button from a click on any message."""
        return cls(match["source"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Delete, or explain why not."""
        bot = cast("SummitDesk", interaction.client)
        await bot.paginator.on_delete(interaction, self.source)


def asker_id(message: discord.Message | None) -> int | None:
    """Who the message answers (the user of the interaction that created it), if anyone."""
    metadata = message.interaction_metadata if message is not None else None
    return metadata.user.id if metadata is not None else None


class Paginator:
    """Page sources by name, the views that flip them, and the timers that expire them."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.sources: dict[str, PageMaker] = {}
        self.throttles: dict[str, Throttle] = {}
        # message id -> the timer that disables it, and the interaction able to edit it
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def register(self, source: str, maker: PageMaker, *, throttle: Throttle | None = None
                 ) -> None:
        """Make `source` pageable (a short lower-case name: it goes into custom_ids); a
        `throttle` (e.g. the /ask cooldown for a source that searches) may hold a turn back.
        A name another maker holds is refused: two cogs cannot share one, and a cog reloaded
        must have unregistered its sources when it was unloaded."""
        if not re.fullmatch(r"[a-z]+", source):
            raise ValueError(f"page source names are lower-case letters, not {source!r}")
        held = self.sources.get(source)
        if held is not None and held != maker:
            raise ValueError(f"the page source {source!r} is registered already")
        self.sources[source] = maker
        if throttle is not None:
            self.throttles[source] = throttle

    def unregister(self, *sources: str) -> None:
        """Forget page sources (their cog is unloaded); a click on their pages meanwhile is
        told to run the command again. Unknown names are ignored."""
        for source in sources:
            self.sources.pop(source, None)
            self.throttles.pop(source, None)

    def close(self) -> None:
        """Stop every expiry timer (the bot is closing)."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    # ----- building -----------------------------------------------------------------------------
    def view(self, source: str, key: str, pages: Sequence[Reply], page: int, *,
             deletable: bool = True, expired: bool = False) -> discord.ui.View | None:
        """The page's own components plus, when there are several pages, Back/indicator/Next
        (and Delete for a public answer). None when there is nothing to show."""
        view = discord.ui.View(timeout=None)
        own = pages[page].own_view()
        for item in own.children if own is not None else []:
            view.add_item(item)
        total = len(pages)
        if total > 1:
            view.add_item(TurnButton(source, "back", max(page - 1, 0), key,
                                     disabled=expired or page == 0))
            view.add_item(discord.ui.Button(label=page_label(page, total), disabled=True,
                                            custom_id=f"pg:at:{source}", row=CONTROLS_ROW))
            view.add_item(TurnButton(source, "next", min(page + 1, total - 1), key,
                                     disabled=expired or page >= total - 1))
        if deletable and total > 1:
            view.add_item(DeleteButton(source))
        return view if view.children else None

    def page_kwargs(self, source: str, key: str, pages: Sequence[Reply], page: int, *,
                    deletable: bool) -> dict[str, Any]:
        """Keyword arguments for sending or editing in page `page`."""
        reply = pages[page]
        kwargs = Reply(content=reply.content, embeds=reply.embeds, files=reply.files).kwargs()
        kwargs["view"] = self.view(source, key, pages, page, deletable=deletable)
        return kwargs

    # ----- sending ------------------------------------------------------------------------------
    async def send(self, interaction: discord.Interaction[SummitDesk], source: str, key: str,
                   pages: Sequence[Reply], *, page: int = 0, ephemeral: bool = False) -> None:
        """Send page `page` as the interaction's answer (or a followup) and arm its expiry."""
        if not pages:
            raise ValueError("nothing to page")
        page = min(max(page, 0), len(pages) - 1)
        kwargs = self.page_kwargs(source, key, pages, page, deletable=not ephemeral)
        if kwargs["view"] is None:
            kwargs.pop("view")
        message: discord.Message
        if not interaction.response.is_done():
            callback = await interaction.response.send_message(ephemeral=ephemeral, **kwargs)
            # Discord returns the message it made with the callback: no second request for it.
            made = callback.resource
            message = made if isinstance(made, discord.Message) \
                else await interaction.original_response()
        else:
            message = await interaction.followup.send(ephemeral=ephemeral, wait=True, **kwargs)
        mark_answered(interaction)
        if len(pages) > 1:
            self._arm(message.id, interaction, source, key, pages, page, ephemeral)

    # ----- clicks -------------------------------------------------------------------------------
    async def on_turn(self, interaction: discord.Interaction[SummitDesk], source: str, key: str,
                      page: int, *, expires: bool = True) -> None:
        """Back or Next: the asker's message turns in place; others get a private copy. A
        click that `expires` (Back/Next: their message's timer may have died with a restart)
        on a message unused past the timeout disables them instead; one that does not (an old
        release's "More", which no timer ever watched) always turns."""
        await run_component(interaction, f"{source} page",
                            self._turn(interaction, source, key, page, expires=expires))

    async def _turn(self, interaction: discord.Interaction[SummitDesk], source: str, key: str,
                    page: int, *, expires: bool) -> None:
        message = interaction.message
        maker = self.sources.get(source)
        if maker is None or message is None:
            await answer_text(interaction, "These pages cannot be turned any more: run the "
                                           "command again.")
            return
        if expires and message.id not in self._timers and self._is_stale(message):
            # Our timer for it is gone (a restart): expire it now, as the timer would have.
            # Staleness is read from the last edit, which this one renews: it disables every
            # button that expires, so no click can meet the renewed message as fresh.
            await interaction.response.edit_message(view=expired_view(message))
            await answer_text(interaction, "These pages expired: run the command again to "
                                           "page through a fresh answer.")
            return
        throttle = self.throttles.get(source)
        wait = await throttle(interaction) if throttle is not None else 0.0
        if wait:
            await answer_text(interaction, cooldown_text(wait))
            return
        own = asker_id(message) == interaction.user.id
        ephemeral = bool(message.flags.ephemeral)
        if own:
            await interaction.response.defer()  # type 6: the edit follows
        else:
            await interaction.response.defer(ephemeral=True, thinking=True)
        pages = await maker(interaction, key, message)
        if not pages:
            await answer_text(interaction, "There is nothing to show here any more: run the "
                                           "command again.")
            return
        page = min(page, len(pages) - 1)
        if own:
            kwargs = self.page_kwargs(source, key, pages, page, deletable=not ephemeral)
            kwargs.pop("files", None)  # pages are edited in place: no new attachments
            await interaction.edit_original_response(**kwargs)
            self._arm(message.id, interaction, source, key, pages, page, ephemeral)
        else:
            await self.send(interaction, source, key, pages, page=page, ephemeral=True)

    async def on_delete(self, interaction: discord.Interaction[SummitDesk], source: str) -> None:
        """Delete the message if the clicker asked for it."""
        mark_started(interaction)
        message = interaction.message
        if message is None or asker_id(message) != interaction.user.id:
            await answer_text(interaction, "Only the person who asked can delete this answer. "
                                           "You can hide it for yourself from its menu "
                                           "instead.")
            log_interaction(interaction, "refused", command=f"{source} delete")
            return
        timer = self._timers.pop(message.id, None)
        if timer is not None:
            timer.cancel()
        await interaction.response.defer()
        await interaction.delete_original_response()
        log_interaction(interaction, "ok", command=f"{source} delete")

    # ----- expiry -------------------------------------------------------------------------------
    def _is_stale(self, message: discord.Message) -> bool:
        last = message.edited_at or message.created_at
        return (dt.datetime.now(dt.UTC) - last).total_seconds() > self.timeout

    def _arm(self, message_id: int, interaction: discord.Interaction[SummitDesk], source: str,
             key: str, pages: Sequence[Reply], page: int, ephemeral: bool) -> None:
        old = self._timers.pop(message_id, None)
        if old is not None:
            old.cancel()
        # The expired view is built when the timer fires: most answers are never turned, and
        # a view per answer is measurable when many people ask at once.
        expired_page = functools.partial(self.view, source, key, pages, page,
                                         deletable=not ephemeral, expired=True)
        loop = asyncio.get_running_loop()
        self._timers[message_id] = loop.call_later(
            self.timeout, self._expire, message_id, interaction, expired_page)

    def _expire(self, message_id: int, interaction: discord.Interaction[SummitDesk],
                expired_page: Callable[[], discord.ui.View | None]) -> None:
        self._timers.pop(message_id, None)
        task = asyncio.create_task(self._disable(message_id, interaction, expired_page()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _disable(self, message_id: int, interaction: discord.Interaction[SummitDesk],
                       view: discord.ui.View | None) -> None:
        try:
            await interaction.edit_original_response(view=view, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:  # deleted meanwhile, or the token ran out
            log.info("could not disable the page buttons of message %s: %s", message_id, exc)
        except Exception:
            log.exception("disabling the page buttons of message %s failed", message_id)


def expired_view(message: discord.Message) -> discord.ui.View:
    """The message's components with Back and Next disabled."""
    view = discord.ui.View.from_message(message, timeout=None)
    for item in view.children:
        custom_id = getattr(item, "custom_id", None) or ""
        if isinstance(item, discord.ui.Button) and TURN_ID.fullmatch(custom_id):
            item.disabled = True
    return view

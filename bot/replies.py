"""The reply primitives every part of the bot shares: Discord's limits, escaping, `Reply`,
`EmbedBuilder`, one colour per kind of answer, and the digest messages (posted by the scheduler
and by /digest alike). Replies specific to one command family live in bot/exts/_render.py.

Article text is untrusted: it is escaped (Markdown, mentions) before it reaches an embed, and
every message goes out with mentions disabled. Untrusted text, and what users typed that is
echoed back, also loses its bidirectional formatting characters (`strip_bidi`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import discord

from knowledge.models import Digest, DigestItem, PartialDate

# Discord's limits: https://discord.com/developers/docs/resources/message#embed-object
CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELD_COUNT_LIMIT = 25
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000  # all embeds of one message together
EMBEDS_PER_MESSAGE = 10
# https://discord.com/developers/docs/components/reference#string-select
SELECT_OPTIONS_LIMIT = 25  # options of one select menu, whose values must differ
OPTION_TEXT_LIMIT = 100    # an option's label, value and description

ELLIPSIS = "…"
NO_MENTIONS = discord.AllowedMentions.none()
# One colour per kind of answer, so a reader tells them apart at a glance.
ANSWER_COLOUR = discord.Colour(0x2B6CB0)   # /ask and the context menu
READ_COLOUR = discord.Colour(0x2C7A7B)     # /article, passages in context
LIST_COLOUR = discord.Colour(0x4A5568)     # /latest, /experts, /summits, /source list
EXPERT_COLOUR = discord.Colour(0x6B46C1)   # /expert, /compare
SUMMIT_COLOUR = discord.Colour(0xB7791F)   # /summit
DIGEST_COLOUR = discord.Colour(0x2F855A)   # digests and their previews
ADMIN_COLOUR = discord.Colour(0x1A365D)    # /config, /digest list, /about, alerts
HELP_COLOUR = discord.Colour(0x805AD5)     # /help
WARN_COLOUR = discord.Colour(0xC05621)     # failures shown to admins
COLOUR = ANSWER_COLOUR
LONG_URL = 512  # longer links are left out rather than cut (a cut URL is a broken URL)


# ----- primitives -------------------------------------------------------------------------------
def truncate(text: str, limit: int) -> str:
    """Cut text to at most `limit` characters, ending with an ellipsis when cut."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rstrip()
    # A trailing backslash would escape the ellipsis: drop it.
    while cut.endswith("\\"):
        cut = cut[:-1]
    return cut + ELLIPSIS


# Invisible characters that change the direction text is drawn in: embeddings and overrides
# (U+202A-U+202E), isolates (U+2066-U+2069) and the marks (U+200E, U+200F, U+061C). In text
# echoed back ("No good match for “…”") an override opened there reverses the rest of the
# line, our own words included, and a mark can move the closing quote; the library drops them
# from what it echoes too (knowledge.text.clean.echo).
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def strip_bidi(text: str) -> str:
    """Text without bidirectional formatting characters (`BIDI_CONTROLS`)."""
    return BIDI_CONTROLS.sub("", text)


def clean(text: str | None) -> str:
    """Untrusted text made inert: Markdown escaped, mentions defused, direction controls
    dropped, whitespace collapsed."""
    if not text:
        return ""
    return _clean(text)


@functools.lru_cache(maxsize=4096)
def _clean(text: str) -> str:
    # Remembered: titles, bylines and highlighted sentences come back answer after answer, and
    # discord.py's Markdown escaping (a large regular expression with a Python callback per
    # match) was the largest part of rendering an /ask answer.
    text = " ".join(strip_bidi(text).split())
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """"1 article", "2 articles", "1,204 passages", "1 entry" (with plural="entries")."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def clean_cut(text: str | None, limit: int) -> str:
    """`clean` then `truncate`."""
    return truncate(clean(text), limit)


def code(text: str, limit: int = 100) -> str:
    """Text shown verbatim in a code span (no Markdown works inside one, so none is escaped;
    backticks, which would end it, are swapped for a look-alike; direction controls go)."""
    return f"`{truncate(' '.join(strip_bidi(text).split()).replace('`', 'ˋ'), limit) or ' '}`"


def link(label: str, url: str | None) -> str:
    """A Markdown link, or nothing for a missing or overlong URL."""
    if not url or len(url) > LONG_URL or not url.startswith(("http://", "https://")):
        return ""
    safe = url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")
    return f"[{label}](<{safe}>)"


def format_date(date: PartialDate | None) -> str:
    """27 Apr 2017, Apr 2017 or 2017, as precise as the date is known (the library's one
    display style, `PartialDate.display`), or "undated"."""
    return date.display() if date is not None else "undated"


def format_when(moment: dt.datetime | None) -> str:
    """A Discord timestamp (shown in the reader's timezone), or 'never'."""
    if moment is None:
        return "never"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return discord.utils.format_dt(moment, "R")


@dataclasses.dataclass
class Reply:
    """One message: content and embeds already within limits, plus optional files and view."""

    content: str = ""
    embeds: list[discord.Embed] = dataclasses.field(default_factory=list)
    files: list[discord.File] = dataclasses.field(default_factory=list)
    view: discord.ui.View | None = None
    # Or the view built on first use: a page that may never be shown (a paged answer's later
    # pages) does not pay for its components.
    make_view: Callable[[], discord.ui.View | None] | None = dataclasses.field(
        default=None, repr=False, compare=False)

    def own_view(self) -> discord.ui.View | None:
        """The message's view (built now if it was left to `make_view`)."""
        if self.make_view is not None:
            self.view, self.make_view = self.make_view(), None
        return self.view

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for send_message / followup.send / channel.send."""
        out: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
        if self.content:
            out["content"] = truncate(self.content, CONTENT_LIMIT)
        if self.embeds:
            out["embeds"] = self.embeds[:EMBEDS_PER_MESSAGE]
        if self.files:
            out["files"] = self.files
        view = self.own_view()
        if view is not None:
            out["view"] = view
        return out


class EmbedBuilder:
    """An embed that refuses to grow past Discord's limits; fields shrink to the space left."""

    def __init__(self, title: str = "", description: str = "", *, url: str | None = None,
                 colour: discord.Colour = COLOUR, budget: int = EMBED_TOTAL_LIMIT) -> None:
        self.budget = budget
        self.embed = discord.Embed(title=truncate(title, TITLE_LIMIT) or None, colour=colour,
                                   url=url if url and len(url) <= LONG_URL else None)
        self.set_description(description)

    def used(self) -> int:
        """Characters counted toward the per-message total."""
        return len(self.embed)

    def room(self) -> int:
        """Characters still free in this embed's share of the message."""
        return self.budget - self.used()

    def set_description(self, text: str) -> None:
        """Set the description, cut to the description limit and the space left."""
        self.embed.description = None
        limit = min(DESCRIPTION_LIMIT, self.room())
        self.embed.description = truncate(text, limit) or None

    def set_footer(self, text: str) -> bool:
        """Set the footer if it fits whole; footers carry state (the /ask question)."""
        if len(text) > FOOTER_LIMIT or len(text) > self.room():
            return False
        self.embed.set_footer(text=text)
        return True

    def add_field(self, name: str, value: str, *, inline: bool = False, min_value: int = 40,
                  reserve: int = 0) -> bool:
        """Add a field cut to fit; False (nothing added) when too little room is left."""
        if len(self.embed.fields) >= FIELD_COUNT_LIMIT:
            return False
        name = truncate(name, FIELD_NAME_LIMIT) or "\u200b"
        space = self.room() - reserve - len(name)
        if space < min(min_value, len(value) or 1):
            return False
        value = truncate(value, min(FIELD_VALUE_LIMIT, space)) or "\u200b"
        self.embed.add_field(name=name, value=value, inline=inline)
        return True

    def build(self) -> discord.Embed:
        """The finished embed."""
        return self.embed


def pack(embeds: Sequence[discord.Embed], *, content: str = "",
         budget: int = EMBED_TOTAL_LIMIT) -> list[Reply]:
    """Group embeds into messages of at most 10 embeds and `budget` (≤ 6,000) characters."""
    replies: list[Reply] = []
    current: list[discord.Embed] = []
    size = 0
    for embed in embeds:
        length = len(embed)
        if current and (len(current) >= EMBEDS_PER_MESSAGE or size + length > budget):
            replies.append(Reply(embeds=current))
            current, size = [], 0
        current.append(embed)
        size += length
    if current:
        replies.append(Reply(embeds=current))
    if content:
        if replies:
            replies[0].content = truncate(content, CONTENT_LIMIT)
        else:
            replies.append(Reply(content=truncate(content, CONTENT_LIMIT)))
    return replies


def notice(text: str) -> Reply:
    """A plain short message (errors, confirmations)."""
    return Reply(content=truncate(text, CONTENT_LIMIT))


def alert(text: str) -> Reply:
    """A notice for a server's admins (a failing feed, a digest that could not be posted)."""
    builder = EmbedBuilder(title="Summit Desk: for the admins", colour=WARN_COLOUR)
    builder.set_description(text)
    return Reply(embeds=[builder.build()])


def paged_list(title: str, lines: Iterable[str], *, per_embed: int = 3500,
               colour: discord.Colour = LIST_COLOUR) -> list[discord.Embed]:
    """Lines spread over embeds whose descriptions stay under `per_embed` characters."""
    embeds: list[discord.Embed] = []
    chunk: list[str] = []
    size = 0
    for raw in lines:
        line = truncate(raw, 1000)
        if chunk and size + len(line) + 1 > per_embed:
            embeds.append(EmbedBuilder(title if not embeds else f"{title} (continued)",
                                       "\n".join(chunk), colour=colour).build())
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk or not embeds:
        embeds.append(EmbedBuilder(title if not embeds else f"{title} (continued)",
                                   "\n".join(chunk), colour=colour).build())
    return embeds


# ----- digests ---------------------------------------------------------------------------------
def digest_item_value(item: DigestItem, limit: int = FIELD_VALUE_LIMIT) -> str:
    """Extract, then who, where, when and a link."""
    bits = []
    if item.experts:
        bits.append(clean_cut(", ".join(item.experts), 200))
    if item.publisher:
        bits.append(f"*{clean_cut(item.publisher, 120)}*")
    bits.append(format_date(item.published))
    if anchor := link("read", item.url):
        bits.append(anchor)
    meta = " · ".join(bits)
    extract = truncate(clean(item.extract), max(limit - len(meta) - 1, 20))
    return truncate(f"{extract}\n{meta}" if extract else meta, limit)


def period_text(start: dt.datetime, end: dt.datetime) -> str:
    """A digest's period as a real from–to: to the minute ("f") when it spans minutes; within
    one minute, to the second ("T", with the day), where "f" twice read as the same instant
    (a /digest now moments after /digest set); no span at all: "Up to" its end."""
    start, end = _aware(start), _aware(end)
    first, last = int(start.timestamp()), int(end.timestamp())
    if first // 60 != last // 60:
        return (f"From {discord.utils.format_dt(start, 'f')} "
                f"to {discord.utils.format_dt(end, 'f')}")
    if first != last:
        return (f"From {discord.utils.format_dt(start, 'T')} to "
                f"{discord.utils.format_dt(end, 'T')} on {discord.utils.format_dt(end, 'D')}")
    return f"Up to {discord.utils.format_dt(end, 'f')}"


def digest_parts(digest: Digest, *, title: str = "Digest", description: str | None = None
                 ) -> list[tuple[discord.Embed, list[DigestItem]]]:
    """A digest as embeds, each with the items it shows: a header (its period, unless
    `description` says more), then one or more embeds per section."""
    count = sum(len(s.items) for s in digest.sections)
    header = EmbedBuilder(
        title=f"{title}: {count} new article{'s' * (count != 1)}" if count else
        f"{title}: nothing new",
        description=description or period_text(digest.period_start, digest.period_end),
        colour=DIGEST_COLOUR,
    ).build()
    parts: list[tuple[discord.Embed, list[DigestItem]]] = [(header, [])]
    for section in digest.sections:
        if not section.items:
            continue
        heading = clean_cut(section.heading, TITLE_LIMIT - 12)
        builder = EmbedBuilder(title=heading, budget=EMBED_TOTAL_LIMIT // 2,
                               colour=DIGEST_COLOUR)
        shown: list[DigestItem] = []
        for item in section.items:
            name = clean_cut(item.title or "Untitled", FIELD_NAME_LIMIT)
            value = digest_item_value(item, 600)
            if not builder.add_field(name, value, min_value=len(value)):
                parts.append((builder.build(), shown))
                builder = EmbedBuilder(title=f"{heading} (cont.)",
                                       budget=EMBED_TOTAL_LIMIT // 2, colour=DIGEST_COLOUR)
                builder.add_field(name, value)
                shown = []
            shown.append(item)
        parts.append((builder.build(), shown))
    return parts


# A run's messages carry its id where readers do not see it: in the custom_id of their Read
# menu (or, with nothing to read, of a "Newest articles" button). Digests posted before that
# carry it in their footers ("digest #12"): both are recognised.
DIGEST_MARKER = re.compile(r"\bdigest #(\d+)\b")
DIGEST_COMPONENT = re.compile(r"(?:read:pick|latest):d(\d+)\.\d+")


def digest_run_of(message_footers: Iterable[str | None], custom_ids: Iterable[str] = ()
                  ) -> int | None:
    """The run id a message's components (or, for older digests, embed footers) mark."""
    for custom_id in custom_ids:
        if match := DIGEST_COMPONENT.fullmatch(custom_id):
            return int(match.group(1))
    for footer in message_footers:
        if footer and (match := DIGEST_MARKER.search(footer)):
            return int(match.group(1))
    return None


DIGEST_PART = re.compile(r"\bdigest · part (\d+) of (\d+)$")


def digest_part_of(message_footers: Iterable[str | None]) -> tuple[int, int] | None:
    """(part, of how many) a digest message's footer says, e.g. (2, 3); None if it says none."""
    for footer in message_footers:
        if footer and (match := DIGEST_PART.search(footer)):
            return int(match.group(1)), int(match.group(2))
    return None


def digest_read_options(items: Sequence[DigestItem]) -> list[discord.SelectOption]:
    """One Read option per digest article (value "a<article id>": the whole article), an
    article listed twice offered once: Discord refuses a menu whose option values repeat.
    At most 25 (`digest_replies` puts no more articles than that in one message)."""
    options: list[discord.SelectOption] = []
    seen: set[str] = set()
    for item in items:
        value = f"a{item.article_id}"
        if value in seen:
            continue
        seen.add(value)
        options.append(discord.SelectOption(
            label=truncate(item.title or "Untitled", OPTION_TEXT_LIMIT) or "?",
            description=truncate(" · ".join(x for x in (item.publisher or "",
                                                        format_date(item.published)) if x),
                                 OPTION_TEXT_LIMIT) or None,
            value=value))
    return options[:SELECT_OPTIONS_LIMIT]


def digest_view(items: Sequence[DigestItem], tag: str) -> discord.ui.View | None:
    """The Read menu for a digest message's articles; with none, a "Newest articles" button
    (when the message must carry its run's `tag`)."""
    view = discord.ui.View(timeout=None)
    if items:
        view.add_item(discord.ui.Select(custom_id=f"read:pick:{tag}" if tag else "read:pick",
                                        placeholder="📖 Read an article…",
                                        options=digest_read_options(items)))
    elif tag:
        view.add_item(discord.ui.Button(label="Newest articles", emoji="📚",
                                        custom_id=f"latest:{tag}"))
    return view if view.children else None


def digest_replies(digest: Digest, *, title: str = "Digest", run_id: int | None = None,
                   description: str | None = None) -> list[Reply]:
    """A digest as a list of messages, each within Discord's per-message limits, each with a
    Read menu for its articles. With a run id the menu's custom_id carries the run, so a
    restarted bot can tell whether a run was already posted. A message shows at most 25
    articles (an embed holds at most 25 fields), so its one Read menu offers every one."""
    budget = EMBED_TOTAL_LIMIT - 100
    groups: list[list[tuple[discord.Embed, list[DigestItem]]]] = []
    size = count = 0
    for embed, items in digest_parts(digest, title=title, description=description):
        length = len(embed)
        if not groups or len(groups[-1]) >= EMBEDS_PER_MESSAGE or size + length > budget \
                or count + len(items) > SELECT_OPTIONS_LIMIT:
            groups.append([])
            size = count = 0
        groups[-1].append((embed, items))
        size += length
        count += len(items)
    replies = []
    for n, group in enumerate(groups, 1):
        items = [item for _, shown in group for item in shown]
        tag = f"d{run_id}.{n}" if run_id is not None else ""
        embeds = [embed for embed, _ in group]
        if run_id is not None:
            embeds[0].set_footer(text=f"Summit Desk digest · part {n} of {len(groups)}")
        replies.append(Reply(embeds=embeds, view=digest_view(items, tag)))
    return replies


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)

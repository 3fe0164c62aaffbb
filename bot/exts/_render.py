"""Every reply the bot sends, built to fit Discord's limits by construction.

Article text is untrusted: it is escaped (Markdown, mentions) before it reaches an embed, and
every message goes out with mentions disabled.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Any

import discord

from knowledge.models import (
    AddResult,
    ArticleSummary,
    Digest,
    DigestItem,
    Expert,
    ExpertView,
    Hit,
    Meeting,
    MeetingCommentary,
    PartialDate,
    SourceStatus,
)

# Discord's limits: https://discord.com/developers/docs/resources/message#embed-object
CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELD_COUNT_LIMIT = 25
FOOTER_LIMIT = 2048
AUTHOR_LIMIT = 256
EMBED_TOTAL_LIMIT = 6000  # all embeds of one message together
EMBEDS_PER_MESSAGE = 10

ELLIPSIS = "…"
NO_MENTIONS = discord.AllowedMentions.none()
COLOUR = discord.Colour(0x2B6CB0)
WARN_COLOUR = discord.Colour(0xC05621)
LONG_URL = 512  # longer links are left out rather than cut (a cut URL is a broken URL)
NO_MATCH = "No good match in the library for that question. Try other words, or a name."
QUESTION_PREFIX = "Q: "
PAGE_MARK = " · passages "


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


def clean(text: str | None) -> str:
    """Untrusted text made inert: Markdown escaped, mentions defused, whitespace collapsed."""
    if not text:
        return ""
    text = " ".join(text.split())
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def clean_cut(text: str | None, limit: int) -> str:
    """`clean` then `truncate`."""
    return truncate(clean(text), limit)


def link(label: str, url: str | None) -> str:
    """A Markdown link, or nothing for a missing or overlong URL."""
    if not url or len(url) > LONG_URL or not url.startswith(("http://", "https://")):
        return ""
    safe = url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")
    return f"[{label}](<{safe}>)"


def format_date(date: PartialDate | None) -> str:
    """27 Apr 2017, Apr 2017 or 2017, as precise as the date is known."""
    if date is None:
        return "undated"
    start = date.start
    if date.precision == "day":
        return f"{start.day} {start:%b %Y}"
    if date.precision == "month":
        return f"{start:%b %Y}"
    return f"{start.year}"


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

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for send_message / followup.send / channel.send."""
        out: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
        if self.content:
            out["content"] = truncate(self.content, CONTENT_LIMIT)
        if self.embeds:
            out["embeds"] = self.embeds[:EMBEDS_PER_MESSAGE]
        if self.files:
            out["files"] = self.files
        if self.view is not None:
            out["view"] = self.view
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

    def fields_left(self) -> int:
        """How many more fields Discord would accept."""
        return FIELD_COUNT_LIMIT - len(self.embed.fields)

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


# ----- citations -------------------------------------------------------------------------------
def byline(article: ArticleSummary, *, with_link: bool = True) -> str:
    """Expert(s) · *publication* · date · link, escaped."""
    bits: list[str] = []
    if article.experts:
        bits.append(clean_cut(", ".join(article.experts), 200))
    if article.publisher:
        bits.append(f"*{clean_cut(article.publisher, 120)}*")
    bits.append(format_date(article.published))
    if with_link and (anchor := link("source", article.url)):
        bits.append(anchor)
    return " · ".join(bits)


def citation_value(hit: Hit, limit: int = FIELD_VALUE_LIMIT) -> str:
    """Highlighted sentence as a bold quote, then who said it, where and when."""
    meta = "— " + byline(hit.article)
    frame = len("> ****\n") + len(meta)
    highlight = clean(hit.highlight or hit.passage)
    # Leave the byline whole and cut the sentence to what is left.
    room = max(limit - frame, 20)
    quote = truncate(highlight, room)
    value = f"> **{quote}**\n{meta}" if quote else meta
    return truncate(value, limit)


def citation_name(number: int, article: ArticleSummary) -> str:
    """Field title for a citation: its number and the article title."""
    return truncate(f"{number}. {clean(article.title) or 'Untitled'}", FIELD_NAME_LIMIT)


def add_citations(builder: EmbedBuilder, hits: Sequence[Hit], *, start: int = 1,
                  reserve: int = 0) -> int:
    """Add one field per hit sharing the room fairly; returns how many fitted."""
    added = 0
    for n, hit in enumerate(hits):
        remaining = len(hits) - n
        share = (builder.room() - reserve) // max(remaining, 1)
        name = citation_name(start + n, hit.article)
        value = citation_value(hit, max(min(FIELD_VALUE_LIMIT, share - len(name)), 60))
        if not builder.add_field(name, value, reserve=reserve):
            break
        added += 1
    return added


# ----- /ask ------------------------------------------------------------------------------------
def ask_footer(question: str, first: int, last: int) -> str:
    """Footer text carrying the question (plain: footers render no Markdown) and the range."""
    return f"{QUESTION_PREFIX}{question}{PAGE_MARK}{first}–{last}"


def question_from_footer(footer: str | None) -> str | None:
    """The question stored by `ask_footer`, or None if the footer is not ours."""
    if not footer or not footer.startswith(QUESTION_PREFIX) or PAGE_MARK not in footer:
        return None
    return footer[len(QUESTION_PREFIX):].rsplit(PAGE_MARK, 1)[0] or None


def ask_page(question: str, hits: Sequence[Hit], *, offset: int = 0
             ) -> tuple[discord.Embed, int, bool]:
    """The /ask embed for a page of hits numbered from offset+1.

    Returns the embed, how many hits fitted, and whether the footer holds the whole question
    (a More button can only re-run the question if it does).
    """
    first = offset + 1
    builder = EmbedBuilder(title="What the experts said" if offset == 0
                           else "What the experts said (continued)")
    footer = ask_footer(question, first, offset + len(hits))
    reserve = len(footer) if len(footer) <= FOOTER_LIMIT else 0
    shown = add_citations(builder, hits, start=first, reserve=reserve)
    stored = builder.set_footer(ask_footer(question, first, offset + shown))
    if not stored:
        builder.embed.set_footer(text=truncate(f"{QUESTION_PREFIX}{question}", 200))
    return builder.build(), shown, stored


def no_match_reply() -> Reply:
    """The reply when nothing in the library is relevant."""
    return notice(NO_MATCH)


# ----- browsing --------------------------------------------------------------------------------
def article_line(article: ArticleSummary) -> str:
    """One line for a list: title (linked), byline."""
    title = clean_cut(article.title or "Untitled", 200)
    anchor = link(title, article.url)
    head = anchor or f"**{title}**"
    return f"{head}\n{byline(article, with_link=False)}"


def latest_embed(articles: Sequence[ArticleSummary]) -> discord.Embed:
    """/latest: the newest articles, one field each."""
    builder = EmbedBuilder(title="Newest in the library")
    if not articles:
        builder.set_description("The library is empty.")
    for article in articles:
        value = byline(article)
        added = article.added_at
        value += f"\nadded {format_when(added)}"
        if not builder.add_field(clean_cut(article.title or "Untitled", FIELD_NAME_LIMIT),
                                 value):
            break
    return builder.build()


def expert_embed(expert: Expert, hits: Sequence[Hit], topic: str | None) -> discord.Embed:
    """/expert: who the person is, what they wrote or said, and their words on the topic."""
    title = clean_cut(expert.name, TITLE_LIMIT - 20)
    builder = EmbedBuilder(title=f"{title} on {clean_cut(topic, 100)}" if topic else title)
    roles = "; ".join(clean(r) for r in expert.roles)
    articles = "\n".join(
        f"• {clean_cut(a.title, 150)} ({a.relation}; {clean_cut(a.publisher, 60) or 'unknown'}, "
        f"{format_date(a.published)})" for a in expert.articles)
    builder.set_description(truncate("\n".join(x for x in (roles, articles) if x), 1500))
    if not hits:
        builder.add_field("Their words", "No passage of theirs matches that topic."
                          if topic else "No passage of theirs in the library.")
    add_citations(builder, hits)
    return builder.build()


def experts_embeds(experts: Sequence[Expert]) -> list[discord.Embed]:
    """/experts: every expert with their roles and article count (several embeds if long)."""
    lines = []
    for expert in experts:
        role = clean_cut(expert.roles[0], 120) if expert.roles else ""
        count = len(expert.articles)
        line = f"**{clean_cut(expert.name, 100)}** ({count} article{'s' * (count != 1)})"
        lines.append(f"{line}: {role}" if role else line)
    if not lines:
        lines = ["No experts in the library yet."]
    return paged_list("Experts in the library", lines)


def paged_list(title: str, lines: Iterable[str], *, per_embed: int = 3500) -> list[discord.Embed]:
    """Lines spread over embeds whose descriptions stay under `per_embed` characters."""
    embeds: list[discord.Embed] = []
    chunk: list[str] = []
    size = 0
    for raw in lines:
        line = truncate(raw, 1000)
        if chunk and size + len(line) + 1 > per_embed:
            embeds.append(EmbedBuilder(title if not embeds else f"{title} (continued)",
                                       "\n".join(chunk)).build())
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk or not embeds:
        embeds.append(EmbedBuilder(title if not embeds else f"{title} (continued)",
                                   "\n".join(chunk)).build())
    return embeds


def compare_embed(topic: str, views: Sequence[ExpertView]) -> discord.Embed:
    """/compare: each expert's best passage on the topic."""
    builder = EmbedBuilder(title=f"Experts on {clean_cut(topic, 200)}")
    if not views:
        builder.set_description("No expert in the library addressed that topic.")
    for view in views:
        name = clean_cut(view.expert, FIELD_NAME_LIMIT)
        share = builder.room() // max(builder.fields_left(), 1)
        if not builder.add_field(name, citation_value(view.hit, min(FIELD_VALUE_LIMIT, share))):
            break
    return builder.build()


def meeting_title(meeting: Meeting) -> str:
    """Meeting name with its date and place."""
    bits = [format_date(meeting.date)]
    if meeting.place and meeting.place.casefold() not in meeting.name.casefold():
        bits.append(meeting.place)
    return f"{meeting.name} ({', '.join(bits)})"


def summit_embed(commentary: MeetingCommentary, topic: str | None) -> discord.Embed:
    """/summit: the meeting, expectations before it and assessments after it."""
    meeting = commentary.meeting
    builder = EmbedBuilder(title=clean_cut(meeting_title(meeting), TITLE_LIMIT))
    desc = clean_cut(meeting.description, 1000)
    if meeting.participants:
        desc += ("\n" if desc else "") + "With " + clean_cut(", ".join(meeting.participants), 300)
    if topic:
        desc += ("\n" if desc else "") + f"Topic: {clean_cut(topic, 200)}"
    builder.set_description(desc)
    halves = (("Before", "expectations", commentary.before),
              ("After", "assessments", commentary.after))
    for label, what, hits in halves:
        if not hits:
            builder.add_field(f"{label}: {what}", "Nothing in the library.")
    for label, _, hits in halves:
        for hit in hits:
            share = builder.room() // max(len(commentary.before) + len(commentary.after), 1)
            name = truncate(f"{label} · {clean(hit.article.title)}", FIELD_NAME_LIMIT)
            if not builder.add_field(name, citation_value(hit, min(FIELD_VALUE_LIMIT, share))):
                break
    return builder.build()


def summits_embeds(meetings: Sequence[Meeting]) -> list[discord.Embed]:
    """/summits: the registry as a list (the timeline picture is attached separately)."""
    lines = []
    for m in meetings:
        count = len(m.article_ids)
        lines.append(f"**{clean_cut(meeting_title(m), 200)}**: {count} article"
                     f"{'s' * (count != 1)}, {m.passages} passage{'s' * (m.passages != 1)}")
    if not lines:
        lines = ["No meetings in the registry."]
    embeds = paged_list("Summits and visits", lines)
    embeds[-1].set_image(url="attachment://timeline.png")
    return embeds


# ----- sources ---------------------------------------------------------------------------------
def add_results_reply(results: Sequence[AddResult]) -> Reply:
    """What `/source add` or `/source upload` stored, or why not."""
    marks = {"added": "✅", "duplicate": "↩️", "error": "⚠️"}
    lines = [f"{marks.get(r.status, '•')} {clean_cut(r.message, 300)}" for r in results]
    if not lines:
        lines = ["Nothing to add at that address."]
    return Reply(embeds=paged_list("Added to the library", lines)[:1])


def source_line(source: SourceStatus, *, detail: bool = False) -> str:
    """One source: id, kind, title or URL, health."""
    label = clean_cut(source.title or source.url or f"source {source.id}", 150)
    anchor = link(label, source.url) or label
    state = "⚠️ failing" if source.failing else ("active" if source.active else "stopped")
    line = f"`#{source.id}` {source.kind}: {anchor} ({state}, {source.articles} articles)"
    if detail:
        line += f"\n  fetched {format_when(source.last_fetch_at)}"
        line += f", newest article {format_when(source.last_new_article_at)}"
        if source.next_poll_at and source.active:
            line += f", next poll {format_when(source.next_poll_at)}"
        if source.last_error:
            line += f"\n  last error: {clean_cut(source.last_error, 200)}"
    return line


def sources_embeds(sources: Sequence[SourceStatus], *, detail: bool = False) -> list[discord.Embed]:
    """/source list and /source status."""
    lines = [source_line(s, detail=detail) for s in sources] or ["No sources yet."]
    return paged_list("Source status" if detail else "Sources", lines)


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


def digest_embeds(digest: Digest, *, title: str = "Digest") -> list[discord.Embed]:
    """A digest as embeds: a header, then one or more embeds per section."""
    start, end = digest.period_start, digest.period_end
    count = sum(len(s.items) for s in digest.sections)
    header = EmbedBuilder(
        title=f"{title}: {count} new article{'s' * (count != 1)}" if count else
        f"{title}: nothing new",
        description=f"From {discord.utils.format_dt(_aware(start), 'f')} "
                    f"to {discord.utils.format_dt(_aware(end), 'f')}",
    ).build()
    embeds = [header]
    for section in digest.sections:
        if not section.items:
            continue
        heading = clean_cut(section.heading, TITLE_LIMIT - 12)
        builder = EmbedBuilder(title=heading, budget=EMBED_TOTAL_LIMIT // 2)
        for item in section.items:
            name = clean_cut(item.title or "Untitled", FIELD_NAME_LIMIT)
            value = digest_item_value(item, 600)
            if not builder.add_field(name, value, min_value=len(value)):
                embeds.append(builder.build())
                builder = EmbedBuilder(title=f"{heading} (cont.)",
                                       budget=EMBED_TOTAL_LIMIT // 2)
                builder.add_field(name, value)
        embeds.append(builder.build())
    return embeds


def digest_marker(run_id: int) -> str:
    """The text that identifies a digest run's messages in a channel (see `find_digest_run`)."""
    return f"digest #{run_id}"


DIGEST_MARKER = re.compile(r"\bdigest #(\d+)\b")


def digest_run_of(message_footers: Iterable[str | None]) -> int | None:
    """The run id a message's embed footers mark, if any."""
    for footer in message_footers:
        if footer and (match := DIGEST_MARKER.search(footer)):
            return int(match.group(1))
    return None


def digest_replies(digest: Digest, *, title: str = "Digest", run_id: int | None = None
                   ) -> list[Reply]:
    """A digest as a list of messages, each within Discord's per-message limits.

    With a run id, every message's first embed carries the marker in its footer, so a
    restarted bot can tell whether a run was already posted.
    """
    replies = pack(digest_embeds(digest, title=title), budget=EMBED_TOTAL_LIMIT - 100)
    if run_id is not None:
        for n, reply in enumerate(replies, 1):
            reply.embeds[0].set_footer(text=f"Summit Desk {digest_marker(run_id)} · part "
                                            f"{n}/{len(replies)}")
    return replies


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)

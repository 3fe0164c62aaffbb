"""The replies of the command families (/ask, browsing, experts, summits, reading, sources),
built from the shared primitives in bot/replies.py to fit Discord's limits by construction.

Article text is untrusted: it is escaped (Markdown, mentions) before it reaches an embed, and
every message goes out with mentions disabled.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.replies import (
    FIELD_NAME_LIMIT,
    FIELD_VALUE_LIMIT,
    FOOTER_LIMIT,
    TITLE_LIMIT,
    EmbedBuilder,
    Reply,
    clean,
    clean_cut,
    format_date,
    format_when,
    link,
    notice,
    paged_list,
    truncate,
)
from knowledge.models import (
    AddResult,
    ArticleSummary,
    Expert,
    ExpertView,
    Hit,
    Meeting,
    MeetingCommentary,
    SourceStatus,
)

NO_MATCH = "No good match in the library for that question. Try other words, or a name."
QUESTION_PREFIX = "Q: "
PAGE_MARK = " · passages "


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

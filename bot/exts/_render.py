"""The replies of the command families (/ask, browsing, experts, summits, reading, sources),
built from the shared primitives in bot/replies.py to fit Discord's limits by construction.

Article text is untrusted: it is escaped (Markdown, mentions) before it reaches an embed, and
every message goes out with mentions disabled.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.replies import (
    ANSWER_COLOUR,
    EXPERT_COLOUR,
    FIELD_COUNT_LIMIT,
    FIELD_NAME_LIMIT,
    FIELD_VALUE_LIMIT,
    FOOTER_LIMIT,
    LIST_COLOUR,
    LONG_URL,
    OPTION_TEXT_LIMIT,
    READ_COLOUR,
    SELECT_OPTIONS_LIMIT,
    SUMMIT_COLOUR,
    TITLE_LIMIT,
    WARN_COLOUR,
    EmbedBuilder,
    Reply,
    clean,
    clean_cut,
    code,
    counted,
    format_date,
    format_when,
    link,
    notice,
    paged_list,
    strip_bidi,
    truncate,
)
from knowledge.models import (
    AddResult,
    Article,
    ArticleSummary,
    Expert,
    ExpertView,
    Hit,
    Meeting,
    MeetingCommentary,
    PartialDate,
    SourceStatus,
)

if TYPE_CHECKING:
    from knowledge.sources.outcomes import PollOutcome

NO_MATCH = "No good match in the library for that question. Try other words, or a name."
# A DM searches the library every conversation shares: what a server added is not in it.
DM_SCOPE = "Articles a server added are searchable only in that server, not in DMs."
QUESTION_PREFIX = "Q: "
PAGE_MARK = " · passages "
SHORT_QUESTION_FOOTER = 200  # a question too long for a footer is shown this short (no paging)


# ----- citations -------------------------------------------------------------------------------
def byline(article: ArticleSummary, *, limit: int | None = None) -> str:
    """Expert(s) · *publication* · date · link, escaped; within `limit`, whole parts are left
    out (the link first) rather than cut, so no link or emphasis is ever broken."""
    bits: list[str] = []
    if article.experts:
        bits.append(clean_cut(", ".join(article.experts), 200))
    if article.publisher:
        bits.append(f"*{clean_cut(article.publisher, 120)}*")
    bits.append(format_date(article.published))
    if anchor := link("source", article.url):
        bits.append(anchor)
    if limit is None:
        return " · ".join(bits)
    kept: list[str] = []
    for bit in bits:
        if len(" · ".join([*kept, bit])) <= limit:
            kept.append(bit)
    return " · ".join(kept)


QUOTE_FRAME = len("> ****\n")


def citation_value(hit: Hit, limit: int = FIELD_VALUE_LIMIT) -> str:
    """Highlighted sentence as a bold quote, then who said it, where and when: at most
    `limit` characters, the quote cut (and its bold closed) rather than the byline or its link."""
    meta = "— " + byline(hit.article, limit=max(limit - QUOTE_FRAME - 40, 20) - 2)
    highlight = clean(hit.highlight or hit.passage)
    quote = truncate(highlight, limit - QUOTE_FRAME - len(meta))
    return f"> **{quote}**\n{meta}" if quote else truncate(meta, limit)


def citation_name(number: int, article: ArticleSummary) -> str:
    """Field title for a citation: its number and the article title."""
    return truncate(f"{number}. {clean(article.title) or 'Untitled'}", FIELD_NAME_LIMIT)


def add_citations(builder: EmbedBuilder, hits: Sequence[Hit], *, start: int = 1,
                  reserve: int = 0) -> int:
    """Add one field per hit sharing the room fairly; returns how many fitted."""
    added = 0
    for n, hit in enumerate(hits):
        name = citation_name(start + n, hit.article)
        if not add_shared(builder, name, hit, len(hits) - n, reserve=reserve):
            break
        added += 1
    return added


def add_shared(builder: EmbedBuilder, name: str, hit: Hit, remaining: int, *,
               reserve: int = 0) -> bool:
    """Add a citation field sized to its fair share of the room left (the room divided among
    the `remaining` citations still to come); False when too little is left for one."""
    space = builder.room() - reserve
    share = min(FIELD_VALUE_LIMIT, space // max(remaining, 1) - len(name), space - len(name))
    if share < MIN_CITATION:
        return False
    return builder.add_field(name, citation_value(hit, share), reserve=reserve)


MIN_CITATION = 80  # a shorter citation is only a byline: better left out


# ----- /ask ------------------------------------------------------------------------------------
FILTER_ORDER = ("expert", "publisher", "since", "until")


@dataclasses.dataclass(frozen=True)
class AskFilters:
    """What an /ask was narrowed to, as the asker gave it."""

    expert: str | None = None
    publisher: str | None = None
    since: PartialDate | None = None
    until: PartialDate | None = None

    def described(self) -> str:
        """" · expert: X · since: 2017" (empty without filters): readable, and parsed back."""
        parts = [(name, getattr(self, name)) for name in FILTER_ORDER]
        return "".join(f" · {name}: {_footer_text(' '.join(str(value).split()))}"
                       for name, value in parts if value)


# A "·" typed by the user is followed by a word joiner in the footer (invisible), so a question
# such as "Moscow · expert: Nobody" or "… · passages 1–5" is never read back as a filter or a
# page range.
_FOOTER_DOT, _USER_DOT = "·", "·\u2060"


def _footer_text(text: str) -> str:
    # Footers render no Markdown, but a direction override typed in the question would still
    # reverse the rest of the line.
    return strip_bidi(text).replace(_FOOTER_DOT, _USER_DOT)


def _from_footer_text(text: str) -> str:
    return text.replace(_USER_DOT, _FOOTER_DOT)


def ask_footer(question: str, first: int, last: int, filters: AskFilters | None = None) -> str:
    """Footer text carrying the question and filters (plain: footers render no Markdown) and
    the range; a click on Back/Next re-runs the search from it."""
    described = filters.described() if filters else ""
    return f"{QUESTION_PREFIX}{_footer_text(question)}{described}{PAGE_MARK}{first}–{last}"


def ask_state_from_footer(footer: str | None) -> tuple[str, AskFilters] | None:
    """The question and filters stored by `ask_footer`, or None if the footer is not ours."""
    if not footer or not footer.startswith(QUESTION_PREFIX) or PAGE_MARK not in footer:
        return None
    rest = footer[len(QUESTION_PREFIX):].rsplit(PAGE_MARK, 1)[0]
    found: dict[str, str] = {}
    while (last := max(rest.rfind(f" · {name}: ") for name in FILTER_ORDER)) >= 0:
        name, value = rest[last + 3:].split(": ", 1)  # filters come last, in a fixed order
        if name in found:
            break
        found[name] = _from_footer_text(value)
        rest = rest[:last]
    if not rest:
        return None
    rest = _from_footer_text(rest)
    try:
        filters = AskFilters(
            expert=found.get("expert"), publisher=found.get("publisher"),
            since=PartialDate.parse(found["since"]) if "since" in found else None,
            until=PartialDate.parse(found["until"]) if "until" in found else None)
    except ValueError:
        return None
    return rest, filters


def question_from_footer(footer: str | None) -> str | None:
    """The question stored by `ask_footer`, or None if the footer is not ours."""
    state = ask_state_from_footer(footer)
    return state[0] if state else None


def ask_state_from(message: discord.Message | None) -> tuple[str, AskFilters] | None:
    """The question and filters of an /ask answer message."""
    if message is None or not message.embeds:
        return None
    return ask_state_from_footer(message.embeds[0].footer.text)


def ask_page(question: str, hits: Sequence[Hit], *, offset: int = 0,
             filters: AskFilters | None = None, reading: str | None = None
             ) -> tuple[discord.Embed, int, bool]:
    """The /ask embed for a page of hits numbered from offset+1.

    Returns the embed, how many hits fitted, and whether the footer holds the whole question
    (the page buttons can only re-run the question if it does). `reading` is how the library
    understood the question ("read as: <expert> · <month year> · <meeting>"), shown under the
    title when given, so a user can correct it with filters.
    """
    first = offset + 1
    builder = EmbedBuilder(title="What the experts said" if offset == 0
                           else "What the experts said (continued)", colour=ANSWER_COLOUR)
    if reading:
        builder.set_description(f"*{clean_cut(reading, 300)}*")
    # The footer is part of the 6,000 characters: its room is kept before any citation is
    # added, the whole question's when it fits a footer, else a shortened one's (shown only).
    footer = ask_footer(question, first, offset + len(hits), filters)
    fallback = truncate(f"{QUESTION_PREFIX}{strip_bidi(question)}", SHORT_QUESTION_FOOTER)
    reserve = len(footer) if len(footer) <= FOOTER_LIMIT else len(fallback)
    shown = add_citations(builder, hits, start=first, reserve=reserve)
    stored = builder.set_footer(ask_footer(question, first, offset + shown, filters))
    if not stored:
        builder.set_footer(fallback)
    return builder.build(), shown, stored


def ask_pages(question: str, filters: AskFilters, hits: Sequence[Hit], page_size: int,
              reading: str = "") -> list[Reply]:
    """Every page of an /ask answer, each with a Read menu for its citations; the first page
    shows how the library read the question (`reading`, "" for nothing read)."""
    pages: list[Reply] = []
    offset = 0
    while offset < len(hits):
        embed, shown, _ = ask_page(question, hits[offset:offset + page_size], offset=offset,
                                   filters=filters, reading=reading if not pages else None)
        shown = max(shown, 1)
        # The Read menu is made when the page is first shown (most answers stay on page 1).
        pages.append(Reply(embeds=[embed], make_view=functools.partial(
            read_view, hits[offset:offset + shown], start=offset + 1)))
        offset += shown
    return pages


def no_match_text(question: str, filters: AskFilters | None = None, *, in_dm: bool = False
                  ) -> str:
    """The private reply when nothing in the library is relevant: the question repeated, and
    what to try next (in a DM, also that a server's own articles are searched only there)."""
    quoted = clean_cut(question, 300)
    if filters is not None and filters.described():
        narrowed = clean_cut(filters.described().removeprefix(" · ").replace(" · ", ", "), 300)
        text = (f"Nothing in the library answers “{quoted}” ({narrowed}). Try a wider period, "
                "another filter or none, or other words; /help shows examples.")
    else:
        text = (f"No good match in the library for “{quoted}”. Try other words or a name, "
                "narrow it with a filter (expert, publisher, since, until), or see /help for "
                "examples.")
    return f"{text} {DM_SCOPE}" if in_dm else text


def no_match_reply() -> Reply:
    """The reply when nothing in the library is relevant (no question at hand)."""
    return notice(NO_MATCH)


# ----- browsing --------------------------------------------------------------------------------
def latest_embed(articles: Sequence[ArticleSummary]) -> discord.Embed:
    """/latest: the newest articles, one field each."""
    builder = EmbedBuilder(title="Newest in the library", colour=LIST_COLOUR)
    if not articles:
        builder.set_description("The library is empty.")
    note = ("Showing the newest {shown} of the {asked} asked: one message holds no more. "
            "/article finds any article by its title.")
    reserve = len(note) + 10  # room kept for the note, should the articles not all fit
    shown = 0
    for article in articles:
        value = byline(article)
        added = article.added_at
        value += f"\nadded {format_when(added)}"
        if not builder.add_field(clean_cut(article.title or "Untitled", FIELD_NAME_LIMIT),
                                 value, reserve=reserve):
            break
        shown += 1
    if shown < len(articles):  # never fewer than asked without a word
        builder.set_description(note.format(shown=shown, asked=len(articles)))
    return builder.build()


def expert_embed(expert: Expert, hits: Sequence[Hit], topic: str | None) -> discord.Embed:
    """/expert: who the person is, what they wrote or said, and their words on the topic."""
    title = clean_cut(expert.name, TITLE_LIMIT - 20)
    builder = EmbedBuilder(title=f"{title} on {clean_cut(topic, 100)}" if topic else title,
                           colour=EXPERT_COLOUR)
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


def experts_heading(names: Sequence[str], limit: int = FIELD_NAME_LIMIT) -> str:
    """"Jane Example, John Sample and 3 more": as many whole names as fit in `limit`
    characters, then how many are left out (only a first name too long alone is cut)."""
    cleaned = [clean(name) for name in names]

    def rest(shown: int) -> str:
        return f" and {len(cleaned) - shown} more" if shown < len(cleaned) else ""

    for shown in range(len(cleaned), 1, -1):
        heading = ", ".join(cleaned[:shown]) + rest(shown)
        if len(heading) <= limit:
            return heading
    return truncate(cleaned[0] if cleaned else "", limit - len(rest(1))) + rest(1)


def compare_embed(topic: str, views: Sequence[ExpertView]) -> discord.Embed:
    """/compare: one field per passage, headed by the experts whose best passage it is."""
    builder = EmbedBuilder(title=f"Experts on {clean_cut(topic, 200)}", colour=EXPERT_COLOUR)
    if not views:
        builder.set_description("No expert in the library addressed that topic.")
    shown = views[:FIELD_COUNT_LIMIT]
    for n, view in enumerate(shown):
        # Every passage shown gets an equal part of the embed's 6,000 characters.
        if not add_shared(builder, experts_heading(view.experts), view.hit, len(shown) - n):
            break
    return builder.build()


def meeting_title(meeting: Meeting) -> str:
    """Meeting name with its date and place."""
    bits = [format_date(meeting.date)]
    if meeting.place and meeting.place.casefold() not in meeting.name.casefold():
        bits.append(meeting.place)
    return f"{meeting.name} ({', '.join(bits)})"


def summit_halves(commentary: MeetingCommentary
                  ) -> tuple[tuple[str, str, tuple[Hit, ...]], ...]:
    """(label, what it holds, hits) of a /summit reply: Before and After always, then the
    passages no side could be told for (undated articles), when there are any."""
    halves: tuple[tuple[str, str, tuple[Hit, ...]], ...] = (
        ("Before", "expectations", commentary.before),
        ("After", "assessments", commentary.after))
    if commentary.unplaced:
        halves += (("Side unknown", "undated, or the text does not say",
                    commentary.unplaced),)
    return halves


def summit_embed(commentary: MeetingCommentary, topic: str | None) -> discord.Embed:
    """/summit: the meeting, expectations before it and assessments after it."""
    meeting = commentary.meeting
    builder = EmbedBuilder(title=clean_cut(meeting_title(meeting), TITLE_LIMIT),
                           colour=SUMMIT_COLOUR)
    desc = clean_cut(meeting.description, 1000)
    if meeting.participants:
        desc += ("\n" if desc else "") + "With " + clean_cut(", ".join(meeting.participants), 300)
    if topic:
        desc += ("\n" if desc else "") + f"Topic: {clean_cut(topic, 200)}"
    builder.set_description(desc)
    # Before first, then After; each quote sized by the room left for the fields still to come.
    halves = summit_halves(commentary)
    remaining = sum(max(len(hits), 1) for _, _, hits in halves)
    for label, what, hits in halves:
        if not hits:
            builder.add_field(f"{label}: {what}", "Nothing in the library.")
            remaining -= 1
        for hit in hits:
            name = truncate(f"{label} · {clean(hit.article.title)}", FIELD_NAME_LIMIT)
            add_shared(builder, name, hit, remaining)
            remaining -= 1
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
RESULT_MARKS = {"added": "✅", "duplicate": "↩️", "error": "⚠️"}
# How the rest of a group of identical outcomes is summed up, and a count of outcomes put.
SAME_WAY = {"added": "were added the same way", "duplicate": "were already in the library",
            "error": "failed the same way"}
OUTCOME_COUNTS = {"added": "added", "duplicate": "already in the library", "error": "failed"}
RESULTS_TEXT_LIMIT = 3500   # of the reply's description (Discord allows 4,096)
RESULT_MESSAGE_LIMIT = 300  # of each outcome's message
INPUT_LABEL_LIMIT = 60      # of each input's name, when several were given
SAME_WAY_SHOWN = 3          # lines of one repeated outcome shown before it is summed up
SUMMARY_RESERVE = 120       # room kept for the closing "… and N more" line


def input_label(text: str, limit: int = INPUT_LABEL_LIMIT) -> str:
    """An input (link or file name) as it was typed, for a result line: the middle cut out of
    a long one (its scheme and its end stay, so inputs that differ there stay apart), shown
    verbatim in a code span (no Markdown or mention works there)."""
    short = " ".join(text.split())
    if len(short) > limit:
        head = (limit - 1) * 2 // 3
        short = f"{short[:head]}…{short[len(short) - (limit - 1 - head):]}"
    return code(short, limit)


def _outcomes(counts: dict[str, int]) -> str:
    """"3 added, 2 failed": the counts in a fixed order (added, duplicate, error)."""
    order = [*OUTCOME_COUNTS, *(s for s in counts if s not in OUTCOME_COUNTS)]
    return ", ".join(f"{counts[status]} {OUTCOME_COUNTS.get(status, status)}"
                     for status in order if counts.get(status))


def result_lines(results: Sequence[AddResult], limit: int = RESULTS_TEXT_LIMIT) -> list[str]:
    """One line per add result (a mark, the input when there were several, the message),
    together within `limit` characters: past a few identical outcomes, and past the limit,
    the rest is counted in a closing line instead of listed."""
    if not results:
        return ["Nothing to add at that address."]
    named = len(results) > 1
    groups: dict[tuple[str, str], list[AddResult]] = {}
    for result in results:
        groups.setdefault((result.status, result.message), []).append(result)
    # (text, outcomes it stands for), in the order of each outcome's first appearance.
    items: list[tuple[str, dict[str, int]]] = []
    for (status, message), members in groups.items():
        text = clean_cut(message, RESULT_MESSAGE_LIMIT)
        # Summing up a single line would save nothing.
        shown = members if len(members) <= SAME_WAY_SHOWN + 1 else members[:SAME_WAY_SHOWN]
        for result in shown:
            label = f"{input_label(result.input)}: " if named else ""
            items.append((f"{RESULT_MARKS.get(status, '•')} {label}{text}", {status: 1}))
        if hidden := len(members) - len(shown):
            items.append((f"… and {hidden} more {SAME_WAY.get(status, 'ended the same way')}",
                          {status: hidden}))
    lines: list[str] = []
    size = 0
    for n, (text, _) in enumerate(items):
        room = limit - (SUMMARY_RESERVE if n < len(items) - 1 else 0)
        if size + len(text) + 1 > room:
            left: dict[str, int] = {}
            for _, counts in items[n:]:
                for status, count in counts.items():
                    left[status] = left.get(status, 0) + count
            total = sum(left.values())
            if len(left) == 1:
                [status] = left
                lines.append(f"… and {total} more {OUTCOME_COUNTS.get(status, status)}")
            else:
                lines.append(f"… and {total} more ({_outcomes(left)})")
            break
        lines.append(text)
        size += len(text) + 1
    return lines


def add_results_title(results: Sequence[AddResult]) -> str:
    """The reply's title says the outcome: all added, some of them, or nothing. An article
    the library had already counts as added when the server gained it as a source."""
    added = sum(r.status == "added" for r in results)
    adopted = sum(r.status == "duplicate" and r.adopted_source is not None for r in results)
    if not added + adopted:
        return "Nothing added"
    if added + adopted < len(results):
        return f"Added {added + adopted} of {len(results)}"
    if not added:
        return "Added to your sources" if adopted == 1 else f"Added {adopted} to your sources"
    return "Added to the library"


def add_results_reply(results: Sequence[AddResult]) -> Reply:
    """What `/source add` or `/source upload` stored, or why not: one embed, within Discord's
    limits whatever the number of inputs (result_lines sums up what does not fit)."""
    title = add_results_title(results)
    colour = WARN_COLOUR if title == "Nothing added" and any(
        r.status == "error" for r in results) else LIST_COLOUR
    builder = EmbedBuilder(title=title, colour=colour)
    builder.set_description("\n".join(result_lines(results)))
    return Reply(embeds=[builder.build()])


def source_line(source: SourceStatus, *, detail: bool = False) -> str:
    """One source: id, kind, title or URL, health."""
    label = clean_cut(source.title or source.url or f"source {source.id}", 150)
    anchor = link(label, source.url) or label
    state = "⚠️ failing" if source.failing else ("active" if source.active else "stopped")
    line = f"`#{source.id}` {source.kind}: {anchor} ({state}, {counted(source.articles, 'article')})"
    if detail:
        line += f"\n  fetched {format_when(source.last_fetch_at)}"
        if source.last_fetch_failed:  # the attempt failed: when did one last work?
            line += f" (failed; last worked {format_when(source.last_success_at)})"
        elif source.kind == "feed" and source.last_fetch_at is None and source.active:
            line += " (its first read is pending: /source add it again to read it now)"
        line += f", newest article {format_when(source.last_new_article_at)}"
        if source.next_poll_at and source.active:
            line += f", next poll {format_when(source.next_poll_at)}"
        if source.last_error:
            line += f"\n  last error: {clean_cut(source.last_error, 200)}"
    return line


def poll_line(outcome: PollOutcome) -> str:
    """What `/source poll` found: new articles, nothing new, or why the feed was not read."""
    where = f"Feed #{outcome.source_id}"
    message = clean_cut(outcome.message, RESULT_MESSAGE_LIMIT)
    if outcome.status == "busy":
        return f"{where} is being read right now (by another poll); try again in a minute."
    if outcome.status == "failed":
        return f"⚠️ {where} could not be read: {message}. Its next poll is shown by /source status."
    if outcome.status == "not_modified":
        return f"{where} has not changed since it was last read."
    return f"{where} read now: {message}."


def sources_embeds(sources: Sequence[SourceStatus], *, detail: bool = False) -> list[discord.Embed]:
    """/source list and /source status."""
    lines = [source_line(s, detail=detail) for s in sources] or ["No sources yet."]
    return paged_list("Source status" if detail else "Sources", lines)


# ----- reading the source -----------------------------------------------------------------------
PAGE_TEXT_LIMIT = 3500  # characters of escaped article text per page (descriptions allow 4,096)
CONTEXT_CHARS = 700     # of each neighbouring passage shown around a cited one
PARAGRAPH = re.compile(r"[^\n]+(?:\n(?![ \t]*\n)[^\n]*)*")
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def text_pieces(text: str, limit: int = PAGE_TEXT_LIMIT) -> list[tuple[int, str]]:
    """(offset, escaped paragraph) pieces of a text, long paragraphs split at sentences so that
    every piece fits one page."""
    pieces: list[tuple[int, str]] = []
    for match in PARAGRAPH.finditer(text):
        raw = match.group()
        if not raw.strip():
            continue
        escaped = clean(raw)
        if len(escaped) <= limit:
            pieces.append((match.start(), escaped))
            continue
        start = 0
        chunk = ""
        for sentence in SENTENCE_END.split(raw):
            candidate = f"{chunk} {sentence}".strip()
            if chunk and len(clean(candidate)) > limit // 2:
                pieces.append((match.start() + start, clean(chunk)))
                start = raw.find(sentence, start)
                chunk = sentence
            else:
                chunk = candidate
        if chunk:
            pieces.append((match.start() + max(start, 0), truncate(clean(chunk), limit)))
    return pieces


def text_pages(text: str, limit: int = PAGE_TEXT_LIMIT) -> list[tuple[int, str]]:
    """(offset of its first paragraph, text) of each page: paragraphs packed up to `limit`."""
    pages: list[tuple[int, str]] = []
    parts: list[str] = []
    start = size = 0
    for offset, piece in text_pieces(text, limit):
        if parts and size + len(piece) + 2 > limit:
            pages.append((start, "\n\n".join(parts)))
            parts, size = [], 0
        if not parts:
            start = offset
        parts.append(piece)
        size += len(piece) + 2
    if parts:
        pages.append((start, "\n\n".join(parts)))
    return pages


def article_header(article: ArticleSummary) -> str:
    """Who, where, when, and the link when there is one."""
    lines = [byline(article)]
    contributors = [c for c in article.contributors if c.role]
    for person in contributors[:5]:
        lines.append(f"{clean_cut(person.name, 80)}: {clean_cut(person.role, 150)}")
    return "\n".join(lines)


def article_pages(article: Article) -> list[Reply]:
    """/article: the metadata on the first page, then the text, one embed per page."""
    summary = article.summary
    title = clean_cut(summary.title or "Untitled", TITLE_LIMIT)
    url = summary.url if summary.url and len(summary.url) <= LONG_URL else None
    chunks = text_pages(article.text)
    header = article_header(summary)
    pages: list[Reply] = []
    total = max(len(chunks), 1)
    for n, (_, chunk) in enumerate(chunks or [(0, "")]):
        builder = EmbedBuilder(title=title if n == 0 else f"{title} (continued)", url=url,
                               colour=READ_COLOUR)
        body = f"{header}\n\n{chunk}" if n == 0 else chunk
        builder.set_description(body or "This article has no text.")
        builder.set_footer(f"{counted(summary.passages or len(article.passages), 'passage')}"
                           f" · page {n + 1} of {total}")
        pages.append(Reply(embeds=[builder.build()]))
    return pages


def page_of_passage(article: Article, passage_id: int) -> int:
    """The /article page holding a passage (0 when it cannot be placed), found by where the
    library says the passage starts: several passages may open with the same words, so their
    words alone could point to an earlier page."""
    try:
        index = article.passage_ids.index(passage_id)
        offset = article.passage_starts[index]
    except (ValueError, IndexError):
        return 0
    page = 0
    for n, (start, _) in enumerate(text_pages(article.text)):
        if start <= offset:
            page = n
    return page


def passage_reply(article: Article, passage_id: int,
                  whole_article: discord.ui.Item[Any]) -> Reply:
    """A cited passage with the end of the one before and the start of the one after."""
    summary = article.summary
    try:
        index = article.passage_ids.index(passage_id)
    except ValueError:
        index = -1
    builder = EmbedBuilder(title=clean_cut(summary.title or "Untitled", TITLE_LIMIT),
                           url=summary.url, colour=READ_COLOUR)
    if index < 0:
        builder.set_description("That passage is no longer in the article (it was re-read "
                                "since). The whole article is one click away.")
    else:
        before = clean(article.passages[index - 1])[-CONTEXT_CHARS:] if index > 0 else ""
        after = clean(article.passages[index + 1])[:CONTEXT_CHARS] \
            if index + 1 < len(article.passages) else ""
        cited = truncate(clean(article.passages[index]), 2000)
        parts: list[str] = []
        if before:
            parts.append("…" + before.lstrip("\\"))
        parts.append("\n".join(f"> **{line}**" for line in cited.split("\n")))
        if after:
            parts.append(after.rstrip("\\") + "…")
        builder.set_description("\n\n".join(parts))
        builder.set_footer(f"Passage {index + 1} of {len(article.passages)}")
    builder.add_field("Source", byline(summary))
    view = discord.ui.View(timeout=None)
    view.add_item(whole_article)
    if summary.url and summary.url.startswith(("http://", "https://")) \
            and len(summary.url) <= LONG_URL:
        view.add_item(discord.ui.Button(label="Original", emoji="🔗", url=summary.url))
    return Reply(embeds=[builder.build()], view=view)


def read_options(cited: Sequence[tuple[str, Hit]]) -> list[discord.SelectOption]:
    """One Read option per cited passage (value "p<article>:<passage>"), at most 25. Every
    caller cites each passage once (one search, a meeting's disjoint halves, /compare's one
    view per passage): Discord refuses a menu whose option values repeat."""
    options: list[discord.SelectOption] = []
    for label, hit in cited:
        article = hit.article
        value = f"p{article.id}:{hit.passage_id}"
        detail = " · ".join(x for x in (", ".join(article.experts[:2]), article.publisher or "",
                                        format_date(article.published)) if x)
        options.append(discord.SelectOption(
            label=truncate(label, OPTION_TEXT_LIMIT) or "?",
            description=truncate(detail, OPTION_TEXT_LIMIT) or None, value=value))
        if len(options) == SELECT_OPTIONS_LIMIT:
            break
    return options


def read_menu(options: Sequence[discord.SelectOption], tag: str = "") -> discord.ui.View | None:
    """A view holding the Read menu (None without options); `tag` ends its custom_id."""
    if not options:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Select(custom_id=f"read:pick:{tag}" if tag else "read:pick",
                                    placeholder="📖 Read a source in context…",
                                    options=list(options[:SELECT_OPTIONS_LIMIT])))
    return view


def compare_options(views: Sequence[ExpertView]) -> list[discord.SelectOption]:
    """/compare's Read options, one per view (a view is one passage, naming its experts)."""
    return read_options([(f"{', '.join(view.experts)}: {view.hit.article.title or 'Untitled'}",
                          view.hit) for view in views])


def read_view(hits: Sequence[Hit], *, start: int = 1) -> discord.ui.View | None:
    """The Read menu for numbered citations (as /ask shows them)."""
    return read_menu(read_options([(f"{n}. {h.article.title or 'Untitled'}", h)
                                   for n, h in enumerate(hits, start)]))


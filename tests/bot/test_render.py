"""bot/shared.py and bot/exts/_render.py: every reply fits Discord's limits and carries no live Markdown or pings."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import discord
import pytest

from bot import replies as shared
from bot.exts import _render as render
from bot.exts.help import help_embed
from knowledge.models import (
    AddResult,
    Article,
    ArticleSummary,
    Contributor,
    Digest,
    DigestItem,
    DigestSection,
    Expert,
    ExpertArticle,
    ExpertView,
    Hit,
    Meeting,
    MeetingCommentary,
    PartialDate,
    SourceStatus,
)
from tests.fakes.validation import validate_components, validate_embeds

NASTY = ("**bold** __under__ `code` ||spoiler|| @everyone @here <@123456789012345678> "
         "<@&987654321098765432> # h")
ADDED = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)


def article(n: int = 1, *, title: str = "Summit hopes", url: str | None = "https://example.org/a",
            publisher: str = "Valdai Discussion Club", expert: str = "Dmitry Streltsov"
            ) -> ArticleSummary:
    """A plain article summary."""
    return ArticleSummary(
        id=n, title=title, publisher=publisher, published=PartialDate("2017-04", "month"),
        url=url, language="en", contributors=(Contributor(expert, "author"),), added_at=ADDED,
        passages=3)


def hit(n: int = 1, *, text: str = "The summit brought no breakthrough.", **kwargs: Any) -> Hit:
    """A hit whose highlight is `text`."""
    return Hit(passage_id=n, article=article(n, **kwargs), passage=text, highlight=text,
               score=1.0 / n, dense_score=0.5, bm25_score=1.0)


def payload(embeds: list[discord.Embed]) -> list[dict[str, Any]]:
    """Embeds as Discord receives them."""
    return [e.to_dict() for e in embeds]  # type: ignore[misc]


def assert_fits(reply: shared.Reply) -> None:
    """Discord would accept the message (checked with the fake Discord's validator)."""
    kwargs = reply.kwargs()
    assert len(kwargs.get("content", "")) <= shared.CONTENT_LIMIT
    problems: dict[str, str] = {}
    validate_embeds(payload(kwargs.get("embeds", [])), problems)
    assert problems == {}
    assert kwargs["allowed_mentions"].to_dict() == {"parse": []}


def all_text(embeds: list[discord.Embed]) -> str:
    """Every string a reader would see in the embeds."""
    parts: list[str] = []
    for e in embeds:
        parts += [e.title or "", e.description or "", e.footer.text or ""]
        parts += [f"{f.name}\n{f.value}" for f in e.fields]
    return "\n".join(parts)


def test_truncate_respects_limit_and_marks_the_cut() -> None:
    """Cut text is exactly at the limit, ends with an ellipsis, and never with a lone backslash."""
    assert shared.truncate("short", 10) == "short"
    cut = shared.truncate("x" * 50, 10)
    assert len(cut) == 10 and cut.endswith("…")
    assert shared.truncate("abcdefgh\\*", 10) == "abcdefgh\\*"
    assert not shared.truncate("abcdefgh\\\\*zzz", 10).endswith("\\…")


def test_ten_thousand_character_passage_is_cut_to_fit() -> None:
    """A 10,000-character highlight yields one field within 1,024 characters, still cited."""
    embed, shown, pageable = render.ask_page("what happened?", [hit(text="word " * 2000)])
    assert shown == 1 and pageable
    assert_fits(shared.Reply(embeds=[embed]))
    value = embed.fields[0].value or ""
    assert len(value) <= shared.FIELD_VALUE_LIMIT
    assert "…" in value and "Dmitry Streltsov" in value and "Apr 2017" in value
    assert "https://example.org/a" in value


def test_thirty_long_hits_fit_one_message_and_report_how_many_showed() -> None:
    """30 hits of 2,000 characters: at most 25 fields, 6,000 characters, and the rest pageable."""
    hits = [hit(n, text=f"Passage {n} " + "analysis " * 220) for n in range(1, 31)]
    embed, shown, pageable = render.ask_page("the territorial issue", hits)
    assert_fits(shared.Reply(embeds=[embed]))
    assert 1 <= shown <= shared.FIELD_COUNT_LIMIT and shown < 30
    assert len(embed.fields) == shown and pageable
    assert render.question_from_footer(embed.footer.text) == "the territorial issue"


def test_thirty_short_hits_stop_at_twenty_five_fields() -> None:
    """Short hits are limited by the field count, not the character budget."""
    embed, shown, _ = render.ask_page("q", [hit(n, text="Short.") for n in range(1, 31)])
    assert shown == 25 and len(embed.fields) == 25
    assert_fits(shared.Reply(embeds=[embed]))


def test_page_numbers_continue_after_offset() -> None:
    """The second page numbers its citations from offset+1 and records the range."""
    embed, shown, _ = render.ask_page("q", [hit(4), hit(5)], offset=3)
    assert (embed.fields[0].name or "").startswith("4. ")
    assert shown == 2 and (embed.footer.text or "").endswith("passages 4–5")


def test_empty_result_is_a_plain_no_match_message() -> None:
    """No hits: a short message, no embed."""
    reply = render.no_match_reply()
    assert reply.content == render.NO_MATCH and reply.embeds == []
    assert_fits(reply)


def test_empty_lists_render_a_sentence_not_an_empty_embed() -> None:
    """Empty /latest, /experts and /source list still say something."""
    assert "empty" in (render.latest_embed([]).description or "")
    assert "No experts" in all_text(render.experts_embeds([]))
    assert "No sources" in all_text(render.sources_embeds([]))


def test_markdown_and_mentions_in_article_text_are_inert() -> None:
    """Markdown and mentions from article text are escaped; the message allows no mentions."""
    bad = hit(text=NASTY, title=NASTY, publisher=NASTY, expert=NASTY)
    embed, _, _ = render.ask_page("q", [bad])
    text = all_text([embed])
    assert "@everyone" not in text and "@here" not in text
    assert "<@123456789012345678>" not in text and "<@&987654321098765432>" not in text
    assert "**bold**" not in text and "\\*\\*bold\\*\\*" in text
    assert "||spoiler||" not in text and "`code`" not in text
    assert_fits(shared.Reply(embeds=[embed]))


def test_question_with_markers_round_trips_through_the_footer() -> None:
    """The More button reads back exactly the question that was asked."""
    question = "Q: what about · passages 1–3 @everyone?"
    embed, _, stored = render.ask_page(question, [hit()])
    assert stored
    assert render.question_from_footer(embed.footer.text) == question
    assert render.question_from_footer("someone else's footer") is None


@pytest.mark.parametrize("question", [
    "summit in Moscow · expert: Nobody Atall", "summit · since: soon",
    "islands · publisher: Valdai · until: 2019", "a · b ·· c · expert:"])
def test_a_question_that_looks_like_filters_pages_as_asked(question: str) -> None:
    """Filter-like text inside the question (or a filter's value) is not read back as a
    filter: Back/Next re-run the question and filters exactly as they were asked."""
    filters = render.AskFilters(expert="Togo · since: 2016", since=PartialDate.parse("2017"))
    for given in (render.AskFilters(), filters):
        embed, _, stored = render.ask_page(question, [hit()], filters=given)
        assert stored
        assert render.ask_state_from_footer(embed.footer.text) == (question, given)


def test_overlong_question_disables_paging_instead_of_corrupting_it() -> None:
    """A question longer than a footer is not stored cut (a cut question would page wrongly)."""
    embed, _, stored = render.ask_page("why " * 600, [hit()])
    assert not stored
    assert render.question_from_footer(embed.footer.text) is None
    assert_fits(shared.Reply(embeds=[embed]))


def test_a_question_too_long_for_a_footer_fits_at_the_largest_page_size() -> None:
    """A 4,000-character question (SEARCH_MAX_QUERY_CHARS set high) on pages of 10 long
    citations (ASK_PAGE_SIZE's maximum): its shortened footer counts toward the 6,000
    characters, so every page is one Discord accepts."""
    question = "why " * 1000
    hits = [hit(n, text="analysis " * 300) for n in range(1, 31)]
    pages = render.ask_pages(question, render.AskFilters(), hits, 10, "read as: " + "x " * 200)
    for page in pages:
        assert_fits(page)
        [embed] = page.embeds
        assert (embed.footer.text or "").startswith("Q: why why")
        assert render.question_from_footer(embed.footer.text) is None
    assert sum(len(page.embeds[0].fields) for page in pages) == 30


def components_problems(view: discord.ui.View | None) -> dict[str, str]:
    """What Discord would refuse in a view's components (the fake Discord's validator)."""
    assert view is not None
    problems: dict[str, str] = {}
    validate_components(view.to_components(), 0, problems)
    return problems


def test_compare_shows_a_shared_passage_once_headed_by_its_experts() -> None:
    """A view two co-authors share is one field headed by both names and one Read option
    naming both; any menu keeps its first 25 passages."""
    views = [ExpertView(("Dmitry Streltsov",), hit(4)),
             ExpertView(("Jane Example", "John Sample"), hit(6, title="Kuril fisheries accord"))]
    embed = render.compare_embed("the islands", views)
    assert [f.name for f in embed.fields] == ["Dmitry Streltsov", "Jane Example, John Sample"]
    options = render.compare_options(views)
    assert [o.value for o in options] == ["p4:4", "p6:6"]
    assert options[1].label == "Jane Example, John Sample: Kuril fisheries accord"
    assert components_problems(render.read_menu(options)) == {}
    cited = [(f"{n}. cited", hit(n + 1)) for n in range(60)]
    many = render.read_options(cited)
    assert [o.value for o in many] == [f"p{n}:{n}" for n in range(1, 26)]
    assert components_problems(render.read_menu(many)) == {}


def test_compare_heading_names_whole_experts_then_how_many_more() -> None:
    """A passage shared by many experts is headed by the whole names that fit Discord's 256
    characters and "and N more"; markdown in a name is inert."""
    names = tuple(f"Expert Number {n:02d} of the *Institute*" for n in range(40))
    heading = render.experts_heading(names)
    assert len(heading) <= shared.FIELD_NAME_LIMIT
    shown = heading.split(" and ")[0].split(", ")
    assert heading.endswith(f" and {40 - len(shown)} more") and len(shown) >= 2
    assert all(name.endswith(r"of the \*Institute\*") for name in shown)
    embed = render.compare_embed("t", [ExpertView(names, hit(1))])
    assert embed.fields[0].name == heading
    assert_fits(shared.Reply(embeds=[embed]))
    long_name = render.experts_heading(("A" * 300, "Bo Bee"))
    assert len(long_name) == shared.FIELD_NAME_LIMIT and long_name.endswith("… and 1 more")


def test_links_are_kept_whole_or_left_out() -> None:
    """Parentheses are encoded; overlong or non-web URLs are dropped rather than cut."""
    assert shared.link("x", "https://e.org/a_(b)") == "[x](<https://e.org/a_%28b%29>)"
    assert shared.link("x", "https://e.org/" + "a" * 600) == ""
    assert shared.link("x", "javascript:alert(1)") == ""


def test_pack_groups_embeds_within_per_message_limits() -> None:
    """30 embeds of 1,500 characters: each message has at most 10 embeds and 6,000 characters."""
    embeds = [shared.EmbedBuilder(f"e{n}", "d" * 1500).build() for n in range(30)]
    replies = shared.pack(embeds)
    assert sum(len(r.embeds) for r in replies) == 30
    for reply in replies:
        assert len(reply.embeds) <= shared.EMBEDS_PER_MESSAGE
        assert sum(len(e) for e in reply.embeds) <= shared.EMBED_TOTAL_LIMIT
        assert_fits(reply)


def digest_of(items: int, extract: str) -> Digest:
    """A digest with `items` articles in three sections."""
    made = [DigestItem(article_id=n, title=f"Article {n} {NASTY}", publisher="East Asia Forum",
                       experts=("Kazuhiko Togo",), published=PartialDate("2016-12-01", "day"),
                       extract=extract, url=f"https://example.org/{n}") for n in range(items)]
    sections = tuple(DigestSection(heading=f"Section {s}", items=tuple(made[s::3]))
                     for s in range(3))
    return Digest(period_start=ADDED, period_end=ADDED + dt.timedelta(days=1),
                  sections=sections, run_id=12)


def test_large_digest_splits_into_valid_messages_with_every_item() -> None:
    """90 long items: several messages, each valid, every article present exactly once."""
    replies = shared.digest_replies(digest_of(90, "Sentence. " * 200), run_id=12)
    assert len(replies) > 1
    for reply in replies:
        assert_fits(reply)
    names = [f.name for r in replies for e in r.embeds for f in e.fields]
    assert len(names) == 90
    assert "@everyone" not in all_text([e for r in replies for e in r.embeds])


def test_digest_messages_carry_their_run_marker() -> None:
    """Each posted message can be traced back to its run (restart recovery)."""
    replies = shared.digest_replies(digest_of(4, "New."), run_id=12)
    for reply in replies:
        assert reply.view is not None
        ids = [getattr(item, "custom_id", "") for item in reply.view.children]
        assert shared.digest_run_of([e.footer.text for e in reply.embeds], ids) == 12
        assert all("12" not in (e.footer.text or "") for e in reply.embeds)  # not for readers
    # Digests posted by earlier releases carry the run in their footer.
    assert shared.digest_run_of(["Summit Desk digest #123 · part 1/1"]) == 123
    assert shared.digest_run_of(["nothing here", None]) is None
    empty = shared.digest_replies(Digest(ADDED, ADDED, ()), run_id=7)
    assert [getattr(i, "custom_id", "") for i in empty[0].view.children] == ["latest:d7.1"]


def test_every_article_of_a_long_digest_is_in_its_messages_read_menu() -> None:
    """80 short items (more than one menu's 25 options): each message's Read menu offers
    every article the message shows, each once, and Discord accepts every menu."""
    replies = shared.digest_replies(digest_of(80, "New."), run_id=12)
    offered: list[str] = []
    for reply in replies:
        assert_fits(reply)
        assert components_problems(reply.view) == {}
        shown = [f"a{(f.name or '').split()[1]}" for e in reply.embeds for f in e.fields]
        [menu] = [i for i in reply.view.children if isinstance(i, discord.ui.Select)]
        assert [o.value for o in menu.options] == shown
        offered += shown
    assert sorted(offered) == sorted(f"a{n}" for n in range(80))


def test_empty_digest_says_nothing_new() -> None:
    """An empty digest is one header embed saying so."""
    empty = Digest(period_start=ADDED, period_end=ADDED, sections=())
    replies = shared.digest_replies(empty)
    assert len(replies) == 1 and "nothing new" in (replies[0].embeds[0].title or "")


def test_source_status_and_add_results_fit() -> None:
    """Long error messages and many sources stay within limits."""
    sources = [SourceStatus(id=n, kind="feed", url=f"https://example.org/feed/{n}",
                            title=NASTY * 3, active=True, articles=n, last_fetch_at=ADDED,
                            last_new_article_at=None, last_error="boom " * 300, failing=n % 2 == 0,
                            next_poll_at=ADDED) for n in range(60)]
    for reply in shared.pack(render.sources_embeds(sources, detail=True)):
        assert_fits(reply)
    results = [AddResult(f"https://e.org/{n}", "error", "bad " * 400) for n in range(40)]
    assert_fits(render.add_results_reply(results))


@pytest.mark.parametrize("precision,iso,expected", [
    ("day", "2019-01-22", "22 Jan 2019"), ("month", "2017-04", "Apr 2017"),
    ("year", "2015", "2015")])
def test_dates_show_only_what_is_known(precision: str, iso: str, expected: str) -> None:
    """Partial dates are not invented into full ones."""
    assert shared.format_date(PartialDate(iso, precision)) == expected  # type: ignore[arg-type]


def test_expert_summit_and_compare_cards_fit_with_long_data() -> None:
    """Long roles, many articles and many long passages still make valid single embeds."""
    long_hits = tuple(hit(n, text="assessment " * 300) for n in range(1, 13))
    expert = Expert(id=1, name=NASTY, roles=tuple("Professor " * 30 for _ in range(5)),
                    articles=tuple(ExpertArticle(n, "Title " * 40, "author", None, None,
                                                 "Publisher " * 20) for n in range(40)))
    meeting = Meeting(id="2019-01-moscow", name="25th Putin-Abe summit, Moscow",
                      date=PartialDate("2019-01-22", "day"), date_end=None, place="Moscow",
                      kind="summit", ordinal=25, participants=("Shinzo Abe", "Vladimir Putin"),
                      description="Talks " * 400)
    embeds = [
        render.expert_embed(expert, long_hits, "sanctions " * 50),
        render.summit_embed(MeetingCommentary(meeting, long_hits, long_hits), "islands"),
        render.summit_embed(MeetingCommentary(meeting, long_hits, long_hits, long_hits), None),
        render.compare_embed("topic " * 100, [ExpertView((f"Expert {n}", NASTY * 3), h)
                                             for n, h in enumerate(long_hits * 3)]),
    ]
    for embed in embeds:
        assert_fits(shared.Reply(embeds=[embed]))
        assert embed.fields
    assert "(22 Jan 2019)" in (embeds[1].title or "")  # the place is in the name already
    assert render.summit_embed(MeetingCommentary(meeting, (), ()), None).fields[0].value == \
        "Nothing in the library."


LINK = re.compile(r"\[[^\]]*\]\(<[^>]*>\)")


def whole_markup(value: str) -> bool:
    """No link or bold cut in the middle: every "](<" closes with ">)" and ** pairs up."""
    opened = value.count("](<")
    return opened == len(LINK.findall(value)) and value.count("**") % 2 == 0


def test_compare_shares_the_budget_and_keeps_links_whole() -> None:
    """Eight experts with long passages: all shown, each given about the same room, and every
    source link and bold quote whole."""
    views = [ExpertView((f"Expert {n}",), hit(n, text="assessment " * 300,
                                             url=f"https://example.org/{'x' * 80}/{n}"))
             for n in range(1, 9)]
    embed = render.compare_embed("the islands", views)
    assert_fits(shared.Reply(embeds=[embed]))
    assert [f.name for f in embed.fields] == [f"Expert {n}" for n in range(1, 9)]
    sizes = [len(f.value) for f in embed.fields]
    assert max(sizes) - min(sizes) <= 60, sizes
    assert all(whole_markup(f.value) and "](<https://example.org/" in f.value
               for f in embed.fields)


def test_a_tight_citation_drops_its_link_rather_than_cutting_it() -> None:
    """At 120 characters the link does not fit: it is left out, and the quote is cut instead."""
    value = render.citation_value(hit(1, text="word " * 100, url="https://example.org/" + "y" * 60),
                                  120)
    assert len(value) <= 120 and whole_markup(value) and "](<" not in value
    assert value.startswith("> **") and "…**" in value


def test_summit_shows_before_then_after() -> None:
    """Before's citations come first, then After's, quotes sized by the room left."""
    meeting = Meeting(id="m", name="Lima meeting", date=PartialDate("2016-11", "month"),
                      date_end=None, place="Lima", kind="summit", ordinal=None,
                      participants=(), description=None)
    before = tuple(hit(n, text="expectation " * 200, title=f"Before {n}") for n in (1, 2))
    after = tuple(hit(n, text="assessment " * 200, title=f"After {n}") for n in (3, 4, 5))
    embed = render.summit_embed(MeetingCommentary(meeting, before, after), None)
    labels = [f.name.split(" · ")[0] for f in embed.fields]
    assert labels == ["Before", "Before", "After", "After", "After"]
    assert all(whole_markup(f.value) for f in embed.fields)
    assert_fits(shared.Reply(embeds=[embed]))
    only_after = render.summit_embed(MeetingCommentary(meeting, (), after), None)
    assert [f.name.split(":")[0].split(" · ")[0] for f in only_after.fields] == \
        ["Before", "After", "After", "After"]
    # passages of undated articles: a third group, after the two sides, only when there are any
    undated = tuple(hit(n, title=f"Undated {n}") for n in (6, 7))
    both = render.summit_embed(MeetingCommentary(meeting, before, (), undated), None)
    assert [f.name.split(":")[0].split(" · ")[0] for f in both.fields] == \
        ["Before", "Before", "After", "Side unknown", "Side unknown"]
    assert both.fields[-1].name == "Side unknown · Undated 7"


def test_each_kind_of_answer_has_its_own_colour() -> None:
    """Answers, lists, experts, summits, digests and admin cards differ in colour."""
    colours = {shared.ANSWER_COLOUR, shared.READ_COLOUR, shared.LIST_COLOUR,
               shared.EXPERT_COLOUR, shared.SUMMIT_COLOUR, shared.DIGEST_COLOUR,
               shared.ADMIN_COLOUR, shared.HELP_COLOUR, shared.WARN_COLOUR}
    assert len(colours) == 9
    assert render.ask_page("q", [hit()])[0].colour == shared.ANSWER_COLOUR
    assert render.compare_embed("t", [ExpertView(("E",), hit())]).colour == shared.EXPERT_COLOUR
    assert render.latest_embed([article()]).colour == shared.LIST_COLOUR


@pytest.mark.parametrize(("statuses", "title"), [
    (["added"], "Added to the library"), (["added", "added"], "Added to the library"),
    (["error"], "Nothing added"), (["duplicate"], "Nothing added"), ([], "Nothing added"),
    (["added", "error", "duplicate"], "Added 1 of 3")])
def test_add_results_title_matches_the_outcome(statuses: list[str], title: str) -> None:
    """The /source reply's title says whether anything was added, and how much of it."""
    results = [AddResult(f"https://e.org/{n}", status, f"{status} {n}")  # type: ignore[arg-type]
               for n, status in enumerate(statuses)]
    assert render.add_results_reply(results).embeds[0].title == title


def test_add_results_name_each_input_and_sum_up_the_rest() -> None:
    """Several inputs: each line names its input, shortened and inert; many identical failures
    end in one "… and N more" line; hundreds of different ones still fit one message."""
    nasty = "https://example.org/`**bold**`/" + "a" * 200 + "/end.html"
    few = render.result_lines([AddResult(nasty, "error", "HTTP 404"),
                               AddResult("report.pdf", "added", "added #1 “R” (2 passages)")])
    assert few[0].startswith("⚠️ `https://example.org/ˋ**bold**ˋ/aaa") and few[0].endswith(
        "/end.html`: HTTP 404")
    assert len(few[0]) < 100 and few[1] == "✅ `report.pdf`: added #1 “R” (2 passages)"
    same = [AddResult(f"http://127.0.0.1:9/{n}", "error", "could not connect") for n in range(52)]
    assert render.result_lines(same)[-1] == "… and 49 more failed the same way"
    assert render.result_lines([AddResult("x", "added", "added #1")]) == ["✅ added #1"]
    varied = [AddResult(f"https://e.org/{n}", "error" if n % 3 else "added", f"{NASTY} {n}" * 5)
              for n in range(300)]
    reply = render.add_results_reply(varied)
    assert_fits(reply)
    last = (reply.embeds[0].description or "").splitlines()[-1]
    assert re.fullmatch(r"… and \d+ more \(\d+ added, \d+ failed\)", last), last


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_direction_controls_typed_by_a_user_are_never_echoed() -> None:
    """A right-to-left override (and every other embedding, isolate or mark) in a question is
    dropped wherever it would be repeated: the no-match sentence, the footer that carries the
    question, a code span; the words around it stay."""
    question = "islands \u202edrawn backwards\u2066 and \u200fmore"
    said = render.no_match_text(question)
    footer = render.ask_footer(question, 1, 3, render.AskFilters(expert="\u202eTogo"))
    spans = [shared.code(question), render.input_label(f"https://e.org/{BIDI}x")]
    for text in (said, footer, *spans, shared.clean(NASTY + BIDI)):
        assert not set(text) & set(BIDI), repr(text)
    assert "“islands drawn backwards and more”" in said
    assert render.ask_state_from_footer(footer) == (
        "islands drawn backwards and more", render.AskFilters(expert="Togo"))


def test_an_article_the_server_gained_is_titled_added() -> None:
    """An article the library had that the server now has as a source is added for that
    server: alone it is "Added to your sources", among others it counts as added."""
    gained = AddResult("https://e.org/a", "duplicate", "already in the library as #6 “A” "
                       "(same link); now yours too, as source #1", adopted_source=1)
    had = AddResult("https://e.org/b", "duplicate", "already in the library as #7 “B”")
    failed = AddResult("https://e.org/c", "error", "HTTP 404")
    title = render.add_results_title
    assert title([gained]) == "Added to your sources"
    assert title([gained, gained]) == "Added 2 to your sources"
    assert title([gained, had, failed]) == "Added 1 of 3"
    assert title([had]) == "Nothing added"
    assert "adopted_source" not in gained.to_json()  # the CLI's JSON keeps its keys


def test_inputs_are_labelled_as_typed() -> None:
    """A link typed with and without its scheme gets two different labels; a long one keeps
    its start and its end."""
    labels = {render.input_label(text) for text in
              ("http://e.org/a.html", "e.org/a.html", "https://www.e.org/a.html")}
    assert labels == {"`http://e.org/a.html`", "`e.org/a.html`", "`https://www.e.org/a.html`"}
    long = render.input_label("https://example.org/" + "x" * 200 + "/end.html")
    assert long.startswith("`https://example.org/x") and long.endswith("/end.html`")


def test_counts_of_one_are_singular() -> None:
    """"1 article", "1 passage", "1 entry": never "1 articles"."""
    one = SourceStatus(id=1, kind="file", url=None, title="T", active=True, articles=1,
                       last_fetch_at=ADDED, last_new_article_at=None, last_error=None,
                       failing=False, next_poll_at=None)
    assert "(active, 1 article)" in render.source_line(one)
    assert shared.counted(1, "entry", "entries") == "1 entry"
    assert shared.counted(1204, "passage") == "1,204 passages"
    card = help_embed(articles=1, passages=1, experts=1, publishers=[], commands_shown=[],
                      admin_groups=[])
    assert "**1 article** (1 passage, 1 expert)" in (card.description or "")


def test_source_status_says_when_a_failed_fetch_last_worked() -> None:
    """/source status: "fetched" is the last attempt; after a failed one the line says when a
    fetch last worked (an admin read "fetched 1 minute ago" beside "last error: 500" as a
    success), or "never"; a working source's line is as before."""
    earlier = ADDED - dt.timedelta(hours=3)
    fields = dict(kind="feed", url="https://e.org/feed.xml", title="Feed", active=True,
                  articles=2, last_new_article_at=earlier, next_poll_at=None)
    failing = SourceStatus(id=1, **fields, last_fetch_at=ADDED, last_success_at=earlier,
                           last_error="e.org answered 500", failing=True)
    never = SourceStatus(id=2, **fields, last_fetch_at=ADDED, last_success_at=None,
                         last_error="could not connect", failing=False)
    working = SourceStatus(id=3, **fields, last_fetch_at=ADDED, last_success_at=ADDED,
                           last_error=None, failing=False)
    when = shared.format_when
    assert f"fetched {when(ADDED)} (failed; last worked {when(earlier)})" in \
        render.source_line(failing, detail=True)
    assert f"fetched {when(ADDED)} (failed; last worked never)" in \
        render.source_line(never, detail=True)
    assert "failed" not in render.source_line(working, detail=True)
    unread = SourceStatus(id=4, **fields, last_fetch_at=None, last_error=None, failing=False)
    assert "fetched never (its first read is pending: /source add it again to read it now)" \
        in render.source_line(unread, detail=True)


def test_a_passage_is_placed_by_where_it_starts_not_by_its_opening_words() -> None:
    """Paragraphs that all open with the same words: each passage's page is the one holding
    its start (the first page those words appear on was taken for all of them)."""
    opening = "Delegates from both capitals returned to the same question once more"
    paragraphs = [f"{opening}, round {n}. " + "The minutes ran on at length. " * 40
                  for n in range(12)]
    text = "\n\n".join(paragraphs)
    starts = tuple(text.index(f"round {n}.") - len(opening) - 2 for n in range(12))
    whole = Article(summary=article(), text=text, original_text=text,
                    passages=tuple(paragraphs), passage_ids=tuple(range(100, 112)),
                    passage_starts=starts)
    pages = render.text_pages(text)
    assert len(pages) > 3
    for n in range(12):
        page = render.page_of_passage(whole, 100 + n)
        assert f"round {n}." in pages[page][1], (n, page)
    assert render.page_of_passage(whole, 999) == 0


def test_a_dm_no_match_says_servers_articles_are_searched_only_there() -> None:
    """In a DM the no-match sentence adds that what a server added is searchable only in that
    server (a walrus article a server added was silently missing); the longest one still fits
    a message."""
    dm = render.no_match_text("walrus", in_dm=True)
    assert dm.startswith("No good match in the library for “walrus”") and dm.endswith(
        "Articles a server added are searchable only in that server, not in DMs."), dm
    assert "not in DMs" not in render.no_match_text("walrus")
    longest = render.no_match_text("w" * 500, render.AskFilters(
        expert="e" * 100, publisher="p" * 100), in_dm=True)
    assert longest.endswith("not in DMs.") and len(longest) <= 2000


def test_a_digest_period_never_reads_as_the_same_instant_twice() -> None:
    """A period within one minute is shown to the second with its day (it read "From 12:30 to
    12:30": Discord's "f" shows minutes); no span at all is "Up to"; longer ones to the
    minute."""
    start = dt.datetime(2026, 12, 1, 12, 30, 5, tzinfo=dt.UTC)
    stamp = int(start.timestamp())
    assert shared.period_text(start, start + dt.timedelta(seconds=40)) == (
        f"From <t:{stamp}:T> to <t:{stamp + 40}:T> on <t:{stamp + 40}:D>")
    assert shared.period_text(start, start) == f"Up to <t:{stamp}:f>"
    assert shared.period_text(start, start + dt.timedelta(hours=1)) == (
        f"From <t:{stamp}:f> to <t:{stamp + 3600}:f>")


def test_latest_says_when_fewer_articles_fit_than_were_asked() -> None:
    """/latest count: 25 with long titles: what fits is shown and a note says how many of the
    25 (five were dropped without a word), within the message's 6,000 characters."""
    long = [article(n, title=f"{n:02d} " + "A very long title about the summit " * 8,
                    publisher="An Institute With A Very Long Name " * 3,
                    expert="Aleksandra Abramowicz-Kowalczykowa")
            for n in range(1, 26)]
    embed = render.latest_embed(long)
    assert 0 < len(embed.fields) < 25
    assert embed.description == (f"Showing the newest {len(embed.fields)} of the 25 asked: one "
                                 "message holds no more. /article finds any article by its "
                                 "title.")
    assert len(embed) <= 6000
    assert render.latest_embed(long[:3]).description is None  # all fit: no note

"""The Discord experience end to end (issue 12): the real `python -m bot` against the fake Discord,
checked through what Discord would have received: embeds, components, flags and sizes.

One bot process serves the module (the fast hashing embedder: these tests are about what people
see and can click, not ranking; tests/bot/test_e2e.py runs the real model). Commands sync
globally; the owner's commands go to the owner's own guild only.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.bot.launch import HASHING, bot_env, running_bot
from tests.fakes.discord_server import (
    BotProcess,
    CommandNotAvailable,
    FakeDiscord,
    FakeFile,
    InteractionHandle,
    StoredMessage,
)
from tests.fakes.validation import validate_message
from tests.fakes.world import World

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

ANSWER_TIMEOUT = 60.0
QUESTION = "What did experts expect from the summit in Moscow?"
FOUNDING_PUBLISHERS = ("Valdai Discussion Club", "East Asia Forum", "Rethinking Russia",
                       "The Tokyo Foundation for Policy Research")
LINK = re.compile(r"\[([^\]]*)\]\(<?([^)>\s]*)>?\)")


@pytest.fixture(scope="module")
def world() -> World:
    """Default world, a second guild the owner uses for the bot's own commands, and readers."""
    world = World.default()
    world.add_guild("Owner Lab", channels=("lab",))
    for name in ("reader1", "reader2", "reader3", "reader4", "reader5", "reader6",
                 "reader7"):
        world.add_user(name, guild=world.guild())
    return world


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeDiscord, world: World, tmp_path_factory: pytest.TempPathFactory
              ) -> AsyncIterator[BotProcess]:
    """`python -m bot`, synced globally, owner commands in "Owner Lab". REPLY_WITHIN_MS=0:
    /ask shows "thinking…" at once here, as it does when a search is slow (a quick one is
    answered in one step: tests/bot/test_e2e.py)."""
    home = tmp_path_factory.mktemp("experience")
    env = bot_env(fake, home, **HASHING, DISCORD_OWNER_GUILD_ID=str(world.guild("Owner Lab").id),
                  ASK_COOLDOWN_SECONDS="0", ASK_PAGE_SIZE="2", ASK_MAX_HITS="8",
                  REPLY_WITHIN_MS="0")
    async with running_bot(fake, env, home) as process:
        yield process


async def run(fake: FakeDiscord, name: str, options: dict[str, Any] | None = None,
              **kwargs: Any) -> InteractionHandle:
    """Invoke a command and wait for its final answer."""
    return await (await fake.slash(name, options, **kwargs)).wait_done(timeout=ANSWER_TIMEOUT)


def within_limits(message: StoredMessage) -> None:
    """What Discord would accept: the fake's own validation of a message body, plus totals."""
    assert validate_message(message.payload, file_count=0, is_edit=True) == {}
    total = sum(len(e.get("title") or "") + len(e.get("description") or "")
                + len((e.get("footer") or {}).get("text") or "")
                + sum(len(f["name"]) + len(f["value"]) for f in e.get("fields") or [])
                for e in message.embeds)
    assert total <= 6000 and len(message.content) <= 2000


def buttons(message: StoredMessage) -> dict[str, dict[str, Any]]:
    """Buttons and selects by label (or placeholder)."""
    return {c.get("label") or c.get("placeholder") or c.get("custom_id", ""): c
            for c in message.walk_components() if c["type"] in (2, 3)}


def page_count(message: StoredMessage) -> int:
    """y of the "Page x of y" indicator (1 when the message has none)."""
    for label in buttons(message):
        if found := re.fullmatch(r"Page \d+ of (\d+)", label):
            return int(found.group(1))
    return 1


def is_sentence(text: str) -> bool:
    """A full sentence: starts with a capital letter, ends with a full stop (or ? !)."""
    return bool(text) and text[0].isupper() and text.rstrip()[-1] in ".?!"


# ----- 11. owner-only commands ----------------------------------------------------------------
async def test_owner_commands_live_only_in_the_owners_guild(bot: BotProcess, fake: FakeDiscord,
                                                            world: World) -> None:
    """/about and /resync are not among the global commands other admins see; the owner runs
    them in the owner's guild."""
    public = {c["name"] for c in fake.global_commands}
    assert {"ask", "help", "article", "config", "digest"} <= public
    assert not {"about", "resync"} & public
    lab = world.guild("Owner Lab")
    assert {c["name"] for c in fake.guild_commands[lab.id]} == {"about", "resync"}
    with pytest.raises(CommandNotAvailable):
        await fake.slash("about", user="alice")
    about = await run(fake, "about", user="owner", guild=lab)
    assert about.ephemeral and "articles" in about.text
    within_limits(about.message)


# ----- 4. /help ---------------------------------------------------------------------------------
async def test_help_is_public_and_names_every_command(bot: BotProcess, fake: FakeDiscord) -> None:
    """/help answers publicly with the library's size, the founding publishers and an example
    for every command a member can run."""
    reply = await run(fake, "help", user="reader1")
    assert not reply.ephemeral and len(reply.embeds) == 1
    text = reply.text
    assert re.search(r"\*\*\d[\d,]* articles\*\*", text)
    assert all(p in text for p in FOUNDING_PUBLISHERS)
    members = {c["name"] for c in fake.global_commands
               if c["type"] == 1 and c.get("default_member_permissions") is None}
    assert members and all(f"`/{name}" in text for name in members), members
    assert "Ask Summit Desk" in text
    within_limits(reply.message)
    assert (reply.allowed_mentions or {}).get("parse") == []


async def test_mentioning_the_bot_replies_with_help(bot: BotProcess, fake: FakeDiscord,
                                                    world: World) -> None:
    """A message that only mentions the bot gets the same help card as a reply."""
    channel = world.guild().channel("general")
    asked = await fake.user_message(f"<@{world.bot.id}>", user="reader2", channel=channel)

    def replies() -> list[StoredMessage]:
        return [m for m in fake.channel_messages(channel)
                if str((m.payload.get("message_reference") or {}).get("message_id"))
                == str(asked.id)]

    [card] = await fake.wait_until(replies, ANSWER_TIMEOUT)
    assert "articles" in card.text and "/ask" in card.text


# ----- 3. the paginator -------------------------------------------------------------------------
async def test_ask_pages_back_and_forth_for_the_asker(bot: BotProcess, fake: FakeDiscord) -> None:
    """An /ask answer shows "Page 1 of n" between a disabled Back and Next; the asker's clicks
    edit the public message in place (type 6), and Back comes back to page 1."""
    reply = await run(fake, "ask", {"question": QUESTION}, user="reader3")
    first = reply.message
    assert not first.ephemeral and first.embeds[0]["fields"][0]["name"].startswith("1. ")
    controls = buttons(first)
    total = page_count(first)
    assert total >= 2
    assert controls["Back"]["disabled"] and not controls["Next"].get("disabled")
    assert controls[f"Page 1 of {total}"]["disabled"]
    within_limits(first)
    click = await (await fake.component(controls["Next"]["custom_id"], message=first,
                                        user="reader3")).wait_done(timeout=ANSWER_TIMEOUT)
    assert click.callback_type == 6
    assert first.embeds[0]["fields"][0]["name"].startswith("3. ")  # ASK_PAGE_SIZE=2
    # The page's Read menu (made when the page is first shown) offers that page's citations.
    [menu] = [c for c in first.walk_components() if c.get("type") == 3]
    labels = [o["label"] for o in menu["options"]]
    assert labels[0].startswith("3. ") and not any(x.startswith("1. ") for x in labels)
    now = buttons(first)
    assert f"Page 2 of {total}" in now and not now["Back"].get("disabled")
    within_limits(first)
    back = await (await fake.component(now["Back"]["custom_id"], message=first,
                                       user="reader3")).wait_done(timeout=ANSWER_TIMEOUT)
    assert back.callback_type == 6
    assert first.embeds[0]["fields"][0]["name"].startswith("1. ")


async def test_others_page_their_own_private_copy(bot: BotProcess, fake: FakeDiscord) -> None:
    """Someone else clicking Next gets page 2 privately, with its own controls they can turn;
    the asker's public message does not move."""
    reply = await run(fake, "ask", {"question": QUESTION}, user="reader4")
    before = reply.message.embeds
    nxt = buttons(reply.message)["Next"]["custom_id"]
    copy = await (await fake.component(nxt, message=reply, user="reader5")).wait_done(
        timeout=ANSWER_TIMEOUT)
    assert copy.ephemeral and copy.message is not reply.message
    assert copy.embeds[0]["fields"][0]["name"].startswith("3. ")
    assert reply.message.embeds == before
    assert "🗑️" not in [c.get("emoji", {}).get("name") for c in copy.message.walk_components()]
    again = await (await fake.component(buttons(copy.message)["Next"]["custom_id"],
                                        message=copy.message, user="reader5")).wait_done(
        timeout=ANSWER_TIMEOUT)
    assert again.callback_type == 6 and copy.message.embeds[0]["fields"][0]["name"].startswith("5. ")


async def test_only_the_asker_deletes(bot: BotProcess, fake: FakeDiscord) -> None:
    """The delete button refuses others (privately) and removes the message for the asker."""
    answer = (await run(fake, "ask", {"question": QUESTION}, user="reader6")).message
    delete = next(c["custom_id"] for c in answer.walk_components()
                  if c.get("custom_id", "").startswith("pg:del:"))
    refused = await (await fake.component(delete, message=answer, user="reader1")).wait_done()
    assert refused.ephemeral and is_sentence(refused.content) and not answer.deleted
    done = await (await fake.component(delete, message=answer, user="reader6")).wait_done()
    assert done.callback_type == 6 and answer.deleted


# ----- 1. read the source -----------------------------------------------------------------------
async def test_read_a_cited_passage_then_the_whole_article(bot: BotProcess,
                                                           fake: FakeDiscord) -> None:
    """Every /ask page has a Read menu listing its citations; a pick shows the passage with its
    neighbours privately, and "Whole article" opens the article, paged, at that passage."""
    reply = await run(fake, "ask", {"question": QUESTION}, user="reader1")
    menu = next(c for c in reply.message.walk_components() if c["type"] == 3)
    assert menu["custom_id"] == "read:pick"
    fields = reply.embeds[0]["fields"]
    assert [o["label"][:2] for o in menu["options"]] == [f["name"][:2] for f in fields]
    picked = menu["options"][0]
    shown = await (await fake.component("read:pick", message=reply, user="reader2",
                                        values=[picked["value"]])).wait_done(
        timeout=ANSWER_TIMEOUT)
    assert shown.ephemeral and "> **" in shown.embeds[0]["description"]
    assert shown.embeds[0]["title"] and re.fullmatch(r"Passage \d+ of \d+",
                                                     shown.embeds[0]["footer"]["text"])
    within_limits(shown.message)
    whole = next(c for c in shown.message.walk_components()
                 if c.get("label") == "Whole article")
    opened = await (await fake.component(whole["custom_id"], message=shown.message,
                                         user="reader2")).wait_done(timeout=ANSWER_TIMEOUT)
    assert opened.ephemeral and opened.message is not shown.message
    assert opened.embeds[0]["title"].startswith(shown.embeds[0]["title"][:30])
    within_limits(opened.message)


def same_opening_article() -> str:
    """An article whose fourteen paragraphs all open with the same words; only the last one
    mentions the zebulon quarry."""
    opening = "Delegates from both capitals returned to the lanternfield question once more"
    paragraphs = []
    for n in range(14):
        topic = "the zebulon quarry tariffs" if n == 13 else f"harbour dues of season {n}"
        paragraphs.append(
            f"{opening}, this time over {topic}. " + "The talks went on without a result, "
            "and the minutes recorded each side's position at length. " * 6
            + f"Observers called the round number {n} a modest step.")
    return "# Lanternfield talks\n\nBy Ann Example.\n\n" + "\n\n".join(paragraphs) + "\n"


async def test_whole_article_opens_where_a_passage_is_when_paragraphs_open_alike(
        bot: BotProcess, fake: FakeDiscord) -> None:
    """"Whole article" from a passage whose opening words every paragraph shares opens the
    page holding that passage, not the first page those words appear on."""
    uploaded = await run(fake, "source upload", user="alice", attachments={
        "file": FakeFile("lanternfield.md", same_opening_article().encode())})
    assert "Lanternfield talks" in uploaded.text, uploaded.text
    reply = await run(fake, "ask", {"question": "zebulon quarry tariffs"}, user="reader7")
    menu = next(c for c in reply.message.walk_components() if c["type"] == 3)
    shown = await (await fake.component("read:pick", message=reply, user="reader7",
                                        values=[menu["options"][0]["value"]])).wait_done(
        timeout=ANSWER_TIMEOUT)
    assert "zebulon" in shown.embeds[0]["description"], shown.embeds
    whole = next(c for c in shown.message.walk_components()
                 if c.get("label") == "Whole article")
    opened = await (await fake.component(whole["custom_id"], message=shown.message,
                                         user="reader7")).wait_done(timeout=ANSWER_TIMEOUT)
    page = opened.embeds[0]
    assert "zebulon" in page["description"], (whole["custom_id"], page["footer"])
    at = re.search(r"page (\d+) of (\d+)", page["footer"]["text"])
    assert at is not None and 1 < int(at[1]) == int(at[2]), page["footer"]  # the last page


async def test_article_command_autocompletes_titles_and_pages_privately(
        bot: BotProcess, fake: FakeDiscord) -> None:
    """/article suggests titles as you type; the article comes back privately, metadata first,
    its text spread over pages within Discord's limits; an unknown id is a private sentence."""
    typed = await (await fake.autocomplete("article", "id", "summit")).wait_done()
    assert typed.choices and all("summit" in c["name"].casefold() for c in typed.choices)
    chosen = typed.choices[0]
    shown = await run(fake, "article", {"id": chosen["value"]}, user="reader3")
    # REPLY_WITHIN_MS=0: a private "thinking…" first (one step when quick:
    # tests/bot/test_e2e_slow_library.py)
    assert shown.ephemeral and shown.callback_type == 5
    embed = shown.embeds[0]
    assert embed["title"] and embed["title"] in chosen["name"]
    assert any(p in embed["description"] for p in FOUNDING_PUBLISHERS)
    within_limits(shown.message)
    assert all(len(e.get("description") or "") <= 4096 for e in shown.embeds)
    if page_count(shown.message) > 1:
        nxt = buttons(shown.message)["Next"]["custom_id"]
        turned = await (await fake.component(nxt, message=shown, user="reader3")).wait_done(
            timeout=ANSWER_TIMEOUT)
        assert turned.callback_type == 6 and "continued" in shown.embeds[0]["title"]
    missing = await run(fake, "article", {"id": 999999}, user="reader3")
    assert missing.ephemeral and is_sentence(missing.content) and "/article" in missing.content


# ----- 2. /ask filters -------------------------------------------------------------------------
async def test_ask_filters_narrow_the_answer(bot: BotProcess, fake: FakeDiscord) -> None:
    """expert:, publisher:, since: and until: narrow the citations and are shown in the footer;
    free-text options carry the service's length limits."""
    ask = next(c for c in fake.global_commands if c["name"] == "ask")
    lengths = {o["name"]: o.get("max_length") for o in ask["options"]}
    assert lengths["question"] == 500 and all(lengths.values())
    by_expert = await run(fake, "ask", {"question": QUESTION, "expert": "Streltsov"},
                          user="reader4")
    assert all("Streltsov" in f["value"] for f in by_expert.embeds[0]["fields"])
    assert "expert: Streltsov" in by_expert.embeds[0]["footer"]["text"]
    period = await run(fake, "ask", {"question": QUESTION, "since": "2019", "until": "2019-12"},
                       user="reader4")
    assert period.embeds and all("2019" in f["value"] for f in period.embeds[0]["fields"])
    publisher = await (await fake.autocomplete("ask", "publisher", "valdai",
                                               {"question": QUESTION})).wait_done()
    assert [c["value"] for c in publisher.choices] == ["Valdai Discussion Club"]


async def test_bad_dates_are_refused_privately_before_anything_public(
        bot: BotProcess, fake: FakeDiscord, world: World) -> None:
    """since: 2017-13 gets a private sentence saying how to write a date; nothing public."""
    channel = world.guild().text_channels[0]
    before = len(fake.channel_messages(channel))
    bad = await run(fake, "ask", {"question": QUESTION, "since": "2017-13"}, user="reader5")
    assert bad.ephemeral and is_sentence(bad.content)
    assert "2017-04" in bad.content  # says what to write instead
    assert len(fake.channel_messages(channel)) == before


async def test_a_slow_search_shows_thinking_then_fills_it_in(
        bot: BotProcess, fake: FakeDiscord, world: World) -> None:
    """When the search is not done in time (here: no time at all), /ask acknowledges first
    (type 5, public "thinking…") and the answer replaces that placeholder: one public message."""
    channel = world.guild().text_channels[0]
    before = len(fake.channel_messages(channel))
    handle = await run(fake, "ask", {"question": QUESTION}, user="reader7")
    assert handle.callback_type == 5 and not handle.ephemeral
    assert handle.original is not None and handle.original.embeds and not handle.followups
    assert handle.original.embeds[0]["fields"][0]["name"].startswith("1. ")
    assert len(fake.channel_messages(channel)) == before + 1


# ----- 6. errors -------------------------------------------------------------------------------
async def test_no_match_is_private_repeats_the_question_and_suggests(
        bot: BotProcess, fake: FakeDiscord, world: World) -> None:
    """A question the library cannot answer (nothing from 1990): the public "thinking…"
    placeholder goes away and a private sentence repeats the question and suggests /help or
    another filter."""
    question = "Which talks did the experts expect to fail?"
    channel = world.guild().text_channels[0]
    handle = await run(fake, "ask", {"question": question, "since": "1990", "until": "1990-06"},
                       user="reader6")
    assert handle.callback_type == 5
    assert handle.original is not None and handle.original.deleted
    [said] = handle.followups
    assert said.ephemeral and question in said.content and "/help" in said.content
    assert "since: 1990" in said.content and is_sentence(said.content)
    assert all(question not in m.text for m in fake.channel_messages(channel))


async def test_no_match_echoes_the_question_without_direction_controls(
        bot: BotProcess, fake: FakeDiscord) -> None:
    """A question holding a right-to-left override and an isolate is repeated without them, so
    Discord does not draw the rest of the sentence reversed."""
    question = "Which talks \u202edid the experts\u2066 expect to fail?"
    handle = await run(fake, "ask", {"question": question, "since": "1990", "until": "1990-06"},
                       user="reader6")
    [said] = handle.followups
    assert said.ephemeral and "“Which talks did the experts expect to fail?”" in said.content
    assert not {"\u202e", "\u2066"} & set(said.content), repr(said.content)


async def test_error_replies_are_private_sentences_saying_what_next(
        bot: BotProcess, fake: FakeDiscord) -> None:
    """Unknown names, non-admins and overlong input each get a private, whole-sentence reply
    that says what to do next."""
    cases = [
        ("expert", {"name": "Nobody Atall"}, "reader1", "/experts"),
        ("summit", {"name": "1066"}, "reader1", "/summits"),
        ("digest list", {}, "bob", "admin"),
    ]
    for name, options, user, hint in cases:
        reply = await run(fake, name, options, user=user, strict=False)
        assert reply.ephemeral, name
        assert is_sentence(reply.content), (name, reply.content)
        assert hint in reply.content, (name, reply.content)


# ----- 5. the message menu ---------------------------------------------------------------------
async def test_ask_about_a_message_from_its_menu(bot: BotProcess, fake: FakeDiscord,
                                                 world: World) -> None:
    """"Ask Summit Desk" on someone's message asks the library with its text (cut to the
    question limit); the answer is private and pageable."""
    menu = next(c for c in fake.global_commands if c["type"] == 3)
    assert menu["name"] == "Ask Summit Desk"
    long_text = QUESTION + " " + "and what came after it " * 40
    posted = await fake.user_message(long_text, user="alice", channel="general")
    answer = await (await fake.message_command("Ask Summit Desk", posted, user="reader2")
                    ).wait_done(timeout=ANSWER_TIMEOUT)
    assert answer.ephemeral and answer.embeds
    footer = answer.embeds[0]["footer"]["text"]
    assert footer.startswith("Q: What did experts expect") and len(footer) < 600
    within_limits(answer.message)
    empty = await fake.user_message("   ", user="alice", channel="general")
    refused = await (await fake.message_command("Ask Summit Desk", empty, user="reader2")
                     ).wait_done()
    assert refused.ephemeral and is_sentence(refused.content)


async def test_zz_nothing_rejected(bot: BotProcess, fake: FakeDiscord) -> None:
    """Nothing above made Discord reject a request, or the bot log an error."""
    fake.assert_no_errors()
    assert bot.error_lines() == [], bot.output


# ----- 7. layouts ------------------------------------------------------------------------------
def whole_markup(value: str) -> bool:
    """No link or bold cut in the middle."""
    return value.count("](<") == len(re.findall(r"\]\(<[^>]*>\)", value)) and \
        value.count("**") % 2 == 0


async def test_compare_and_summit_layouts(bot: BotProcess, fake: FakeDiscord) -> None:
    """/compare shares the embed among the experts, with whole links and a Read menu per
    expert; /summit shows Before, then After; each kind of answer has its own colour and no
    footer shows an internal id."""
    compared = await run(fake, "compare", {"topic": "the territorial dispute"}, user="reader1")
    embed = compared.embeds[0]
    assert len(embed["fields"]) >= 2 and all(whole_markup(f["value"]) for f in embed["fields"])
    menu = next(c for c in compared.message.walk_components() if c["type"] == 3)
    assert len(menu["options"]) == len(embed["fields"])
    within_limits(compared.message)
    typed = await (await fake.autocomplete("summit", "name", "2019")).wait_done()
    summit = await run(fake, "summit", {"name": typed.choices[0]["value"]}, user="reader1")
    labels = [f["name"].split(" · ")[0].split(":")[0] for f in summit.embeds[0]["fields"]]
    assert labels and labels == sorted(labels, key=lambda x: x != "Before")
    within_limits(summit.message)
    asked = await run(fake, "ask", {"question": QUESTION}, user="reader2")
    helped = await run(fake, "help", user="reader2")
    colours = {m.embeds[0]["color"] for m in (compared.message, summit.message, asked.message,
                                              helped.message)}
    assert len(colours) == 4
    for message in (compared.message, summit.message, asked.message, helped.message):
        footer = (message.embeds[0].get("footer") or {}).get("text") or ""
        assert not re.search(r"#\d", footer), footer

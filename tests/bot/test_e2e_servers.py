"""Several servers on one deployment end to end (issue 10.9-11): the real `python -m bot` against
the fake Discord, two guilds each adding sources and uploads. Neither sees, lists, completes,
removes or gets in a digest what the other added; both see the founding library; DMs see the
operator's library only; a feed both follow is one source with a subscription each."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.bot.launch import HASHING, bot_env, running_bot
from tests.fakes.discord_server import BotProcess, FakeDiscord, FakeFile, InteractionHandle
from tests.fakes.web_server import FakeWeb
from tests.fakes.world import SUMMIT_ADMIN_PERMISSIONS, World

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

ANSWER_TIMEOUT = 60.0
NORTH, SOUTH = "North Desk", "South Desk"
# Each server's upload, in words no founding article uses.
NORTH_TITLE = "Quillfeather secretariat for the zanthoric fisheries"
NORTH_TEXT = f"""# {NORTH_TITLE}

By Ilse Northcote, analyst at the Quillfeather Observatory.

The quillfeather delegation argued that the zanthoric fisheries accord needs a standing
secretariat in Nemuro, reporting twice a year on catch quotas and the zanthoric ferry schedule.
"""
SOUTH_TITLE = "Brambleworth tunnel under the marrowgate strait"
SOUTH_TEXT = f"""# {SOUTH_TITLE}

By Odo Southwick, fellow at the Brambleworth Institute.

Engineers at brambleworth weighed a marrowgate tunnel against the ferries it would replace,
and the marrowgate decade it would take, concluding that brambleworth financing is not ready.
"""
FOUNDING_QUESTION = "What did experts expect from the summit in Moscow?"


@pytest.fixture(scope="module")
def world() -> World:
    """Two servers: "North Desk" (alice is its admin) and "South Desk" (dora is its admin)."""
    world = World.default()
    north = world.guild()
    north.name = NORTH
    south = world.add_guild(SOUTH, channels=("general", "south-news"))
    world.add_role(south, "Summit Admin", SUMMIT_ADMIN_PERMISSIONS)
    world.add_user("dora", guild=south, roles=("Summit Admin",))
    return world


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeDiscord, tmp_path_factory: pytest.TempPathFactory
              ) -> AsyncIterator[BotProcess]:
    """`python -m bot`, commands synced globally (both servers have them)."""
    home: Path = tmp_path_factory.mktemp("servers")
    env = bot_env(fake, home, f"sqlite:///{home / 'library.sqlite3'}", **HASHING,
                  FETCH_ALLOW_PRIVATE_ADDRESSES="true", ASK_COOLDOWN_SECONDS="0")
    async with running_bot(fake, env, home) as process:
        yield process


async def run(fake: FakeDiscord, name: str, options: dict[str, Any] | None = None,
              **kwargs: Any) -> InteractionHandle:
    """Invoke a command and wait for its final answer."""
    return await (await fake.slash(name, options, **kwargs)).wait_done(timeout=ANSWER_TIMEOUT)


async def complete(fake: FakeDiscord, name: str, option: str, typed: str,
                   **kwargs: Any) -> list[dict[str, Any]]:
    """What the bot suggests while an option is typed."""
    return (await (await fake.autocomplete(name, option, typed, **kwargs)).wait_done(
        timeout=ANSWER_TIMEOUT)).choices


def as_north() -> dict[str, Any]:
    return {"guild": NORTH, "user": "alice"}


def as_south() -> dict[str, Any]:
    return {"guild": SOUTH, "user": "dora"}


async def test_each_server_adds_its_own(bot: BotProcess, fake: FakeDiscord, web: FakeWeb
                                        ) -> None:
    """Both subscribe a channel to digests; North uploads a file and follows a feed; South
    uploads a file."""
    await run(fake, "digest set", {"channel": "general", "schedule": "daily 09:00"},
              **as_north())
    await run(fake, "digest set", {"channel": "south-news", "schedule": "daily 09:00"},
              **as_south())
    north = await run(fake, "source upload", **as_north(),
                      attachments={"file": FakeFile("north.md", NORTH_TEXT.encode())})
    assert NORTH_TITLE in north.text, north.text
    south = await run(fake, "source upload", **as_south(),
                      attachments={"file": FakeFile("south.md", SOUTH_TEXT.encode())})
    assert SOUTH_TITLE in south.text, south.text
    feed = await run(fake, "source add", {"url": web.url("/rss.xml"), "kind": "feed"},
                     **as_north())
    await feed.wait_for(lambda h: "following feed" in h.message.text, timeout=ANSWER_TIMEOUT)


async def test_neither_server_sees_the_others_upload(bot: BotProcess, fake: FakeDiscord) -> None:
    """/ask, /latest and /article's completion: each server finds its own upload only."""
    for mine, theirs, who in ((NORTH_TITLE, SOUTH_TITLE, as_north()),
                              (SOUTH_TITLE, NORTH_TITLE, as_south())):
        own_words = "quillfeather zanthoric secretariat" if mine == NORTH_TITLE else \
            "brambleworth marrowgate tunnel"
        other_words = "brambleworth marrowgate tunnel" if mine == NORTH_TITLE else \
            "quillfeather zanthoric secretariat"
        found = await run(fake, "ask", {"question": own_words}, **who)
        assert mine in found.text
        hidden = await run(fake, "ask", {"question": other_words}, **who)
        assert theirs not in hidden.text
        latest = await run(fake, "latest", {"count": 25}, **who)
        assert mine in latest.text and theirs not in latest.text
        titles = [c["name"] for c in await complete(fake, "article", "id", theirs[:12], **who)]
        assert not any(theirs in t for t in titles)
        titles = [c["name"] for c in await complete(fake, "article", "id", mine[:12], **who)]
        assert any(mine in t for t in titles)


async def test_both_servers_and_dms_see_the_founding_library(bot: BotProcess,
                                                             fake: FakeDiscord) -> None:
    """A founding question gets the same citations in South (whose one upload is off topic)
    as in a DM, and founding citations in North; a DM sees no server's upload."""
    def cited(answer: InteractionHandle) -> list[str]:
        return [f["name"] for f in answer.embeds[0].get("fields") or []]

    north, south = [await run(fake, "ask", {"question": FOUNDING_QUESTION}, **who)
                    for who in (as_north(), as_south())]
    dm = await run(fake, "ask", {"question": FOUNDING_QUESTION}, user="bob", dm=True)
    assert cited(dm) and cited(south) == cited(dm)
    assert set(cited(north)) & set(cited(dm))
    private = await run(fake, "ask", {"question": "quillfeather zanthoric secretariat"},
                        user="bob", dm=True)
    assert NORTH_TITLE not in private.text
    latest = await run(fake, "latest", {"count": 25}, user="bob", dm=True)
    assert NORTH_TITLE not in latest.text and SOUTH_TITLE not in latest.text


async def test_a_dm_says_servers_articles_are_searched_only_there(bot: BotProcess,
                                                                  fake: FakeDiscord) -> None:
    """In a DM, a question only a server's upload answers and /help both say that what a
    server added is searchable only in that server (the article was silently missing, and
    /help counted only the shared library), naming no server and none of its content; in a
    server neither says it."""
    scope = "Articles a server added are searchable only in that server, not in DMs."
    # (the hashing embedder finds weak passages for any words: a period with no article
    # gives the no-match reply here; test_render pins the plain one)
    dm = await run(fake, "ask", {"question": "brambleworth marrowgate tunnel", "since": "1901",
                                 "until": "1902"}, user="bob", dm=True)
    assert dm.ephemeral and dm.content.endswith(scope), dm.text
    assert SOUTH not in dm.content and NORTH not in dm.content and "Odo" not in dm.content
    assert len(dm.content) <= 2000
    card = await run(fake, "help", user="bob", dm=True)
    assert scope in card.embeds[0]["description"], card.embeds[0]["description"]
    unanswered = await run(fake, "ask", {"question": "marrowgate tunnel", "since": "1901",
                                         "until": "1902"}, **as_south())
    assert unanswered.content.startswith("Nothing in the library answers"), unanswered.text
    assert scope not in unanswered.text
    assert scope not in (await run(fake, "help", **as_south())).text


async def test_help_counts_the_library_each_server_sees(bot: BotProcess, fake: FakeDiscord
                                                        ) -> None:
    """/help's library size is what the asker can search: a DM the founding articles, South
    those plus its upload, North those plus its upload and feed (before: everything stored)."""
    def counts(reply: InteractionHandle) -> tuple[int, int, int]:
        found = re.search(r"(\d+) articles\*\* \((\d+) passages, (\d+) experts\)", reply.text)
        assert found, reply.text
        return int(found[1]), int(found[2]), int(found[3])

    dm = counts(await run(fake, "help", user="bob", dm=True))
    south = counts(await run(fake, "help", **as_south()))
    north = counts(await run(fake, "help", **as_north()))
    assert dm[0] == 5 and south[0] == 6 and north[0] > 6, (dm, south, north)
    assert dm[1] < south[1] < north[1] and dm[2] <= south[2]


async def test_neither_server_lists_completes_or_removes_the_others_sources(
        bot: BotProcess, fake: FakeDiscord) -> None:
    """South's /source list, status and completion hold only South's upload; removing North's
    feed from South is refused and leaves it followed."""
    north_list = await run(fake, "source list", **as_north())
    assert "Harbour Institute" in north_list.text
    south_latest = await run(fake, "latest", {"count": 25}, **as_south())
    assert "After Nagato" not in south_latest.text  # North's feed
    for command in ("source list", "source status"):
        south_view = await run(fake, command, **as_south())
        assert "Harbour Institute" not in south_view.text and NORTH_TITLE not in south_view.text
    north_ids = [c["value"] for c in await complete(fake, "source remove", "source", "",
                                                    **as_north())]
    south_ids = [c["value"] for c in await complete(fake, "source remove", "source", "",
                                                    **as_south())]
    assert north_ids and south_ids and not set(north_ids) & set(south_ids)
    for source_id in north_ids:
        refused = await run(fake, "source remove", {"source": source_id}, **as_south(),
                            strict=False)
        assert refused.ephemeral and "no source" in refused.text.lower()
    again = await run(fake, "source list", **as_north())
    assert "Harbour Institute" in again.text


async def test_a_feed_both_servers_follow_is_their_own_subscription(
        bot: BotProcess, fake: FakeDiscord, web: FakeWeb) -> None:
    """South adding North's feed is not told "already following": it follows it itself, sees
    its articles, and removing it leaves North's following untouched."""
    added = await run(fake, "source add", {"url": web.url("/rss.xml"), "kind": "feed"},
                      **as_south())
    await added.wait_for(lambda h: "following feed" in h.message.text, timeout=ANSWER_TIMEOUT)
    assert "already following" not in added.message.text
    listed = await run(fake, "source list", **as_south())
    assert "Harbour Institute" in listed.text
    latest = await run(fake, "latest", {"count": 25}, **as_south())
    assert "After Nagato" in latest.text  # the feed's articles, stored for North, now South's
    [feed_id] = [c["value"] for c in await complete(fake, "source remove", "source", "Harbour",
                                                    **as_south())]
    removed = await run(fake, "source remove", {"source": feed_id}, **as_south())
    assert removed.ephemeral and "Stopped" in removed.text
    north = await run(fake, "source list", **as_north())
    assert "Harbour Institute" in north.text
    south = await run(fake, "source list", **as_south())
    assert "Harbour Institute" not in south.text


async def test_each_servers_digest_carries_only_its_own_additions(
        bot: BotProcess, fake: FakeDiscord) -> None:
    """Each server's next digest (/digest preview: the same composition the posted digest
    uses) has its own upload and not the other's."""
    for mine, theirs, who in ((NORTH_TITLE, SOUTH_TITLE, as_north()),
                              (SOUTH_TITLE, NORTH_TITLE, as_south())):
        preview = await run(fake, "digest preview", **who)
        assert mine in preview.text and theirs not in preview.text, preview.text


async def test_every_search_backed_command_keeps_the_cooldown(bot: BotProcess,
                                                              fake: FakeDiscord) -> None:
    """With one question per 10 minutes: a second /compare, /expert topic:, /summit topic:,
    "Ask Summit Desk" and "More" is refused (each has its own count); /expert without a topic searches
    nothing and is not."""
    await run(fake, "config cooldown", {"uses": 1, "seconds": 600}, **as_south())
    expert = (await complete(fake, "expert", "name", "", **as_south()))[0]["value"]
    summits = await complete(fake, "summit", "name", "", **as_south())
    calls = [("compare", {"topic": "joint economic activities"}),
             ("expert", {"name": expert, "topic": "the islands"}),
             ("summit", {"name": summits[0]["value"], "topic": "the islands"})]
    for name, options in calls:
        first = await run(fake, name, options, **as_south())
        assert "ask again in" not in first.text, (name, first.text)
        second = await run(fake, name, options, **as_south())
        assert second.ephemeral and "ask again in" in second.text, (name, second.text)
    plain = await run(fake, "expert", {"name": expert}, **as_south())
    assert "ask again in" not in plain.text
    posted = await fake.user_message("What about the marrowgate tunnel?", user="dora",
                                     guild=SOUTH, channel="general")
    menu = [await (await fake.message_command("Ask Summit Desk", posted, user="dora")
                   ).wait_done(timeout=ANSWER_TIMEOUT) for _ in range(2)]
    assert "ask again in" not in menu[0].text and "ask again in" in menu[1].text
    # An answer posted by an older release carries a "More" button; clicking it searches again.
    asked = await run(fake, "ask", {"question": "the marrowgate tunnel and the ferries"},
                      **as_south())
    clicks = []
    for _ in range(2):  # a turn redraws the message's buttons: put the old one back each time
        asked.message.payload.setdefault("components", []).append(
            {"type": 1, "components": [{"type": 2, "style": 1, "label": "More",
                                        "custom_id": "ask:more:1"}]})
        clicks.append(await (await fake.component("ask:more:1", message=asked, user="dora")
                             ).wait_done(timeout=ANSWER_TIMEOUT))
    assert "ask again in" not in clicks[0].text
    assert clicks[1].ephemeral and "ask again in" in clicks[1].text
    await run(fake, "config cooldown", **as_south())


SHARED_PAGE = """<html><head><title>Lanternfield ferry charter renewed</title></head><body>
<article><h1>Lanternfield ferry charter renewed</h1><p>By Ilse Northcote.</p>
<p>The lanternfield ferry charter was renewed for five seasons after a long dispute over the
winter timetable, the harbour dues and who pays for the new breakwater at the northern pier.</p>
<p>Both councils agreed to review the lanternfield timetable each spring.</p></article>
</body></html>"""


async def test_a_link_another_server_added_is_titled_as_gained(
        bot: BotProcess, fake: FakeDiscord, web: FakeWeb) -> None:
    """South adding an article North added first gains it as a source: the title says so (it
    said "Nothing added" over "now yours too"); two inputs that differ only by their scheme
    are shown as typed, so the refused one is told apart."""
    web.route("/lanternfield.html", SHARED_PAGE)
    url = web.url("/lanternfield.html")
    north = await run(fake, "source add", {"url": url, "kind": "article"}, **as_north())
    assert north.embeds[0]["title"] == "Added to the library", north.text
    south = await run(fake, "source add", {"url": url, "kind": "article"}, **as_south())
    assert south.embeds[0]["title"] == "Added to your sources", south.text
    assert "now yours too" in south.text
    bare = url.removeprefix("http://")
    both = await run(fake, "source add", {"url": f"{url} {bare}"}, **as_south())
    await both.wait_for(lambda h: bool(h.message.embeds), timeout=ANSWER_TIMEOUT)
    lines = str(both.embeds[0]["description"]).splitlines()
    assert lines[0].startswith(f"↩️ `{url}`: "), lines
    assert lines[1].startswith(f"⚠️ `{bare}`: "), lines
    assert both.embeds[0]["title"] == "Nothing added", both.text  # South had it already


async def test_zz_nothing_rejected(bot: BotProcess, fake: FakeDiscord) -> None:
    """Nothing above made Discord reject a request, or the bot log an error."""
    fake.assert_no_errors()
    assert bot.error_lines() == [], bot.output

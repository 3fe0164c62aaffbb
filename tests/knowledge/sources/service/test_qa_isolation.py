"""QA defects pinned through the real service and the local fake web: a duplicate added from
another server becomes that server's own source (listed, removable, nothing of the first
server's lost); secrets in a link's query never reach a log line or a result; the library's
messages are plain text; source ids out of the database's range are unknown, not a crash."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from knowledge.errors import NotFound
from knowledge.service import KnowledgeService
from knowledge.sources import records
from knowledge.sources.service import SourcesService
from knowledge.sources.urls import display_url
from knowledge.store.tables import SourceSubscriptionRow
from tests.fakes.web_server import FakeWeb
from tests.knowledge.sources.service.conftest import source_row

NORTH, SOUTH = 111_000_000_000_000_001, 222_000_000_000_000_002
MEMO = ("# Brambleworth private memo\n\nThe brambleworth working group proposed that the "
        "quillon harbour agreement keep a joint secretariat, with the brambleworth panel "
        "reporting twice a year to both ministries on ferry schedules, inspections and the "
        "quillon fisheries quotas agreed at the last round.\n")
WORDS = "brambleworth quillon secretariat"


def visible_ids(library: KnowledgeService, guild_id: int | None) -> set[int]:
    """Articles a guild finds for the memo's words, plus its latest ones."""
    hits = {h.article.id for h in library.search(WORDS, top=10, guild_id=guild_id)}
    return hits | {a.id for a in library.latest(25, guild_id=guild_id)}


def listed(sources: SourcesService, guild_id: int | None) -> set[int]:
    """Ids of the sources a guild's /source list shows."""
    return {s.id for s in sources.list(guild_id)}


def subscribers(library: KnowledgeService, source_id: int) -> dict[int, bool]:
    """guild -> active, for every subscription to a source."""
    with library.library.read() as session:
        return dict(session.execute(
            select(SourceSubscriptionRow.guild_id, SourceSubscriptionRow.active)
            .where(SourceSubscriptionRow.source_id == source_id)).tuples().all())


# ----- 1. a duplicate from another server is that server's own source ---------------------------
async def test_a_link_another_server_added_becomes_this_servers_own_source(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """South adding North's link gets a source it lists and removes; removing it ends only
    South's subscription, and North keeps its source and its article."""
    [north] = await sources.add(web.url("article.html"), guild_id=NORTH, added_by="1")
    assert north.status == "added", north.message
    [source_id] = listed(sources, NORTH)
    [south] = await sources.add(web.url("article.html"), guild_id=SOUTH, added_by="2")
    assert south.status == "duplicate" and south.article_id == north.article_id
    assert f"now yours too, as source #{source_id}" in south.message
    assert listed(sources, SOUTH) == {source_id}  # what South is told it has, it lists
    assert north.article_id in {a.id for a in library.latest(25, guild_id=SOUTH)}
    assert subscribers(library, source_id) == {NORTH: True, SOUTH: True}

    sources.remove(source_id, guild_id=SOUTH)
    assert listed(sources, SOUTH) == set()
    assert listed(sources, NORTH) == {source_id}
    assert source_row(library, source_id).active
    assert north.article_id in {a.id for a in library.latest(25, guild_id=NORTH)}

    [again] = await sources.add(web.url("article.html"), guild_id=SOUTH, added_by="2")
    assert f"now yours too, as source #{source_id}" in again.message  # followed again
    assert listed(sources, SOUTH) == {source_id}
    [twice] = await sources.add(web.url("article.html"), guild_id=SOUTH, added_by="2")
    assert twice.status == "duplicate" and "now yours" not in twice.message


async def test_the_same_upload_under_another_name_is_this_servers_own_source(
        sources: SourcesService, library: KnowledgeService) -> None:
    """South uploading North's memo under another name sees it, lists it and can remove it;
    North keeps both."""
    north = await sources.add_upload("memo.md", MEMO.encode(), guild_id=NORTH, added_by="1")
    assert north.status == "added", north.message
    assert north.article_id not in visible_ids(library, SOUTH)
    south = await sources.add_upload("other-name.md", MEMO.encode(), guild_id=SOUTH,
                                     added_by="2")
    assert south.status == "duplicate" and south.article_id == north.article_id
    assert "now yours too, as source #" in south.message
    assert north.article_id in visible_ids(library, SOUTH)
    [source_id] = listed(sources, SOUTH)
    assert listed(sources, NORTH) == {source_id}

    removed = sources.remove(source_id, guild_id=SOUTH)
    assert not removed.active
    assert listed(sources, NORTH) == {source_id}
    assert north.article_id in visible_ids(library, NORTH)
    with pytest.raises(NotFound):  # never North's to remove by South
        sources.remove(source_id + 1000, guild_id=SOUTH)


async def test_the_operator_adding_a_servers_link_gets_its_own_subscription(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """The command line adding North's link subscribes the operator: the article joins the
    operator's library, and North removing its source keeps the source followed."""
    [north] = await sources.add(web.url("article.html"), guild_id=NORTH, added_by="1")
    [source_id] = listed(sources, NORTH)
    [mine] = await sources.add(web.url("article.html"), guild_id=None)
    assert f"now yours too, as source #{source_id}" in mine.message
    assert subscribers(library, source_id) == {0: True, NORTH: True}
    sources.remove(source_id, guild_id=NORTH)
    assert source_row(library, source_id).active  # the operator still follows it
    assert north.article_id in visible_ids(library, SOUTH)  # the operator's library


async def test_a_server_adding_an_operator_article_is_told_it_is_already_there(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """An article of the operator's library is every server's already: a plain duplicate, no
    source the server could not have removed anyway."""
    [operator] = await sources.add(web.url("article.html"), guild_id=None)
    [south] = await sources.add(web.url("article.html"), guild_id=SOUTH, added_by="2")
    assert south.status == "duplicate" and "now yours" not in south.message
    assert listed(sources, SOUTH) == set()
    assert operator.article_id in visible_ids(library, SOUTH) | {
        a.id for a in library.latest(25, guild_id=SOUTH)}


# ----- 2. secrets in a link's query string ----------------------------------------------------
@pytest.mark.parametrize(("url", "shown"), [
    ("http://admin:pw@h.example:8080/x?token=T0P&page=2", "http://h.example:8080/x?token=REDACTED&page=2"),
    ("https://h.example/x?API_KEY=a&Sig=b&q=c#access_token=d",
     "https://h.example/x?API_KEY=REDACTED&Sig=REDACTED&q=c#access_token=REDACTED"),
    ("https://s3.example/o?X-Amz-Signature=abc&client_secret=s&session=z&keyword=kept",
     "https://s3.example/o?X-Amz-Signature=REDACTED&client_secret=REDACTED&session=REDACTED"
     "&keyword=kept"),
    ("http://u:p@[::1/x?pwd=1", "http://[::1/x?pwd=REDACTED"),  # not parseable: still hidden
    ("https://h.example/a?b=c", "https://h.example/a?b=c"),
])
def test_display_url_hides_credentials_and_secret_parameters(url: str, shown: str) -> None:
    """Credentials go and secret-looking parameter values are redacted; the rest is kept."""
    assert display_url(url) == shown


async def test_a_links_secrets_never_reach_the_log_or_the_result(
        sources: SourcesService, caplog: pytest.LogCaptureFixture) -> None:
    """The password and the token of a link that fails are in no log line and no result."""
    caplog.set_level(logging.DEBUG)
    links = ("http://admin:SuperSecret123@127.0.0.1:1/x?token=TOPSECRETTOKEN",
             "http://admin:SuperSecret123@127.0.0.1:99999/x?token=TOPSECRETTOKEN")
    results = await sources.add(" ".join(links), guild_id=SOUTH, added_by="2")
    assert [r.status for r in results] == ["error", "error"]
    for result in results:
        shown = f"{result.input} {result.message}"
        assert "TOPSECRETTOKEN" not in shown and "SuperSecret123" not in shown
        assert "token=REDACTED" in result.input
    assert "add http://127.0.0.1:1/x?token=REDACTED -> error" in caplog.text
    assert "TOPSECRETTOKEN" not in caplog.text and "SuperSecret123" not in caplog.text


# ----- 3. the library's messages are plain text ----------------------------------------------
@pytest.mark.parametrize(("link", "expected"), [
    ("http://", "not a valid link (no host): http://"),
    ("https://127.0.0.1:70000/*x*", "not a valid link (port out of range): "
                                    "https://127.0.0.1:70000/*x*"),
])
async def test_link_errors_are_plain_text(sources: SourcesService, link: str,
                                          expected: str) -> None:
    """No zero-width space, no backslash: the one who shows the message escapes it."""
    [result] = await sources.add(link, guild_id=None)
    assert result.status == "error" and result.message == expected


async def test_upload_errors_name_the_file_as_given_on_one_line(
        sources: SourcesService) -> None:
    """A file name is quoted as it is (one line, bounded), not escaped for Discord."""
    result = await sources.add_upload("**loud**\n_name_.pdf", b"%PDF-1.4 not a PDF at all",
                                      guild_id=SOUTH)
    assert result.status == "error"
    assert "**loud** _name_.pdf" in result.message and "\\" not in result.message
    assert "\u200b" not in result.message and "\n" not in result.message


# ----- 4. source ids beyond the database's integer range -------------------------------------
@pytest.mark.parametrize("source_id", [99999999999999999999, 2**63, 2**31, 0, -1])
async def test_ids_out_of_range_are_unknown_sources(
        sources: SourcesService, library: KnowledgeService, source_id: int) -> None:
    """Poll, remove and status answer NotFound ("no source #…") before any query."""
    with pytest.raises(NotFound, match=f"no source #{source_id}"):
        await sources.poll(source_id, guild_id=None)
    with pytest.raises(NotFound, match=f"no source #{source_id}"):
        sources.remove(source_id, guild_id=None)
    with pytest.raises(NotFound, match=f"no source #{source_id}"):
        sources.remove(source_id, guild_id=SOUTH)
    with pytest.raises(NotFound):
        records.get_status(library.library, source_id)
    assert records.statuses(library.library, source_ids=[source_id]) == []

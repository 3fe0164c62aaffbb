"""Duplicates: an article seen again is recorded as an appearance, never stored or announced twice."""

from __future__ import annotations

from knowledge.service import KnowledgeService
from knowledge.sources import records
from knowledge.sources.service import SourcesService
from tests.fakes.web_server import FIXTURES, FakeWeb
from tests.knowledge.sources.service.conftest import (
    article_count,
    article_row,
    feed_articles,
    later,
    source_id_of,
)

ARTICLE_HTML = (FIXTURES / "article.html").read_text(encoding="utf-8")


def republished(html: str) -> str:
    """article.html as another outlet republishes it: own title, URL, name and a credit line."""
    return (html.replace("After Nagato: What the Summit Did and Did Not Settle",
                         "Nagato summit: a framework, not a breakthrough")
            .replace("https://analysis.example.org/commentary/after-nagato",
                     "https://eastasia-review.example.net/2016/12/nagato-framework")
            .replace('content="Harbour Institute"', 'content="East Asia Review"')
            .replace('<div class="entry-content">',
                     '<div class="entry-content">\n<p>This commentary first appeared on the website '
                     "of the Harbour Institute and is republished with permission.</p>"))


async def test_same_link_twice_is_one_article_seen_twice(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """Adding an article link again answers "duplicate" and records a "url" appearance."""
    [first] = await sources.add(web.url("article.html"), guild_id=None)
    [again] = await sources.add(web.url("article.html?utm_source=newsletter"), guild_id=None)
    assert again.status == "duplicate"
    assert again.article_id == first.article_id
    assert "same link" in again.message
    assert first.article_id is not None
    assert records.appearances(library.library, first.article_id) == [
        ("url", web.url("article.html?utm_source=newsletter"))]
    assert len(sources.status(guild_id=None)) == 1


async def test_same_text_under_another_link_is_a_content_duplicate(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """The same text at a second address is recognised by its content hash."""
    text = (FIXTURES / "uploads" / "note.txt").read_text(encoding="utf-8")
    web.route("/a/note.txt", text, "text/plain; charset=utf-8")
    web.route("/b/note.txt", text.replace("\n", "\n\n"), "text/plain; charset=utf-8")
    [first] = await sources.add(web.url("a/note.txt"), guild_id=None)
    [second] = await sources.add(web.url("b/note.txt"), guild_id=None)
    assert first.status == "added", first.message
    assert (second.status, second.article_id) == ("duplicate", first.article_id)
    assert first.article_id is not None
    assert records.appearances(library.library, first.article_id) == [("content", web.url("b/note.txt"))]


async def test_near_copy_by_another_outlet_is_the_same_article(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """A republication (other title, URL, outlet, a credit line) is a near-duplicate appearance."""
    web.route("/review/nagato.html", republished(ARTICLE_HTML))
    [original] = await sources.add(web.url("article.html"), guild_id=None)
    before = article_count(library)
    [copy] = await sources.add(web.url("review/nagato.html"), guild_id=None)
    assert copy.status == "duplicate", copy.message
    assert copy.article_id == original.article_id
    assert "near-copy" in copy.message
    assert article_count(library) == before
    assert original.article_id is not None
    assert records.appearances(library.library, original.article_id) == [
        ("near_duplicate", web.url("review/nagato.html"))]
    assert article_row(library, original.article_id).simhash is not None


async def test_feed_entry_for_an_added_article_is_not_stored_again(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """A feed listing an article already added by link records an appearance for that entry."""
    [article] = await sources.add(web.url("article.html"), guild_id=None)
    [feed] = await sources.add(web.url("rss.xml"), guild_id=None)
    assert "2 new articles, 1 already in the library" in feed.message
    assert len(feed_articles(library, source_id_of(library, web.url("rss.xml")))) == 2
    assert article.article_id is not None
    assert [r for r, _ in records.appearances(library.library, article.article_id)] == ["url"]


async def test_edited_entry_title_is_an_appearance_not_a_new_article(
        sources: SourcesService, web: FakeWeb, library: KnowledgeService) -> None:
    """A known entry whose title changed is not re-indexed or re-announced; it is noted once."""
    library.library.settings = library.settings.model_copy(update={"feed_initial_announce": 0})
    web.route("/feed.xml", (FIXTURES / "rss.xml").read_bytes(), "application/rss+xml")
    await sources.add(web.url("feed.xml"), guild_id=None)
    source_id = source_id_of(library, web.url("feed.xml"))
    before = {a.id: (a.title, a.announce) for a in feed_articles(library, source_id)}
    web.route("/feed.xml", (FIXTURES / "rss-v2.xml").read_bytes(), "application/rss+xml")

    outcome = await sources.poll(source_id, guild_id=None)
    assert (outcome.status, outcome.new_article_ids, outcome.seen_again) == ("unchanged", (), 1)
    after = {a.id: (a.title, a.announce) for a in feed_articles(library, source_id)}
    assert after == before  # the stored article keeps its title and stays unannounced
    nagato = next(i for i, (t, _) in before.items() if t.startswith("After Nagato"))
    assert records.appearances(library.library, nagato) == [
        ("entry_id", "https://analysis.example.org/commentary/after-nagato")]

    web.routes["/feed.xml"].conditional = False  # a server without conditional GET
    again = await sources.poll(source_id, now=later(120), guild_id=None)
    assert (again.status, again.seen_again) == ("unchanged", 0)
    assert len(records.appearances(library.library, nagato)) == 1  # the same edit is noted only once

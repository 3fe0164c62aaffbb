"""Autocomplete choices (article titles, publishers): only what the viewer may see, bounded,
and answered from the index's memory without a database read per keystroke."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from knowledge.index.hybrid import publisher_fits
from knowledge.ingest import Document
from knowledge.service import KnowledgeService
from knowledge.text.clean import fold
from knowledge.visibility import OPERATOR_ONLY

GUILD_A, GUILD_B = 111_000_000_000_000_001, 222_000_000_000_000_002
MEMO = ("# Quillfeather Observatory memo\n\nThe quillfeather delegation argued that the "
        "zanthoric fisheries accord needs a standing secretariat in Nemuro, with a panel "
        "reporting twice a year to both foreign ministries on catch quotas and inspections.")


async def upload(service: KnowledgeService, guild_id: int) -> int:
    """Upload the memo as a server's admin; its article id."""
    result = await service.sources.add_upload("memo.md", MEMO.encode(), guild_id=guild_id,
                                              added_by="42")
    assert result.article_id is not None, result.message
    return result.article_id


@contextmanager
def statements(service: KnowledgeService) -> Iterator[list[str]]:
    """The SQL statements the library runs inside the block."""
    seen: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    engine = service.library.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def test_article_choices_offer_only_what_the_server_may_see(
        hashing_service: KnowledgeService) -> None:
    """A's upload is offered to A and the command line, never to B or a DM."""
    service = hashing_service
    article = await upload(service, GUILD_A)
    assert [a.id for a in service.article_choices("quillfeather", guild_id=GUILD_A)] == [article]
    assert [a.id for a in service.article_choices("QUILLFEATHER  observatory",
                                                  guild_id=None)] == [article]
    for viewer in (GUILD_B, OPERATOR_ONLY):
        assert service.article_choices("quillfeather", guild_id=viewer) == []


def test_article_choices_are_bounded_and_newest_first(hashing_service: KnowledgeService) -> None:
    """An empty prefix offers at most `limit` titles, latest publication first, the same
    order the article list uses."""
    service = hashing_service
    listed = service.list_articles(guild_id=None)
    assert len(listed) > 3
    offered = service.article_choices("", 3, guild_id=None)
    assert [a.id for a in offered] == [a.id for a in listed[:3]]
    word = listed[0].title.split()[0].casefold()
    expected = [a.id for a in listed if word in a.title.casefold()][:25]
    assert [a.id for a in service.article_choices(word, guild_id=None)] == expected


def test_a_keystroke_reads_no_database(hashing_service: KnowledgeService) -> None:
    """Title and publisher choices come from the index in memory: no SQL per keystroke."""
    service = hashing_service
    service.article_choices("summit", guild_id=GUILD_B)  # the index is loaded
    with statements(service) as seen:
        assert service.article_choices("summit", guild_id=GUILD_B)
        assert service.publisher_choices("", guild_id=GUILD_B)
    assert seen == []
    with statements(service) as seen:  # the check can see a query (the old way's)
        service.list_articles(guild_id=GUILD_B)
    assert seen


def test_publisher_choices_match_what_was_typed(
        hashing_service: KnowledgeService) -> None:
    """Publishers of the articles the server sees containing the typed text (any case),
    alphabetical and distinct, at most `limit`."""
    service = hashing_service
    everyone = service.publisher_choices("", guild_id=GUILD_B)
    assert everyone == sorted(set(everyone), key=str.casefold)
    assert everyone == sorted({a.publisher for a in service.list_articles(guild_id=GUILD_B)
                               if a.publisher}, key=str.casefold)
    first = everyone[0]
    part = first.split()[-1][1:].upper()
    assert first in service.publisher_choices(part, guild_id=GUILD_B)
    assert service.publisher_choices("no such publisher at all", guild_id=GUILD_B) == []
    assert len(service.publisher_choices("", 1, guild_id=GUILD_B)) == 1


def _typings(name: str) -> set[str]:
    """What someone after `name` may type: every prefix of the name and of each word, as
    written and folded, upper-cased, and word prefixes in another order."""
    words = name.split()
    out: set[str] = set()
    for form in (name, fold(name), name.upper()):
        out |= {form[:n] for n in range(1, len(form) + 1)}
        for word in form.split():
            out |= {word[:n] for n in range(1, len(word) + 1)}
    out |= {" ".join(w[:n] for w in reversed(words)) for n in range(1, 5)}
    return out


def test_every_publisher_the_filter_accepts_is_suggested(
        hashing_service: KnowledgeService) -> None:
    """Autocomplete and the publisher filter fold alike: "Sudd" offers Süddeutsche Zeitung
    (the filter takes it), and for every visible publisher, whatever the filter accepts as
    typed (a prefix of the name or of a word, accents left out, words in another order) is
    among the suggestions."""
    service = hashing_service
    result = service.add_document(Document(
        "Die Gipfel in Moskau und Tokio: " + "Ein langer Bericht über die Gespräche. " * 20,
        title="Gipfelbericht", publisher="Süddeutsche Zeitung"))
    assert result.status == "added", result.message
    assert "Süddeutsche Zeitung" in service.publisher_choices("Sudd", guild_id=GUILD_B)
    assert "Süddeutsche Zeitung" in service.publisher_choices("zeitung süd", guild_id=GUILD_B)
    publishers = service.publisher_choices("", 1000, guild_id=GUILD_B)
    assert len(publishers) > 3
    for name in publishers:
        for typed in sorted(_typings(name)):
            if publisher_fits(typed, name):
                assert name in service.publisher_choices(typed, 1000, guild_id=GUILD_B), typed

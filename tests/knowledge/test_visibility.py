"""What each server sees: the operator's library plus what reached it through its own sources
and uploads; DMs see the operator's library only; the command line sees everything."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from knowledge.digests import compose
from knowledge.embedding import HashingEmbedder
from knowledge.errors import NotFound
from knowledge.index.hybrid import HybridIndex
from knowledge.index.types import IndexedPassage
from knowledge.ingest import Document, Origin, add_document
from knowledge.models import ArticleSummary, Contributor
from knowledge.service import KnowledgeService
from knowledge.store.db import make_engine, migrate
from knowledge.store.tables import ArticleReachRow, ArticleRow
from knowledge.visibility import (
    EVERYTHING,
    OPERATOR_GUILD,
    OPERATOR_ONLY,
    first_seen,
    reach_since,
    visible,
)

GUILD_A, GUILD_B = 111_000_000_000_000_001, 222_000_000_000_000_002
# Words no founding article uses, so a search for them finds this upload or nothing.
UPLOAD = ("Quillfeather Observatory memo. The quillfeather delegation argued that the "
          "zanthoric fisheries accord needs a standing secretariat in Nemuro, with the "
          "quillfeather panel reporting twice a year to both foreign ministries on catch "
          "quotas, inspections and the zanthoric ferry schedule.")
FOUNDING_QUESTION = "What did the Nagato summit achieve on joint economic activity?"


def hit_ids(service: KnowledgeService, query: str, guild_id: int | None) -> set[int]:
    """Article ids of the hits for ``query`` as ``guild_id`` sees them."""
    return {h.article.id for h in service.search(query, top=10, guild_id=guild_id)}


async def upload(service: KnowledgeService, guild_id: int, text: str = UPLOAD) -> int:
    """Upload ``text`` as a server's admin; the article id (new or the stored duplicate)."""
    result = await service.sources.add_upload("memo.md", text.encode(), guild_id=guild_id,
                                              added_by="42")
    assert result.article_id is not None, result.message
    return result.article_id


async def test_an_upload_is_seen_by_its_server_only(hashing_service: KnowledgeService) -> None:
    """Search, latest, the article list and /article: guild A's upload is A's alone (and the
    operator's); B and DMs never see it; everyone sees the founding library."""
    service = hashing_service
    article = await upload(service, GUILD_A)
    assert article in hit_ids(service, "quillfeather zanthoric secretariat", GUILD_A)
    assert article in hit_ids(service, "quillfeather zanthoric secretariat", None)
    for viewer in (GUILD_B, OPERATOR_ONLY):
        assert article not in hit_ids(service, "quillfeather zanthoric secretariat", viewer)
        assert article not in {a.id for a in service.latest(25, guild_id=viewer)}
        assert article not in {a.id for a in service.list_articles(guild_id=viewer)}
        with pytest.raises(NotFound):
            service.get_article(article, guild_id=viewer)
    assert service.latest(1, guild_id=GUILD_A)[0].id == article
    assert service.get_article(article, guild_id=GUILD_A).summary.id == article
    founding = hit_ids(service, FOUNDING_QUESTION, None)
    assert founding
    for viewer in (GUILD_A, GUILD_B, OPERATOR_ONLY):
        assert hit_ids(service, FOUNDING_QUESTION, viewer) == founding


async def test_an_article_two_servers_bring_is_stored_once_and_seen_by_both(
        hashing_service: KnowledgeService) -> None:
    """B uploading the same text is a duplicate (one copy), and from then on B sees it too."""
    service = hashing_service
    article = await upload(service, GUILD_A)
    result = await service.sources.add_upload("again.md", UPLOAD.encode(), guild_id=GUILD_B)
    assert result.status == "duplicate" and result.article_id == article
    assert article in hit_ids(service, "quillfeather zanthoric secretariat", GUILD_B)
    assert article in {a.id for a in service.latest(25, guild_id=GUILD_B)}
    assert article not in hit_ids(service, "quillfeather zanthoric secretariat", OPERATOR_ONLY)


async def test_another_process_sees_new_reach_after_refresh(
        hashing_service: KnowledgeService, second_service: KnowledgeService) -> None:
    """Reach recorded by one process reaches another's index on its next refresh."""
    article = await upload(hashing_service, GUILD_A)
    await hashing_service.sources.add_upload("b.md", UPLOAD.encode(), guild_id=GUILD_B)
    second_service.refresh()
    assert article in hit_ids(second_service, "quillfeather zanthoric secretariat", GUILD_A)
    assert article in hit_ids(second_service, "quillfeather zanthoric secretariat", GUILD_B)
    assert article not in hit_ids(second_service, "quillfeather zanthoric secretariat",
                                  OPERATOR_ONLY)


def test_experts_of_a_servers_article_are_that_servers(hashing_service: KnowledgeService
                                                       ) -> None:
    """An expert known only from guild A's article: listed, completed, found, compared and
    quoted for A; unknown to B and to DMs."""
    service = hashing_service
    doc = Document(UPLOAD, title="The quillfeather secretariat",
                   contributors=(Contributor("Zoltan Quillfeather", "author"),))
    result = add_document(service.library, doc, origin=Origin(guilds=(GUILD_A,)))
    assert result.status == "added", result.message
    name = "Zoltan Quillfeather"
    assert name in [e.name for e in service.experts.list(guild_id=GUILD_A)]
    assert service.experts.autocomplete("Zolt", guild_id=GUILD_A) == [name]
    assert service.experts.get(name, guild_id=GUILD_A).name == name
    _, hits = service.experts.views(name, "zanthoric secretariat", guild_id=GUILD_A)
    assert hits and hits[0].article.id == result.article_id
    assert name in {n for v in service.experts.compare(
        "quillfeather zanthoric secretariat", guild_id=GUILD_A) for n in v.experts}
    for viewer in (GUILD_B, OPERATOR_ONLY):
        assert name not in [e.name for e in service.experts.list(guild_id=viewer)]
        assert service.experts.autocomplete("Zolt", guild_id=viewer) == []
        with pytest.raises(NotFound):
            service.experts.get(name, guild_id=viewer)
        assert name not in {n for v in service.experts.compare(
            "quillfeather zanthoric secretariat", guild_id=viewer) for n in v.experts}
    # The founding library's experts are everyone's.
    assert [e.name for e in service.experts.list(guild_id=GUILD_B)] == \
        [e.name for e in service.experts.list(guild_id=OPERATOR_ONLY)]
    assert len(service.experts.list(guild_id=GUILD_B)) >= 3


def test_another_servers_expert_is_no_candidate_when_matching_names(
        hashing_service: KnowledgeService) -> None:
    """Guild A's upload by "Pavel Streltsov" (a founding expert is Dmitry Streltsov): for B and
    DMs "Streltsov" still means Dmitry alone (no "matches several experts (…, Pavel
    Streltsov)"), the question reader never reads Pavel, by name or by his role, and /help's
    expert count is B's; for A both are candidates."""
    service = hashing_service
    doc = Document(UPLOAD, title="Private memo",
                   contributors=(Contributor("Pavel Streltsov", "author",
                                             "Khabarovsk fisheries analyst"),))
    result = add_document(service.library, doc, origin=Origin(guilds=(GUILD_A,)))
    assert result.status == "added", result.message
    service.refresh()
    by_name = "What did Pavel Streltsov say about the quillfeather secretariat?"
    by_role = "What did the Khabarovsk fisheries analyst expect?"
    for viewer in (GUILD_B, OPERATOR_ONLY):
        assert service.experts.get("Streltsov", guild_id=viewer).name == "Dmitry Streltsov"
        with pytest.raises(NotFound):
            service.experts.get("Pavel Streltsov", guild_id=viewer)
        for question in (by_name, by_role):
            assert "Pavel" not in service.retriever.interpret(question, viewer).describe()
        assert {h.article.id for h in service.search(
            "quillfeather secretariat", person="Streltsov", guild_id=viewer)} <= \
            {a.article_id for a in service.experts.get("Streltsov", guild_id=viewer).articles}
        with pytest.raises(NotFound):
            service.search("quillfeather secretariat", person="Pavel", guild_id=viewer)
        assert service.stats(guild_id=viewer).experts == len(
            service.experts.list(guild_id=viewer))
    with pytest.raises(NotFound, match="several experts"):
        service.experts.get("Streltsov", guild_id=GUILD_A)
    assert service.experts.get("Pavel Streltsov", guild_id=GUILD_A).name == "Pavel Streltsov"
    assert "Pavel Streltsov" in service.retriever.interpret(by_name, GUILD_A).describe()
    assert "Pavel Streltsov" in service.retriever.interpret(by_role, GUILD_A).describe()
    assert service.search("quillfeather secretariat", person="Pavel", guild_id=GUILD_A)
    assert service.stats(guild_id=GUILD_A).experts == \
        service.stats(guild_id=GUILD_B).experts + 1 == len(service.experts.list(guild_id=GUILD_A))


async def test_a_digest_carries_only_what_its_server_may_see(hashing_service: KnowledgeService
                                                             ) -> None:
    """A's upload is news in A's digest, never in B's."""
    service = hashing_service
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    sub_a = service.digests.subscribe(GUILD_A, 1)
    sub_b = service.digests.subscribe(GUILD_B, 2)
    article = await upload(service, GUILD_A)
    end = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    with service.library.read() as session:
        assert article in compose.new_article_ids(session, sub_a.id, start, end)
        assert article not in compose.new_article_ids(session, sub_b.id, start, end)
    preview = service.digests.preview(GUILD_B, since=start)
    assert article not in {i.article_id for s in preview.sections for i in s.items}


async def test_an_article_reaching_a_server_as_a_duplicate_is_news_there(
        hashing_service: KnowledgeService) -> None:
    """A's upload, uploaded again by B later (a duplicate: one copy, B now sees it), is news
    in B's next digest from when it reached B (it was never in one: A's copy is older than
    B's digests); A's digest still has it once."""
    service = hashing_service

    def in_preview(guild_id: int) -> bool:
        return article in {i.article_id for s in service.digests.preview(guild_id).sections
                           for i in s.items}

    service.digests.subscribe(GUILD_A, 1)
    article = await upload(service, GUILD_A)
    service.digests.subscribe(GUILD_B, 2)  # B's digests start after A's upload
    assert in_preview(GUILD_A) and not in_preview(GUILD_B)
    result = await service.sources.add_upload("again.md", UPLOAD.encode(), guild_id=GUILD_B)
    assert result.status == "duplicate" and result.article_id == article
    assert in_preview(GUILD_B) and in_preview(GUILD_A)



# ----- one rule, two forms: SQL (visibility.visible, first_seen) and the index's memory -----
def _store_articles(session: Session, count: int) -> None:
    """`count` bare articles (ids 1..count), replacing the previous round's."""
    session.execute(delete(ArticleReachRow))
    session.execute(delete(ArticleRow))
    session.add_all(ArticleRow(id=aid, title=f"Article {aid}", content_hash=f"hash-{aid}",
                               text="x", original_text="x") for aid in range(1, count + 1))
    session.flush()


def _index_of(count: int) -> HybridIndex:
    """An index holding articles 1..count, one to three passages each."""
    embedder = HashingEmbedder(16)
    index = HybridIndex(embedder.dim)
    pid = 0
    for aid in range(1, count + 1):
        passages = []
        for n in range(1 + aid % 3):
            pid += 1
            text = f"passage {n} of article {aid}"
            vector = embedder.embed([text])[0]
            passages.append(IndexedPassage(pid, aid, text, vector, ((0, len(text)),),
                                           np.asarray([vector])))
        index.add(ArticleSummary(aid, f"Article {aid}", None, None, None, "en", (),
                                 dt.datetime.now(dt.UTC)), passages)
    return index


def _memory_sees(index: HybridIndex, viewer: int | None) -> tuple[set[int], set[int]]:
    """What the index lets `viewer` see: its article list, and the articles of the passage
    positions its search mask keeps (the private mask is what every filtered search uses)."""
    listed = set(index.visible_article_ids(viewer))
    if viewer is None:
        return listed, listed
    mask = index._visible_mask(viewer)
    return listed, {index._article_of[pos] for pos in np.flatnonzero(mask).tolist()}


def test_sql_and_the_index_apply_one_visibility_rule(tmp_path: Path) -> None:
    """Random reach tables (articles x servers, the operator's library among them, some
    articles reaching nobody), recorded in batches with the index's cached masks read between
    them: for every viewer (each server, one with no reach, DMs, everything) the SQL rule
    (`visible`, `first_seen`) and the index's memory give the same articles."""
    engine = make_engine(f"sqlite:///{tmp_path / 'reach.sqlite3'}")
    migrate(engine)
    for seed in range(40):
        rng = random.Random(seed)
        count = rng.randint(1, 30)
        guilds = [OPERATOR_GUILD, *rng.sample(range(1, 10**18), rng.randint(1, 4))]
        pairs = [(aid, g) for aid in range(1, count + 1) for g in guilds if rng.random() < 0.3]
        rng.shuffle(pairs)
        viewers: list[int | None] = [*guilds, OPERATOR_ONLY, 999, EVERYTHING]
        index = _index_of(count)
        with Session(engine) as session, session.begin():
            _store_articles(session, count)
            last_id = 0
            while True:
                for viewer in viewers:  # caches the masks the next batch must extend
                    _memory_sees(index, viewer)
                size = rng.randint(1, 8)
                batch, pairs = pairs[:size], pairs[size:]
                session.add_all(ArticleReachRow(article_id=a, guild_id=g) for a, g in batch)
                session.flush()
                rows = reach_since(session, last_id)
                last_id = max((r[0] for r in rows), default=last_id)
                index.add_reach(rows)
                for viewer in viewers:
                    in_sql = set(session.scalars(select(ArticleRow.id).where(
                        visible(ArticleRow.id, viewer))))
                    listed, searched = _memory_sees(index, viewer)
                    assert listed == in_sql == searched, (seed, viewer)
                    if viewer is not None:
                        seen = first_seen(viewer)
                        assert set(session.scalars(select(seen.c.article_id))) == in_sql
                if not pairs:
                    break
    engine.dispose()

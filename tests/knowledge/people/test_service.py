"""service.experts on a fresh install: the founding experts, their passages, new articles."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from knowledge.errors import BadInput, NotFound
from knowledge.ingest import Document
from knowledge.models import Contributor, PartialDate
from knowledge.retrieval import SearchRequest
from knowledge.service import KnowledgeService
from knowledge.store.tables import (
    ArticlePersonRow,
    ArticleRow,
    PassagePersonRow,
    PassageRow,
    PersonRow,
)

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "articles" \
    / "new_expert_vladivostok_2018.md"
ROLE_000 = "Chairman of the Society of Security and Diplomatic Policy Studies (SSDP)"
ROLE_003 = ("Professor of International Politics and the Director of the Institute for World "
            "Affairs, Kyoto Sangyo University")
ROLE_004 = ("PhD in History, the Head of the Department of Afro-Asian Studies and Professor, "
            "Moscow State Institute of International Relations (MGIMO-University)")


def article_id(service: KnowledgeService, prefix: str) -> int:
    """The id of the founding article whose slug starts with prefix ("000".."004")."""
    with service.library.read() as session:
        found = session.scalar(select(ArticleRow.id).where(ArticleRow.slug.startswith(prefix)))
    assert found is not None
    return found


def add_fixture(service: KnowledgeService) -> int:
    """Ingest the new-expert fixture article (dated as its text dates it); its article id."""
    doc = Document(text=FIXTURE.read_text(encoding="utf-8"), format="markdown",
                   published=PartialDate("2018-09-14", "day"))
    result = service.add_document(doc)
    assert result.status == "added", result.message
    assert result.article_id is not None
    return result.article_id


def test_founding_experts_are_exactly_the_three(hashing_service: KnowledgeService) -> None:
    """A fresh install lists Akiyama (two articles), Streltsov and Togo, and nobody else."""
    experts = hashing_service.experts.list(guild_id=None)
    assert [e.name for e in experts] == ["Masahiro Akiyama", "Dmitry Streltsov", "Kazuhiko Togo"]
    relations = {e.name: sorted((a.article_id, a.relation) for a in e.articles) for e in experts}
    assert relations == {
        "Masahiro Akiyama": [(article_id(hashing_service, "000"), "interviewed"),
                             (article_id(hashing_service, "001"), "author")],
        "Dmitry Streltsov": [(article_id(hashing_service, "004"), "interviewed")],
        "Kazuhiko Togo": [(article_id(hashing_service, "003"), "author")],
    }


def test_roles_are_kept_as_each_text_states_them(hashing_service: KnowledgeService) -> None:
    """Each role is kept with its article, including the 001 text's "President (2012–2016)"."""
    by_name = {e.name: e for e in hashing_service.experts.list(guild_id=None)}
    akiyama = by_name["Masahiro Akiyama"]
    assert akiyama.roles == (ROLE_000, "Tokyo Foundation President", "President (2012–2016)")
    assert {a.role for a in akiyama.articles} == {ROLE_000, "Tokyo Foundation President"}
    assert by_name["Kazuhiko Togo"].roles == (ROLE_003,)
    assert by_name["Dmitry Streltsov"].roles == (ROLE_004,)


def test_valdai_2019_has_no_named_author(hashing_service: KnowledgeService) -> None:
    """002 has no expert at all, and the teaser's Ivan Timofeev is nobody in the library."""
    valdai = article_id(hashing_service, "002")
    with hashing_service.library.read() as session:
        kinds = set(session.scalars(select(PersonRow.kind).join(
            ArticlePersonRow, ArticlePersonRow.person_id == PersonRow.id).where(
            ArticlePersonRow.article_id == valdai)))
        names = set(session.scalars(select(PersonRow.name)))
        carried = session.scalar(select(func.count()).select_from(PassagePersonRow).join(
            PassageRow, PassageRow.id == PassagePersonRow.passage_id).where(
            PassageRow.article_id == valdai))
    assert kinds == {"subject"}
    assert "Ivan Timofeev" not in names
    assert carried == 0


def test_politicians_are_subjects_never_experts(hashing_service: KnowledgeService) -> None:
    """Putin, Abe, Kishida, Trump, Koizumi are stored as subjects and cannot be searched as experts."""
    with hashing_service.library.read() as session:
        kinds = dict(session.execute(select(PersonRow.name, PersonRow.kind)).all())
    for name in ("Vladimir Putin", "Shinzo Abe", "Fumio Kishida", "Donald Trump",
                 "Junichiro Koizumi"):
        assert kinds[name] == "subject"
    experts = {e.name for e in hashing_service.experts.list(guild_id=None)}
    assert not experts & {"Vladimir Putin", "Shinzo Abe"}
    with pytest.raises(NotFound):
        hashing_service.experts.get("putin", guild_id=None)
    with pytest.raises(NotFound):
        hashing_service.retriever.search(SearchRequest("islands", person="putin", guild_id=None))


def test_metadata_and_text_merge_into_one_link(hashing_service: KnowledgeService) -> None:
    """Each founding expert has one link per article (the curated metadata one), not two."""
    with hashing_service.library.read() as session:
        rows = session.execute(
            select(ArticlePersonRow.article_id, PersonRow.name, ArticlePersonRow.evidence)
            .join(PersonRow, PersonRow.id == ArticlePersonRow.person_id)
            .where(PersonRow.kind == "expert")).all()
    assert sorted((aid, name) for aid, name, _ in rows) == sorted([
        (article_id(hashing_service, "000"), "Masahiro Akiyama"),
        (article_id(hashing_service, "001"), "Masahiro Akiyama"),
        (article_id(hashing_service, "003"), "Kazuhiko Togo"),
        (article_id(hashing_service, "004"), "Dmitry Streltsov"),
    ])
    assert {evidence for _, _, evidence in rows} == {"metadata"}


def test_passages_carrying_their_words(hashing_service: KnowledgeService) -> None:
    """An author's and a commenting expert's passages are theirs; an interview's carry his words."""
    service = hashing_service
    with service.library.read() as session:
        def carried(prefix: str) -> tuple[int, int]:
            aid = article_id(service, prefix)
            total = session.scalar(select(func.count()).select_from(PassageRow).where(
                PassageRow.article_id == aid)) or 0
            mine = session.scalar(select(func.count()).select_from(PassagePersonRow).join(
                PassageRow, PassageRow.id == PassagePersonRow.passage_id).where(
                PassageRow.article_id == aid)) or 0
            return mine, total

        for prefix in ("000", "001", "003", "004"):
            mine, total = carried(prefix)
            assert mine == total > 0, prefix


def test_names_match_loosely(hashing_service: KnowledgeService) -> None:
    """Surnames, case and transliteration variants find the expert; strangers get a hint."""
    experts = hashing_service.experts
    assert experts.get("streltsov", guild_id=None).name == "Dmitry Streltsov"
    assert experts.get("Dmitri Streltsov", guild_id=None).name == "Dmitry Streltsov"
    assert experts.get("AKIYAMA", guild_id=None).name == "Masahiro Akiyama"
    assert experts.get("togo", guild_id=None).name == "Kazuhiko Togo"
    with pytest.raises(NotFound, match="no expert matches “Timofeev”"):
        experts.get("Timofeev", guild_id=None)


def test_expert_and_the_expert_filter_read_names_alike(hashing_service: KnowledgeService
                                                       ) -> None:
    """/expert and the search's expert filter are one matcher: an initial, a name written
    surname first, a possessive and a description find the same expert in both; a different
    first name with a known surname, or a name in another script, is nobody in both (the
    latter used to be "the expert's name is empty" in one and "no expert called" in the
    other)."""
    service = hashing_service
    for typed, name in (("D. Streltsov", "Dmitry Streltsov"), ("Togo K", "Kazuhiko Togo"),
                        ("Togo's", "Kazuhiko Togo"), ("the Kyoto professor", "Kazuhiko Togo")):
        expert = service.experts.get(typed, guild_id=None)
        assert expert.name == name, typed
        assert service.retriever.person_article_ids(typed, guild_id=None) == \
            {a.article_id for a in expert.articles}, typed
    for typed in ("Pavel Streltsov", "Стрельцов"):
        with pytest.raises(NotFound, match=f"no expert matches “{typed}”"):
            service.experts.get(typed, guild_id=None)
        with pytest.raises(NotFound, match=f"no expert matches “{typed}”"):
            service.search("the islands", person=typed, guild_id=None)


def test_autocomplete_suggests_by_any_part_of_the_name(hashing_service: KnowledgeService) -> None:
    """Typing "stre" or "kazu" suggests the expert; an empty prefix lists everyone."""
    experts = hashing_service.experts
    assert experts.autocomplete("stre", guild_id=None) == ["Dmitry Streltsov"]
    assert experts.autocomplete("kazu", guild_id=None) == ["Kazuhiko Togo"]
    assert len(experts.autocomplete("", guild_id=None)) == 3
    assert experts.autocomplete("zzz", guild_id=None) == []


def test_views_without_topic_are_their_passages(hashing_service: KnowledgeService) -> None:
    """Without a topic, an expert's views are their own passages, newest article first."""
    expert, hits = hashing_service.experts.views("akiyama", None, top=50, guild_id=None)
    assert expert.name == "Masahiro Akiyama"
    ids = [h.article.id for h in hits]
    assert set(ids) == {article_id(hashing_service, "000"), article_id(hashing_service, "001")}
    assert ids == sorted(ids, key=lambda i: i != article_id(hashing_service, "000"))


def test_new_article_adds_its_expert_automatically(hashing_service: KnowledgeService) -> None:
    """The fixture's bio-line author and quoted economist are stored; its teaser's name is not."""
    new = add_fixture(hashing_service)
    by_name = {e.name: e for e in hashing_service.experts.list(guild_id=None)}
    jane = by_name["Jane Doe"]
    assert [(a.article_id, a.relation) for a in jane.articles] == [(new, "author")]
    assert jane.roles == ("Senior Fellow at the Pacific Rim Policy Institute",)
    assert [(a.article_id, a.relation) for a in by_name["John Roe"].articles] == [(new, "quoted")]
    assert "Ivan Timofeev" not in by_name
    _, hits = hashing_service.experts.views("jane doe", None, guild_id=None)
    assert hits and {h.article.id for h in hits} == {new}
    summary = hashing_service.get_article(new, guild_id=None).summary
    assert summary.authors == ["Jane Doe"]


def test_scraped_byline_found_only_in_a_teaser_is_dropped(
        hashing_service: KnowledgeService) -> None:
    """A metadata author whose name appears only in a teaser for another article is removed."""
    text = ("Japan and Russia resumed talks on the islands this spring, and the two sides\n"
            "agreed to keep the consultations going through the summer months ahead.\n\n"
            "Related articles\n\nThe Sanctions Factor in Asia\nPetr Lavrentyev\n"
            "The invigoration of dialogue has raised new questions.\nExpert Opinions\n")
    result = hashing_service.add_document(Document(
        text=text, title="Talks resume", contributors=(Contributor("Petr Lavrentyev",
                                                                   "author"),)))
    assert result.article_id is not None
    summary = hashing_service.get_article(result.article_id, guild_id=None).summary
    assert summary.authors == []
    assert "Petr Lavrentyev" not in {e.name for e in hashing_service.experts.list(guild_id=None)}


async def test_async_callers_use_run(hashing_service: KnowledgeService) -> None:
    """`await service.run(...)` (the bot's way) gives the same answers as direct calls."""
    service = hashing_service
    experts = service.experts
    assert [e.name for e in await service.run(experts.list, guild_id=None)] == [e.name for e in experts.list(guild_id=None)]
    assert (await service.run(experts.get, "togo", guild_id=None)).name == "Kazuhiko Togo"
    assert await service.run(experts.autocomplete, "aki", guild_id=None) == ["Masahiro Akiyama"]


# ----- retrieval quality on the real model ----------------------------------------------------

@pytest.mark.model
def test_expert_views_on_a_topic(real_service: KnowledgeService) -> None:
    """Streltsov on joint economic activities: his own passages, the Kuril one first."""
    expert, hits = real_service.experts.views("streltsov", "joint economic activities", 3, guild_id=None)
    assert expert.name == "Dmitry Streltsov"
    assert hits and {h.article.id for h in hits} == {article_id(real_service, "004")}
    assert "joint economic development of the South Kuril Islands" in hits[0].passage


@pytest.mark.model
def test_compare_gives_one_dated_row_per_expert(real_service: KnowledgeService) -> None:
    """Compare on joint economic activities: each founding expert once, oldest article first."""
    views = real_service.experts.compare("joint economic activities", guild_id=None)
    assert sorted(name for v in views for name in v.experts) == [
        "Dmitry Streltsov", "Kazuhiko Togo", "Masahiro Akiyama"]
    dates = [v.hit.article.published for v in views]
    assert all(dates) and dates == sorted(dates, key=lambda d: d.start)  # type: ignore[union-attr]
    assert real_service.experts.compare("How long should I bake sourdough bread?", guild_id=None) == []


def test_a_comparisons_topic_is_called_a_topic(hashing_service: KnowledgeService) -> None:
    """/compare and /expert … topic: refuse an empty or overlong topic naming it a topic (it
    said "the question"), and name the bound on passages per expert in words."""
    experts = hashing_service.experts
    with pytest.raises(BadInput, match="the topic is empty"):
        experts.compare("   ", guild_id=None)
    with pytest.raises(BadInput, match="the topic is too long"):
        experts.views("togo", "x" * 5000, guild_id=None)
    with pytest.raises(BadInput, match="passages per expert must be between 1 and 10"):
        experts.compare("islands", top_per_expert=11, guild_id=None)


def test_a_byline_names_the_author_but_is_no_passage_of_theirs(
        hashing_service: KnowledgeService) -> None:
    """An uploaded note whose second line is "By Yuri Tanaka, professor of law at Kobe
    University." stores Tanaka as its author with that role, and /expert quotes what the note
    says, not the byline (it is taken out of the indexed text; the original keeps it)."""
    text = ("# Kuril customs regime note\n\n**By Yuri Tanaka, professor of law at Kobe "
            "University.**\n\nThe customs regime on the southern Kuril islands would have to "
            "change before any joint economic activity could start, and both governments know "
            "that the legal basis is the hardest part of the package.")
    result = asyncio.run(hashing_service.sources.add_upload("note.md", text.encode(),
                                                            guild_id=None))
    assert result.article_id is not None, result
    tanaka = next(e for e in hashing_service.experts.list(guild_id=None)
                  if e.name == "Yuri Tanaka")
    assert tanaka.roles == ("professor of law at Kobe University",)
    _, hits = hashing_service.experts.views("Yuri Tanaka", None, guild_id=None)
    assert hits and all("By Yuri Tanaka" not in h.passage for h in hits)
    assert "customs regime" in hits[0].highlight
    article = hashing_service.get_article(result.article_id, guild_id=None)
    assert "By Yuri Tanaka" in article.original_text and "By Yuri Tanaka" not in article.text

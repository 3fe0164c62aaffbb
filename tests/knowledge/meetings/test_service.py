"""service.meetings on a fresh install: the seeded registry, links, before/after, proposals,
the timeline picture."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from knowledge.errors import BadInput, NotFound
from knowledge.ingest import Document
from knowledge.meetings import load_registry
from knowledge.models import PartialDate
from knowledge.service import KnowledgeService
from knowledge.store.tables import (
    ArticleRow,
    MeetingProposalRow,
    PassageMeetingRow,
    PassageRow,
)

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "articles" \
    / "new_expert_vladivostok_2018.md"
VALDAI_2019 = "Abe-Putin Summit in Moscow: No Sensations, Moderation Prevails"


def article_id(service: KnowledgeService, prefix: str) -> int:
    """The id of the founding article whose slug starts with prefix ("000".."004")."""
    with service.library.read() as session:
        found = session.scalar(select(ArticleRow.id).where(ArticleRow.slug.startswith(prefix)))
    assert found is not None
    return found


def linked_texts(service: KnowledgeService, meeting_id: str) -> dict[int, str]:
    """Passage id -> text of the passages linked to a meeting."""
    with service.library.read() as session:
        return dict(session.execute(
            select(PassageRow.id, PassageRow.text)
            .join(PassageMeetingRow, PassageMeetingRow.passage_id == PassageRow.id)
            .where(PassageMeetingRow.meeting_id == meeting_id)).all())


def add_fixture(service: KnowledgeService) -> int:
    """Ingest the fixture article about the September 2018 Vladivostok meeting."""
    doc = Document(text=FIXTURE.read_text(encoding="utf-8"), format="markdown",
                   published=PartialDate("2018-09-14", "day"))
    result = service.add_document(doc)
    assert result.status == "added" and result.article_id is not None, result.message
    return result.article_id


def test_every_meeting_is_listed_with_linked_passages(hashing_service: KnowledgeService) -> None:
    """summits lists all 11 meetings, oldest first, each with linked articles and passages."""
    meetings = hashing_service.meetings.list(guild_id=None)
    assert [m.id for m in meetings] == [m.id for m in load_registry()]
    for meeting in meetings:
        assert meeting.passages >= 1 and meeting.article_ids, meeting.id
    visit = next(m for m in meetings if m.id == "2017-04-moscow-abe-visit")
    assert visit.article_ids == (article_id(hashing_service, "000"),
                                 article_id(hashing_service, "004"))
    assert visit.experts == ("Masahiro Akiyama", "Dmitry Streltsov")
    assert visit.ordinal == 17 and visit.date == PartialDate("2017-04-27", "day")


def test_lima_links_the_east_asia_forum_passage(hashing_service: KnowledgeService) -> None:
    """The Lima meeting links Togo's East Asia Forum passage on the mood after Lima."""
    texts = linked_texts(hashing_service, "2016-11-lima-apec")
    assert any("This somewhat optimistic mood changed after Abe and Putin’s meeting in Lima"
               in t for t in texts.values())
    assert hashing_service.meetings.get("Lima 2016", guild_id=None).article_ids == (
        article_id(hashing_service, "003"),)


def test_25th_summit_links_the_valdai_2019_commentary(hashing_service: KnowledgeService) -> None:
    """The 25th summit links the 2019 Valdai commentary, which comes after it."""
    meeting = hashing_service.meetings.get("25th", guild_id=None)
    assert meeting.id == "2019-01-moscow-abe-putin-summit"
    assert meeting.article_ids == (article_id(hashing_service, "002"),)
    commentary = hashing_service.meetings.commentary("Moscow 2019", guild_id=None)
    assert commentary.before == ()
    assert commentary.after and {h.article.title for h in commentary.after} == {VALDAI_2019}
    assert "25th Putin-Abe summit" in commentary.after[0].highlight


def test_april_2017_visit_splits_before_and_after(hashing_service: KnowledgeService) -> None:
    """Valdai, March 2017 ("expected in April") is before; Rethinking Russia is after."""
    commentary = hashing_service.meetings.commentary("2017-04", guild_id=None)
    assert commentary.meeting.id == "2017-04-moscow-abe-visit"
    assert {h.article.id for h in commentary.before} == {article_id(hashing_service, "000")}
    assert {h.article.id for h in commentary.after} == {article_id(hashing_service, "004")}
    assert len(hashing_service.meetings.commentary("2017-04", top=1, guild_id=None).after) == 1


@pytest.mark.parametrize(("query", "meeting_id"), [
    ("Lima 2016", "2016-11-lima-apec"),
    ("lima", "2016-11-lima-apec"),
    ("2017-04", "2017-04-moscow-abe-visit"),
    ("17th", "2017-04-moscow-abe-visit"),
    ("2016-09-vladivostok-eef", "2016-09-vladivostok-eef"),
    ("Nagato", "2016-12-japan-putin-visit"),
    ("2+2", "2017-03-tokyo-2plus2"),
    ("osaka g20", "2019-06-osaka-g20"),
    # as a question would name them (the question reader, when the registry lookup finds none)
    ("the seventeenth meeting", "2017-04-moscow-abe-visit"),
    ("the ministers' joint format", "2017-03-tokyo-2plus2"),
])
def test_meetings_match_loosely(hashing_service: KnowledgeService, query: str,
                                meeting_id: str) -> None:
    """Places, dates, ordinals, ids and aliases find the meeting."""
    assert hashing_service.meetings.get(query, guild_id=None).id == meeting_id


def test_unknown_meeting_gets_a_hint(hashing_service: KnowledgeService) -> None:
    """A meeting nobody held is NotFound, pointing at the list."""
    with pytest.raises(NotFound, match="no meeting matches “Paris 2030”"):
        hashing_service.meetings.commentary("Paris 2030", guild_id=None)
    with pytest.raises(BadInput):
        hashing_service.meetings.get("   ", guild_id=None)


@pytest.mark.parametrize("query", ["?", "!!!", "-", "the", "🙂", "Osaka 2016",
                                   "Vladivostok 2019", "lima 2015", "2016-02-30", "2016-13"])
def test_a_name_no_meeting_fits_is_not_some_other_meeting(hashing_service: KnowledgeService,
                                                            query: str) -> None:
    """Junk, or a place and a year no meeting has together, is NotFound (with the list to see),
    never the newest meeting or the one the other word fits."""
    with pytest.raises(NotFound, match="no meeting matches") as caught:
        hashing_service.meetings.get(query, guild_id=None)
    assert caught.value.listing == "summits"


def test_an_echoed_name_is_kept_short(hashing_service: KnowledgeService) -> None:
    """A 10,000-character name comes back as a short quote, not in full."""
    with pytest.raises(NotFound) as caught:
        hashing_service.meetings.get("x" * 10_000, guild_id=None)
    assert len(str(caught.value)) < 120
    with pytest.raises(NotFound) as caught:
        hashing_service.experts.get("y" * 10_000, guild_id=None)
    assert len(str(caught.value)) < 120 and caught.value.listing == "experts"


def test_autocomplete_labels_and_ids(hashing_service: KnowledgeService) -> None:
    """Typing "Lima" suggests the Lima meeting first, labelled with its date, valued by id."""
    pairs = hashing_service.meetings.autocomplete("Lima")
    assert pairs[0] == ("Abe-Putin meeting at APEC, Lima (19 Nov 2016)", "2016-11-lima-apec")
    assert len(hashing_service.meetings.autocomplete("", limit=5)) == 5


def test_new_article_links_and_proposes(hashing_service: KnowledgeService) -> None:
    """The fixture links the 2016 Vladivostok meeting and proposes the 2018 one with its passage."""
    new = add_fixture(hashing_service)
    assert new in hashing_service.meetings.get("2016-09-vladivostok-eef", guild_id=None).article_ids
    proposals = hashing_service.meetings.proposals()
    assert {(p.name, p.date_guess, p.place) for p in proposals} == {
        ("Abe-Putin meeting in Vladivostok", "2018-09-10", "Vladivostok"),
        ("Abe visits Moscow", "2018-05", "Moscow"),
        ("Russia-Japan 2+2 in Moscow", "2018-07-31", "Moscow"),
    }
    vladivostok = next(p for p in proposals if p.place == "Vladivostok")
    assert vladivostok.article_id == new
    with hashing_service.library.read() as session:
        passage = session.get(PassageRow, vladivostok.passage_id)
        assert passage is not None and passage.article_id == new
        assert "met in Vladivostok on 10 September 2018" in passage.text


def test_a_second_article_does_not_duplicate_a_proposal(hashing_service: KnowledgeService) -> None:
    """Another article on the same Vladivostok meeting (same date and place) adds no proposal."""
    add_fixture(hashing_service)
    text = ("Abe and Putin met in Vladivostok on 10 September 2018 and talked for three hours "
            "about joint economic activities, fisheries and the timetable for a peace treaty. "
            "Neither leader spoke of a deadline, and officials were careful not to raise hopes.")
    result = hashing_service.add_document(Document(
        text=text, title="Three hours in Vladivostok", published=PartialDate("2018-09-11", "day")))
    assert result.status == "added"
    with hashing_service.library.read() as session:
        places = list(session.scalars(select(MeetingProposalRow.date_guess).where(
            MeetingProposalRow.place == "Vladivostok")))
    assert places == ["2018-09-10"]


def test_confirming_a_proposal_adds_the_meeting(hashing_service: KnowledgeService) -> None:
    """A confirmed proposal joins the registry and the passages that discuss it link to it."""
    new = add_fixture(hashing_service)
    proposal = next(p for p in hashing_service.meetings.proposals()
                    if p.place == "Vladivostok")
    meeting = hashing_service.meetings.confirm_proposal(proposal.id)
    assert meeting.date == PartialDate("2018-09-10", "day") and meeting.place == "Vladivostok"
    assert meeting.article_ids == (new,)
    assert set(meeting.participants) == {"Shinzo Abe", "Vladimir Putin"}
    assert len(hashing_service.meetings.list(guild_id=None)) == 12
    assert hashing_service.meetings.get("Vladivostok 2018", guild_id=None).id == meeting.id
    assert proposal.id not in {p.id for p in hashing_service.meetings.proposals()}
    with pytest.raises(BadInput, match="already confirmed"):
        hashing_service.meetings.confirm_proposal(proposal.id)
    with pytest.raises(NotFound):
        hashing_service.meetings.confirm_proposal(9999)


def test_a_proposal_is_confirmed_with_at_least_a_month(hashing_service: KnowledgeService) -> None:
    """A year alone, or no date at all, is refused (saying which date), the proposal left open."""
    add_fixture(hashing_service)
    proposal = next(p for p in hashing_service.meetings.proposals()
                    if p.place == "Vladivostok")
    with pytest.raises(BadInput, match="needs at least its month"):
        hashing_service.meetings.confirm_proposal(proposal.id, date="2018")
    with pytest.raises(BadInput, match="the meeting's date “2018-13”"):
        hashing_service.meetings.confirm_proposal(proposal.id, date="2018-13")
    assert proposal.id in {p.id for p in hashing_service.meetings.proposals()}


def test_rejecting_a_proposal_keeps_it_out(hashing_service: KnowledgeService) -> None:
    """A rejected proposal leaves the open list and the registry unchanged."""
    add_fixture(hashing_service)
    proposal = hashing_service.meetings.proposals()[0]
    assert hashing_service.meetings.reject_proposal(proposal.id).status == "rejected"
    assert proposal.id not in {p.id for p in hashing_service.meetings.proposals()}
    assert len(hashing_service.meetings.list(guild_id=None)) == 11
    with pytest.raises(BadInput, match="already rejected"):
        hashing_service.meetings.reject_proposal(proposal.id)


def test_a_confirmed_proposal_cannot_be_rejected(hashing_service: KnowledgeService) -> None:
    """Rejecting a confirmed proposal is refused; its meeting stays in the registry."""
    add_fixture(hashing_service)
    proposal = next(p for p in hashing_service.meetings.proposals()
                    if p.place == "Vladivostok")
    meeting = hashing_service.meetings.confirm_proposal(proposal.id)
    with pytest.raises(BadInput, match=f"proposal #{proposal.id} is already confirmed"):
        hashing_service.meetings.reject_proposal(proposal.id)
    assert [p.status for p in hashing_service.meetings.proposals(None)
            if p.id == proposal.id] == ["confirmed"]
    assert hashing_service.meetings.get("Vladivostok 2018", guild_id=None).id == meeting.id


async def test_timeline_png(hashing_service: KnowledgeService) -> None:
    """The timeline is a valid PNG, 1200 px wide (legible at 600), one row per meeting."""
    png = hashing_service.meetings.timeline_png(guild_id=None)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(png)) as image:
        image.verify()
    with Image.open(io.BytesIO(png)) as image:
        width, height = image.size
    assert width == 1200
    assert 11 * 70 < height < 1400


async def test_async_callers_use_run(hashing_service: KnowledgeService) -> None:
    """`await service.run(...)` (the bot's way) answers like direct calls."""
    service = hashing_service
    meetings = service.meetings
    assert [m.id for m in await service.run(meetings.list, guild_id=None)] == [m.id for m in meetings.list(guild_id=None)]
    assert (await service.run(meetings.get, "Lima 2016", guild_id=None)).id == "2016-11-lima-apec"
    commentary = await service.run(meetings.commentary, "2017-04", None, 3, guild_id=None)
    assert commentary.before and commentary.after
    assert (await service.run(meetings.autocomplete, "osaka"))[0][1] == "2019-06-osaka-g20"
    assert await service.run(meetings.proposals) == []


# ----- retrieval quality on the real model ----------------------------------------------------

@pytest.mark.model
def test_commentary_narrowed_by_topic(real_service: KnowledgeService) -> None:
    """Joint economic activities around the April 2017 visit: Valdai before, Streltsov after."""
    commentary = real_service.meetings.commentary("2017-04", "joint economic activities", 3, guild_id=None)
    assert commentary.before and {h.article.id for h in commentary.before} == {
        article_id(real_service, "000")}
    assert commentary.after and {h.article.id for h in commentary.after} == {
        article_id(real_service, "004")}
    assert "joint economic" in commentary.after[0].passage
    assert "joint economic activities" in commentary.before[0].passage


@pytest.mark.model
def test_topic_nobody_discussed_gives_empty_sides(real_service: KnowledgeService) -> None:
    """An off-topic question about a meeting finds nothing on either side."""
    commentary = real_service.meetings.commentary("Lima", "sourdough bread baking times", guild_id=None)
    assert commentary.before == () and commentary.after == ()


def test_an_undated_article_about_a_meeting_is_shown_unplaced(
        hashing_service: KnowledgeService) -> None:
    """An undated article linked to a meeting is counted in the meeting's header and shown
    as neither before nor after (its side cannot be told), with and without a topic; the
    dated commentary is unchanged."""
    before = hashing_service.meetings.commentary("2017-04", guild_id=None)
    doc = Document(text="# Notes on the islands\n\nAt the leaders' 17th meeting, Abe and Putin "
                        "discussed joint economic activities on the disputed islands.\n",
                   format="markdown")
    result = hashing_service.add_document(doc)
    assert result.status == "added" and result.article_id is not None, result.message
    meeting = hashing_service.meetings.get("2017-04", guild_id=None)
    assert result.article_id in meeting.article_ids
    after = hashing_service.meetings.commentary("2017-04", guild_id=None)
    assert (after.before, after.after) == (before.before, before.after)
    assert before.unplaced == ()
    assert [h.article.id for h in after.unplaced] == [result.article_id]
    assert "17th meeting" in after.unplaced[0].highlight
    on_topic = hashing_service.meetings.commentary("2017-04", "joint economic activities", guild_id=None)
    assert result.article_id in {h.article.id for h in on_topic.unplaced}
    assert after.to_json()["unplaced"][0]["article_id"] == result.article_id


def test_confirming_a_ministers_visit_keeps_the_summit_links(
        hashing_service: KnowledgeService) -> None:
    """An article naming "a visit of Foreign Minister Kono to Moscow in January 2019" proposes
    that visit; confirming it leaves the founding passage on "the January summit" (the 25th
    Abe-Putin summit) linked to that summit: a summit is no minister's visit. The registry's
    description does not quote the proposal's passage (it may be one server's upload)."""
    service = hashing_service
    summit = service.meetings.get("2019-01", guild_id=None)
    with service.library.read() as session:
        links_before = set(session.scalars(select(PassageMeetingRow.passage_id).where(
            PassageMeetingRow.meeting_id == summit.id)))
    assert links_before
    text = ("At their summit in Singapore on 14 November 2018, Abe and Putin agreed to "
            "accelerate peace treaty negotiations. The meeting in Singapore was followed by a "
            "visit of Foreign Minister Kono to Moscow in January 2019, who met Lavrov.")
    result = service.add_document(Document(text=text, title="After Singapore",
                                           published=PartialDate("2018-11-20", "day")))
    assert result.status == "added"
    proposal = next(p for p in service.meetings.proposals() if "Kono" in p.name
                    or (p.place == "Moscow" and (p.date_guess or "").startswith("2019-01")))
    visit = service.meetings.confirm_proposal(proposal.id, date="2019-01-14")
    assert "Kono" not in visit.description and "Lavrov" not in visit.description
    with service.library.read() as session:
        links_after = set(session.scalars(select(PassageMeetingRow.passage_id).where(
            PassageMeetingRow.meeting_id == summit.id)))
    assert links_after >= links_before


def test_a_name_several_meetings_fit_is_refused_with_the_candidates(
        hashing_service: KnowledgeService) -> None:
    """"Moscow summit" was an alias of the 2019 summit alone, though the April 2017 visit was
    a Moscow summit too: both are candidates now, and a name several meetings fit is refused
    with them (it used to take one silently); adding the month makes it one."""
    meetings = hashing_service.meetings
    for typed in ("Moscow summit", "Moscow", "2016-12"):
        with pytest.raises(NotFound, match="matches several meetings"):
            meetings.get(typed, guild_id=None)
    with pytest.raises(NotFound) as caught:
        meetings.get("Moscow summit", guild_id=None)
    assert "2019-01-22" in str(caught.value) and "2017-04-27" in str(caught.value)
    assert meetings.get("Moscow summit 2019-01", guild_id=None).id == "2019-01-moscow-abe-putin-summit"
    assert meetings.get("Lima 2016", guild_id=None).id == "2016-11-lima-apec"

"""service.meetings: summits, visits and 2+2 meetings, what was said before and after each,
the timeline picture, and the proposals for meetings the registry lacks."""

from __future__ import annotations

import builtins
import dataclasses
import datetime as dt
import logging
import re
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.errors import BadInput, NotFound
from knowledge.library import Library
from knowledge.meetings.linking import (
    BeforeAfter,
    detect_unknown_meetings,
    link_passage,
    split_before_after,
)
from knowledge.meetings.registry import Meeting, find_meeting
from knowledge.meetings.stored import confirmed_meetings, country_of
from knowledge.meetings.timeline import (
    TimelineArticle,
    TimelineEntry,
    format_meeting_date,
    render_timeline,
)
from knowledge.meetings.vocabulary import load_vocabulary
from knowledge.models import Hit, MeetingCommentary, PartialDate
from knowledge.models import Meeting as MeetingModel
from knowledge.retrieval import Retriever, SearchRequest, unranked_hits
from knowledge.store.queries import published_date
from knowledge.store.tables import (
    ArticleRow,
    MeetingProposalRow,
    MeetingRow,
    PassageMeetingRow,
    PassagePersonRow,
    PassageRow,
    PersonRow,
    possible_row_id,
)
from knowledge.text.clean import echo
from knowledge.visibility import EVERYTHING, visible

log = logging.getLogger(__name__)

AMBIGUOUS_LISTED = 4  # meetings named when a query fits several

AUTOCOMPLETE_LABEL_MAX = 100  # Discord's limit for a choice name; harmless elsewhere


@dataclasses.dataclass(frozen=True, slots=True)
class Proposal:
    """A meeting an article discusses that the registry lacks, waiting for an admin."""

    id: int
    name: str
    date_guess: str | None
    place: str | None
    evidence: str
    article_id: int | None
    article_title: str | None
    passage_id: int | None
    status: str  # open | confirmed | rejected
    created_at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        out = dataclasses.asdict(self)
        out["created_at"] = self.created_at.isoformat()
        return out


@dataclasses.dataclass(frozen=True, slots=True)
class _Linked:
    """A passage linked to a meeting."""

    passage_id: int
    article_id: int
    ordinal: int
    evidence: str | None
    confidence: float


def _middle(row: ArticleRow) -> dt.date | None:
    """The middle of an article's publication period (a month-dated article sits mid-month)."""
    if row.published_start is None:
        return None
    end = row.published_end or row.published_start
    return row.published_start + (end - row.published_start) / 2


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9+]+", "-", text.casefold()).strip("-")


def _sentence_with(text: str, phrase: str | None) -> str | None:
    """The sentence of a passage that holds a phrase (the link's evidence), if any."""
    if not phrase:
        return None
    from knowledge.text.split import split_sentences

    flat = re.sub(r"\s+", " ", phrase)
    for span in split_sentences(text):
        if flat in re.sub(r"\s+", " ", span.text):
            return span.text
    return None


class MeetingsService:
    """The meeting registry and the commentary linked to each meeting."""

    def __init__(self, library: Library, retriever: Retriever) -> None:
        self.library = library
        self.retriever = retriever

    # ----- lookup -------------------------------------------------------------------------------
    def registry(self) -> builtins.list[Meeting]:
        """Every confirmed meeting (curated and confirmed proposals), oldest first."""
        with self.library.read() as session:
            return confirmed_meetings(session)

    def resolve(self, name_or_date: str) -> Meeting:
        """The meeting a loose name, place, date, ordinal or id denotes; NotFound otherwise."""
        query = " ".join(name_or_date.split())
        if not query:
            raise BadInput("the meeting's name or date is empty")
        registry = self.registry()
        found = find_meeting(query, registry, limit=AMBIGUOUS_LISTED + 1, complete=True)
        if not found:
            # As a question would name it: "the seventeenth meeting", "the ministers' joint
            # format", "the Sochi Winter Games" (knowledge/understand).
            read = {m.meeting_id for m in self.retriever.reader.interpret(
                query, version=self.library.index.version).meetings}
            found = [m for m in registry if m.id in read]
        if not found:
            raise NotFound(f"no meeting matches “{echo(query)}”", listing="summits")
        if len(found) > 1:
            shown = "; ".join(f"{m.name}, {m.date}" for m in found[:AMBIGUOUS_LISTED])
            more = " and more" if len(found) > AMBIGUOUS_LISTED else ""
            raise NotFound(f"“{echo(query)}” matches several meetings ({shown}{more}); add a "
                           f"word of its name, its date (YYYY-MM-DD) or its number",
                           listing="summits")
        return found[0]

    def _linked(self, session: Session, meeting_ids: builtins.list[str] | None, *,
                guild_id: int | None) -> dict[str, builtins.list[_Linked]]:
        """Passages linked to meetings, in articles ``guild_id`` may see."""
        stmt = (select(PassageMeetingRow.meeting_id, PassageMeetingRow.passage_id, PassageRow.article_id,
                       PassageRow.ordinal, PassageMeetingRow.evidence, PassageMeetingRow.confidence)
                .join(PassageRow, PassageRow.id == PassageMeetingRow.passage_id)
                .where(visible(PassageRow.article_id, guild_id)))
        if meeting_ids is not None:
            stmt = stmt.where(PassageMeetingRow.meeting_id.in_(meeting_ids))
        out: dict[str, builtins.list[_Linked]] = defaultdict(builtins.list)
        for mid, pid, aid, ordinal, evidence, confidence in session.execute(stmt):
            out[mid].append(_Linked(pid, aid, ordinal, evidence, confidence))
        return out

    def _experts_of(self, session: Session, passage_ids: builtins.list[int]
                    ) -> builtins.list[str]:
        """Experts whose words the passages carry, in passage order."""
        if not passage_ids:
            return []
        rows = session.execute(
            select(PassagePersonRow.passage_id, PersonRow.name)
            .join(PersonRow, PersonRow.id == PassagePersonRow.person_id)
            .where(PassagePersonRow.passage_id.in_(passage_ids), PersonRow.kind == "expert"))
        order = {pid: n for n, pid in enumerate(passage_ids)}
        pairs = sorted(rows, key=lambda r: order[r[0]])
        return builtins.list(dict.fromkeys(name for _, name in pairs))

    def _articles(self, session: Session, ids: set[int]) -> dict[int, ArticleRow]:
        if not ids:
            return {}
        return {a.id: a for a in session.scalars(select(ArticleRow).where(ArticleRow.id.in_(ids)))}

    def _model(self, session: Session, meeting: Meeting, linked: builtins.list[_Linked],
               articles: dict[int, ArticleRow]) -> MeetingModel:
        """The boundary record with its linked articles (oldest first), passages and experts."""
        def when(aid: int) -> tuple[dt.date, int]:
            row = articles.get(aid)
            return (row.published_start or dt.date.max) if row else dt.date.max, aid

        article_ids = tuple(sorted({link.article_id for link in linked}, key=when))
        ordered = sorted(linked, key=lambda link: (when(link.article_id), link.ordinal))
        experts = tuple(self._experts_of(session, [link.passage_id for link in ordered]))
        return meeting.to_model(article_ids=article_ids, passages=len(linked), experts=experts)

    def list(self, *, guild_id: int | None) -> builtins.list[MeetingModel]:
        """Every confirmed meeting, oldest first, with its linked articles and passages (those
        ``guild_id`` may see)."""
        registry = self.registry()
        with self.library.read() as session:
            linked = self._linked(session, None, guild_id=guild_id)
            articles = self._articles(session, {link.article_id for links in linked.values()
                                                for link in links})
            return [self._model(session, m, linked.get(m.id, []), articles) for m in registry]

    def get(self, name_or_date: str, *, guild_id: int | None) -> MeetingModel:
        """One meeting by a loose name ("Lima 2016", "2017-04", "17th", an id)."""
        meeting = self.resolve(name_or_date)
        with self.library.read() as session:
            linked = self._linked(session, [meeting.id], guild_id=guild_id).get(meeting.id, [])
            articles = self._articles(session, {link.article_id for link in linked})
            return self._model(session, meeting, linked, articles)

    # ----- before / after -----------------------------------------------------------------------
    def _sides(self, session: Session, meeting: Meeting, article_ids: set[int],
               registry: builtins.list[Meeting]) -> dict[int, BeforeAfter | None]:
        """For each article, whether it was written before or after the meeting (None: unsure)."""
        sides: dict[int, BeforeAfter | None] = {}
        for aid, article in self._articles(session, article_ids).items():
            texts = [p.text for p in article.passages]
            sides[aid] = split_before_after(meeting, published_date(article), texts,
                                            meetings=registry)
        return sides

    def _focus_passages(self, session: Session, meeting: Meeting, article_ids: set[int],
                        registry: builtins.list[Meeting]) -> dict[int, int]:
        """Every passage (-> its article) of the articles that are about the meeting as a whole
        (the title or the opening passage names it), for topic searches beyond the links."""
        out: dict[int, int] = {}
        for article in self._articles(session, article_ids).values():
            passages = builtins.list(article.passages)
            published = published_date(article)
            heads = [article.title] + ([passages[0].text] if passages else [])
            if any(link.meeting_id == meeting.id for text in heads
                   for link in link_passage(text, published, registry)):
                out.update({p.id: article.id for p in passages})
        return out

    def commentary(self, name_or_date: str, topic: str | None = None, top: int = 5, *,
                   guild_id: int | None) -> MeetingCommentary:
        """What was said about a meeting: passages of articles written before it (expectations)
        and after it (assessments), optionally narrowed to a topic. Articles whose side cannot
        be told (undated, no cues either way) are not guessed: their passages are `unplaced`."""
        if not 1 <= top <= 50:
            raise BadInput("top must be between 1 and 50")
        topic = self.retriever.validate(topic) if topic is not None and topic.strip() else None
        meeting = self.resolve(name_or_date)
        registry = self.registry()
        with self.library.read() as session:
            linked = self._linked(session, [meeting.id], guild_id=guild_id).get(meeting.id, [])
            article_ids = {link.article_id for link in linked}
            sides = self._sides(session, meeting, article_ids, registry)
            articles = self._articles(session, article_ids)
            model = self._model(session, meeting, linked, articles)
            halves: dict[str, builtins.list[Hit]] = {}
            focus = self._focus_passages(session, meeting, article_ids, registry) \
                if topic else {}
            for side in ("before", "after", None):
                mine = [link for link in linked if sides.get(link.article_id) == side]
                key = side or "unplaced"
                if topic is None:
                    halves[key] = self._unranked(session, mine, articles, top)
                    continue
                pool = {link.passage_id for link in mine}
                side_articles = {link.article_id for link in mine}
                pool |= {pid for pid, aid in focus.items() if aid in side_articles}
                halves[key] = self._search(topic, pool, top, guild_id)
        return MeetingCommentary(model, tuple(halves["before"]), tuple(halves["after"]),
                                 tuple(halves["unplaced"]))

    @staticmethod
    def _unranked(session: Session, linked: builtins.list[_Linked],
                  articles: dict[int, ArticleRow], top: int) -> builtins.list[Hit]:
        """Linked passages, surest link first, then by article date and text order; the
        highlight is the sentence that names the meeting."""
        def key(link: _Linked) -> tuple[float, dt.date, int, int]:
            row = articles.get(link.article_id)
            date = row.published_start if row and row.published_start else dt.date.max
            return -link.confidence, date, link.article_id, link.ordinal

        chosen = sorted(linked, key=key)[:top]
        texts = dict(session.execute(select(PassageRow.id, PassageRow.text).where(
            PassageRow.id.in_([link.passage_id for link in chosen]))).all())
        highlights = {link.passage_id: h for link in chosen
                      if (h := _sentence_with(texts.get(link.passage_id, ""), link.evidence))}
        return unranked_hits(session, [link.passage_id for link in chosen], highlights,
                             {link.passage_id: link.confidence for link in chosen})

    def _search(self, topic: str, pool: set[int], top: int, guild_id: int | None
                ) -> builtins.list[Hit]:
        return self.retriever.search_within(SearchRequest(topic, top, guild_id=guild_id), pool)

    # ----- timeline -----------------------------------------------------------------------------
    def timeline_entries(self, *, guild_id: int | None) -> builtins.list[TimelineEntry]:
        """What the timeline picture shows: each meeting, its articles (those ``guild_id`` may
        see) and their sides."""
        registry = self.registry()
        entries = []
        with self.library.read() as session:
            linked = self._linked(session, None, guild_id=guild_id)
            articles = self._articles(session, {link.article_id for links in linked.values()
                                                for link in links})
            for meeting in registry:
                links = linked.get(meeting.id, [])
                ids = {link.article_id for link in links}
                sides = self._sides(session, meeting, ids, registry)
                model = self._model(session, meeting, links, articles)
                dated = tuple(TimelineArticle(day, sides.get(aid)) for aid in model.article_ids
                              if (day := _middle(articles[aid])) is not None)
                undated = len(ids) - len(dated)
                entries.append(TimelineEntry(model, dated, undated, model.experts))
        return entries

    def timeline_png(self, *, guild_id: int | None) -> bytes:
        """The meetings on a time axis with their commentary, as a PNG (1200 px wide, legible
        when shown 600 px wide)."""
        return render_timeline(self.timeline_entries(guild_id=guild_id))

    # ----- proposals ----------------------------------------------------------------------------
    def proposals(self, status: str | None = "open") -> builtins.list[Proposal]:
        """Stored proposals (open ones by default; None for all), oldest first."""
        with self.library.read() as session:
            stmt = select(MeetingProposalRow, ArticleRow.title).outerjoin(
                ArticleRow, ArticleRow.id == MeetingProposalRow.article_id).order_by(
                MeetingProposalRow.id)
            if status is not None:
                stmt = stmt.where(MeetingProposalRow.status == status)
            return [Proposal(p.id, p.name, p.date_guess, p.place, p.evidence, p.article_id,
                             title, p.passage_id, p.status, p.created_at)
                    for p, title in session.execute(stmt)]

    def _proposal_details(self, session: Session, row: MeetingProposalRow) -> dict[str, Any]:
        """Kind, participants and ordinal of a proposal, detected again from its passage."""
        passage = session.get(PassageRow, row.passage_id) if row.passage_id else None
        if passage is None:
            return {}
        published = published_date(passage.article)
        for proposal in detect_unknown_meetings(passage.text, published,
                                                confirmed_meetings(session)):
            if proposal.place == row.place and proposal.date_guess == row.date_guess:
                return {"kind": proposal.kind, "participants": builtins.list(proposal.participants),
                        "ordinal": proposal.ordinal}
        return {}

    def confirm_proposal(self, proposal_id: int, *, name: str | None = None,
                              date: str | None = None, place: str | None = None) -> MeetingModel:
        """Add a proposed meeting to the registry (name, date and place may be corrected) and
        link every stored passage that discusses it."""
        with self.library.write() as session:
            row = session.get(MeetingProposalRow, proposal_id) \
                if possible_row_id(proposal_id) else None
            if row is None:
                raise NotFound(f"no meeting proposal #{proposal_id}; try the proposals list")
            if row.status != "open":
                raise BadInput(f"proposal #{proposal_id} is already {row.status}")
            date_text = date or row.date_guess
            if not date_text:
                raise BadInput(f"proposal #{proposal_id} has no date; give one (YYYY-MM[-DD])")
            try:
                when = PartialDate.parse(date_text)
            except ValueError as exc:
                raise BadInput(f"the meeting's date “{echo(date_text)}”: {exc}") from exc
            if when.precision == "year":
                # A year alone cannot tell the commentary before the meeting from the one after.
                raise BadInput(f"the meeting's date needs at least its month (YYYY-MM or "
                               f"YYYY-MM-DD), not only {when.iso}")
            details = self._proposal_details(session, row)
            # Events the evidence names ("on the sidelines of the Eastern Economic Forum") become
            # aliases: the linker matches events against a meeting's name and aliases.
            aliases = builtins.list(dict.fromkeys(
                m.group(0) for pattern in load_vocabulary().events.values()
                for m in pattern.finditer(row.evidence)))
            where = place or row.place or ""
            kind = details.get("kind", "summit")
            base = _slug(f"{when.iso[:7]} {where or 'unknown-place'} {kind}")
            meeting_id, n = base, 2
            while session.get(MeetingRow, meeting_id) is not None:
                meeting_id, n = f"{base}-{n}", n + 1
            session.add(MeetingRow(
                id=meeting_id, name=name or row.name, date_iso=when.iso,
                date_precision=when.precision, date_start=when.start, date_end=when.end,
                place=where or None, kind=kind, ordinal=details.get("ordinal"),
                participants=details.get("participants", []),
                # Not the evidence itself: the registry is every server's, the passage may be
                # one server's upload (the proposal keeps it for the operator).
                description=f"Confirmed from meeting proposal #{row.id}", aliases=aliases,
                status="confirmed"))
            row.status = "confirmed"
            for other in session.scalars(select(MeetingProposalRow).where(
                    MeetingProposalRow.status == "open", MeetingProposalRow.id != row.id)):
                if (other.place or "").casefold() == where.casefold() and other.date_guess \
                        and (other.date_guess.startswith(when.iso) or
                             when.iso.startswith(other.date_guess)):
                    other.status = "confirmed"
            session.flush()
            self._relink(session)
        log.info("meeting proposal #%d confirmed as %s (%s)", proposal_id, meeting_id,
                 country_of(where) or "country unknown")
        return self.get(meeting_id, guild_id=EVERYTHING)

    def reject_proposal(self, proposal_id: int) -> Proposal:
        """Mark a proposal rejected: the meeting stays out of the registry."""
        with self.library.write() as session:
            row = session.get(MeetingProposalRow, proposal_id) \
                if possible_row_id(proposal_id) else None
            if row is None:
                raise NotFound(f"no meeting proposal #{proposal_id}; try the proposals list")
            if row.status != "open":
                raise BadInput(f"proposal #{proposal_id} is already {row.status}")
            row.status = "rejected"
        return next(p for p in self.proposals(None) if p.id == proposal_id)

    @staticmethod
    def _relink(session: Session) -> None:
        """Link every stored passage again against the confirmed meetings (a new meeting can
        claim mentions, or make an old one ambiguous)."""
        from knowledge.enrich import link_passages

        registry = confirmed_meetings(session)
        for article in session.scalars(select(ArticleRow)):
            link_passages(session, builtins.list(article.passages), published_date(article),
                          registry)

    # ----- autocomplete -------------------------------------------------------------------------
    def autocomplete(self, prefix: str, limit: int = 25) -> builtins.list[tuple[str, str]]:
        """(label, id) of the meetings matching what was typed, best first."""
        labels = []
        for meeting in find_meeting(prefix, self.registry(), limit=limit):
            when = format_meeting_date(PartialDate.parse(meeting.date),
                                       PartialDate.parse(meeting.date_end).end
                                       if meeting.date_end else None)
            label = f"{meeting.name} ({when})"
            if len(label) > AUTOCOMPLETE_LABEL_MAX:
                label = label[:AUTOCOMPLETE_LABEL_MAX - 1] + "…"
            labels.append((label, meeting.id))
        return labels


"""From a reading of the question to ranking evidence, with what the library stores: which
passages carry each expert's words, which passages discuss each meeting, and when each
article was published. `QuestionReader` keeps these tables and the vocabulary in memory."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Callable, Hashable, Mapping
from contextlib import AbstractContextManager

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.index.types import Boost, Evidence
from knowledge.meetings.linking import split_before_after
from knowledge.meetings.stored import confirmed_meetings
from knowledge.meetings.vocabulary import Vocabulary, load_vocabulary
from knowledge.people.match import EXPERT_RELATIONS, expert_ids
from knowledge.people.names import canonical_person_key
from knowledge.store.queries import published_date
from knowledge.store.tables import (
    ArticlePersonRow,
    ArticleRow,
    MeetingRow,
    PassageMeetingRow,
    PassagePersonRow,
    PassageRow,
    PersonRow,
)
from knowledge.understand.reading import Interpretation, PersonReading, interpret, match_people
from knowledge.understand.vocabulary import (
    ExpertEntry,
    MeetingEntry,
    QuestionVocabulary,
    build_question_vocabulary,
)

log = logging.getLogger(__name__)

VIEWERS_KEPT = 256  # servers whose visible experts are remembered (cleared when full)

# How strongly each reading counts for a passage: per group (person, meeting, time) the
# strongest boost that fits it counts, and the groups add up (knowledge/index/hybrid.py).
PERSON_PASSAGE = 1.0  # a passage carrying the expert's words
PERSON_ARTICLE = 0.5  # another passage of their article
MEETING_PASSAGE = 1.0  # a passage linked to the meeting
# Another passage of an article that discusses it: nearly as much, since the evidence mostly
# tells which article is meant and the answer is often a paragraph the linker did not tie to
# the meeting (which paragraph answers is left to the text signals).
MEETING_ARTICLE = 0.9
ANCHOR_PASSAGE = 0.5  # a passage on the meeting a "before/after" question hangs on
# An article on that meeting written on the side asked ("before the summit": expectations),
# as /summit files it (knowledge/meetings/linking.split_before_after).
SIDE_ARTICLE = 0.9
WINDOW_MEETING = 0.8  # a passage on a meeting inside the time window
# A passage of an article published in the window: what was said then ("What did experts say
# in April 2017?" is the April piece first, not March's preview of the April summit).
WINDOW_PUBLISHED = 1.0
WINDOW_ARTICLE = 0.6  # ... or published just after it (commentary on the period)
# Commentary follows events: an article published this long after the window still counts.
PUBLICATION_LAG = dt.timedelta(days=92)
# "Before X" / "after X" looks this far from the meeting.
SIDE_SPAN = dt.timedelta(days=365)


@dataclasses.dataclass(frozen=True, slots=True)
class LinkTables:
    """What the library stores about experts and meetings, by expert id and meeting id."""

    expert_passages: dict[int, frozenset[int]]
    expert_articles: dict[int, frozenset[int]]
    meeting_passages: dict[str, frozenset[int]]
    meeting_articles: dict[str, frozenset[int]]


def load_experts(session: Session) -> list[ExpertEntry]:
    """Every expert with every role the texts give them (their links' roles and the roles the
    extractor recorded in each article), and "author at <publisher>" for each publisher they
    wrote for."""
    rows = session.execute(
        select(PersonRow.id, PersonRow.name, ArticlePersonRow.role, ArticleRow.extra,
               ArticleRow.publisher)
        .join(ArticlePersonRow, ArticlePersonRow.person_id == PersonRow.id)
        .join(ArticleRow, ArticleRow.id == ArticlePersonRow.article_id)
        .where(PersonRow.kind == "expert", ArticlePersonRow.relation.in_(EXPERT_RELATIONS)))
    names: dict[int, str] = {}
    roles: dict[int, list[str]] = {}
    for pid, name, role, extra, publisher in rows:
        names[pid] = name
        found = roles.setdefault(pid, [])
        if role:
            found.append(role)
        if publisher:  # "the East Asia Forum author": who wrote for that publisher
            found.append(f"author at {publisher}")
        key = canonical_person_key(name)
        for record in (extra or {}).get("people", []):
            if canonical_person_key(record.get("name", "")) == key:
                found.extend(r for r in record.get("roles", []) if r)
    return [ExpertEntry(pid, names[pid], tuple(dict.fromkeys(roles[pid]))) for pid in names]


def load_meetings(session: Session) -> list[MeetingEntry]:
    """The confirmed meetings of the stored registry, oldest first."""
    rows = session.scalars(select(MeetingRow).where(MeetingRow.status == "confirmed",
                                                    MeetingRow.date_start.is_not(None)))
    meetings = [MeetingEntry(
        id=r.id, name=r.name, start=start, end=r.date_end or start, place=r.place or "",
        kind=r.kind, ordinal=r.ordinal, participants=tuple(r.participants or ()),
        aliases=tuple(r.aliases or ()), description=r.description or "")
        for r in rows if (start := r.date_start) is not None]
    return sorted(meetings, key=lambda m: (m.start, m.id))


def load_links(session: Session) -> LinkTables:
    """Passages and articles of every expert and every meeting."""
    expert_passages: dict[int, set[int]] = {}
    expert_articles: dict[int, set[int]] = {}
    meeting_passages: dict[str, set[int]] = {}
    meeting_articles: dict[str, set[int]] = {}
    for passage_id, person_id in session.execute(
            select(PassagePersonRow.passage_id, PassagePersonRow.person_id)):
        expert_passages.setdefault(person_id, set()).add(passage_id)
    for article_id, person_id in session.execute(
            select(ArticlePersonRow.article_id, ArticlePersonRow.person_id)
            .where(ArticlePersonRow.relation.in_(EXPERT_RELATIONS))):
        expert_articles.setdefault(person_id, set()).add(article_id)
    for passage_id, meeting_id, article_id in session.execute(
            select(PassageMeetingRow.passage_id, PassageMeetingRow.meeting_id, PassageRow.article_id)
            .join(PassageRow, PassageRow.id == PassageMeetingRow.passage_id)):
        meeting_passages.setdefault(meeting_id, set()).add(passage_id)
        meeting_articles.setdefault(meeting_id, set()).add(article_id)

    return LinkTables({k: frozenset(v) for k, v in expert_passages.items()},
                      {k: frozenset(v) for k, v in expert_articles.items()},
                      {k: frozenset(v) for k, v in meeting_passages.items()},
                      {k: frozenset(v) for k, v in meeting_articles.items()})


def evidence_for(reading: Interpretation, vocabulary: QuestionVocabulary, links: LinkTables,
                 sides: Callable[[str], Mapping[int, str | None]] | None = None) -> Evidence:
    """The ranking evidence a reading gives: boosts for the passages by the experts read, in
    the time window, and on the meetings read (or before/after them); ``sides``: per meeting
    id, whether each article on it was written before or after it (None: unsure)."""
    boosts: list[tuple[str, Boost]] = []
    share = 1.0 if len(reading.people) <= 1 else 0.7
    for person in reading.people:
        label = f"by {person.name}"
        boosts.append(("person", Boost(label, PERSON_PASSAGE * share,
                                       passage_ids=links.expert_passages.get(person.expert_id,
                                                                             frozenset()))))
        boosts.append(("person", Boost(label, PERSON_ARTICLE * share,
                                       article_ids=links.expert_articles.get(person.expert_id,
                                                                             frozenset()))))
    share = 1.0 if len(reading.meetings) <= 1 else 0.7
    for meeting in reading.meetings:
        passages = links.meeting_passages.get(meeting.meeting_id, frozenset())
        if meeting.side is None:
            label = f"on {meeting.name}"
            boosts.append(("meeting", Boost(label, MEETING_PASSAGE * share, passage_ids=passages)))
            boosts.append(("meeting", Boost(label, MEETING_ARTICLE * share, article_ids=(
                links.meeting_articles.get(meeting.meeting_id, frozenset())))))
            continue
        label = f"{meeting.side} {meeting.name}"
        # "Before the summit": commentary written before it (as /summit files it), on the
        # summit or on the meetings of the year before; not a later look back at them.
        if meeting.side == "before":
            span = (meeting.start - SIDE_SPAN, meeting.start - dt.timedelta(days=1))
            written = (dt.date.min, meeting.start - dt.timedelta(days=1))
        else:
            span = (meeting.end + dt.timedelta(days=1), meeting.end + SIDE_SPAN)
            written = (meeting.end + dt.timedelta(days=1), dt.date.max)
        boosts.append(("meeting", Boost(label, ANCHOR_PASSAGE * share, passage_ids=passages,
                                        published=written)))
        if sides is not None:
            on_side = frozenset(a for a, side in sides(meeting.meeting_id).items()
                                if side == meeting.side)
            boosts.append(("meeting", Boost(label, SIDE_ARTICLE * share, article_ids=on_side)))
        boosts.extend(_window_boosts(label, span, vocabulary, links, lag=False,
                                     written=written))
    for window in reading.windows:  # separate periods ("in 2015 and 2019"): either fits
        span = (window.start, window.end)
        boosts.extend(_window_boosts(window.label, span, vocabulary, links, lag=True))
    return Evidence(tuple((g, b) for g, b in boosts if b.passage_ids or b.article_ids
                          or b.window))


def _window_boosts(label: str, span: tuple[dt.date, dt.date], vocabulary: QuestionVocabulary,
                   links: LinkTables, *, lag: bool,
                   written: tuple[dt.date, dt.date] | None = None) -> list[tuple[str, Boost]]:
    """Boosts for a time span: passages on the meetings inside it, and articles published in
    it (or, for commentary on a stated period, shortly after it); ``written``: only in
    articles published then."""
    start, end = span
    inside = frozenset(pid for m in vocabulary.meetings if m.start <= end and m.end >= start
                       for pid in links.meeting_passages.get(m.id, ()))
    boosts = [("time", Boost(label, WINDOW_MEETING, passage_ids=inside, published=written))]
    if lag:
        boosts += [("time", Boost(label, WINDOW_PUBLISHED, window=span, published=written)),
                   ("time", Boost(label, WINDOW_ARTICLE, window=(start, end + PUBLICATION_LAG),
                                  published=written))]
    else:
        boosts.append(("time", Boost(label, WINDOW_ARTICLE, window=span, published=written)))
    return boosts


class QuestionReader:
    """Reads questions against the library's data; reloads its tables when the library
    changes (the caller passes a version, e.g. the index's)."""

    def __init__(self, read: Callable[[], AbstractContextManager[Session]],
                 topic: Vocabulary | None = None) -> None:
        self._read = read
        self._topic = topic
        self._lock = threading.Lock()
        self._version: Hashable = object()
        self._vocabulary: QuestionVocabulary | None = None
        self._links: LinkTables | None = None
        # viewer -> the ids of the experts it may see, at `_version`
        self._seen: dict[int, frozenset[int]] = {}
        # meeting id -> article id -> "before" / "after" / None, at `_version`
        self._side_cache: dict[str, dict[int, str | None]] = {}

    def _tables(self, version: Hashable) -> tuple[QuestionVocabulary, LinkTables]:
        with self._lock:
            if self._vocabulary is None or self._links is None or version != self._version:
                with self._read() as session:
                    experts, meetings = load_experts(session), load_meetings(session)
                    links = load_links(session)
                    publishers = [p for p in session.scalars(
                        select(ArticleRow.publisher).distinct()) if p]
                self._vocabulary = build_question_vocabulary(self._topic or load_vocabulary(),
                                                             experts, meetings, publishers)
                self._links, self._version = links, version
                self._seen.clear()
                self._side_cache.clear()
                log.debug("question reader loaded %d experts, %d meetings", len(experts),
                          len(meetings))
            return self._vocabulary, self._links

    def _experts_seen(self, viewer: int | None, version: Hashable) -> frozenset[int] | None:
        """The ids of the experts the viewer may see (None: every expert), remembered per
        viewer until the library changes."""
        if viewer is None:
            return None
        with self._lock:
            found = self._seen.get(viewer) if version == self._version else None
        if found is None:
            with self._read() as session:
                found = frozenset(session.scalars(expert_ids(viewer)))
            with self._lock:
                if version == self._version:
                    if len(self._seen) >= VIEWERS_KEPT:
                        self._seen.clear()
                    self._seen[viewer] = found
        return found

    def interpret(self, question: str, *, version: Hashable = None,
                  viewer: int | None = None) -> Interpretation:
        """Who, when and which meeting the question means; people only among the experts the
        viewer may see (knowledge/visibility.py; None: every expert)."""
        vocabulary, _ = self._tables(version)
        return interpret(question, vocabulary, self._experts_seen(viewer, version))

    def match_people(self, text: str, *, version: Hashable = None,
                     viewer: int | None = None) -> tuple[PersonReading, ...]:
        """The experts the viewer may see that a name or a description denotes
        (`knowledge.understand.match_people`)."""
        vocabulary, _ = self._tables(version)
        return match_people(text, vocabulary, self._experts_seen(viewer, version))

    def names_in(self, question: str, *, version: Hashable = None
                 ) -> tuple[str, tuple[str, ...]] | None:
        """The names a question carries, alone, when it says more than them (the no-match
        rule checks the question is about more than its names: `QuestionVocabulary.names_in`)."""
        vocabulary, _ = self._tables(version)
        return vocabulary.names_in(question)

    def evidence(self, reading: Interpretation, *, version: Hashable = None) -> Evidence:
        """The ranking evidence of a reading."""
        vocabulary, links = self._tables(version)
        return evidence_for(reading, vocabulary, links,
                            lambda meeting_id: self._sides(meeting_id, version))

    def _sides(self, meeting_id: str, version: Hashable) -> Mapping[int, str | None]:
        """For each article on a meeting, whether it was written before or after it (None:
        unsure): by its date, else by its wording (`split_before_after`, as /summit files
        commentary); remembered until the library changes."""
        _, links = self._tables(version)
        with self._lock:
            found = self._side_cache.get(meeting_id) if version == self._version else None
        if found is not None:
            return found
        found = {}
        ids = links.meeting_articles.get(meeting_id, frozenset())
        with self._read() as session:
            registry = confirmed_meetings(session)
            meeting = next((m for m in registry if m.id == meeting_id), None)
            if meeting is not None and ids:
                unsure = set()
                for aid, start, end in session.execute(
                        select(ArticleRow.id, ArticleRow.published_start,
                               ArticleRow.published_end).where(ArticleRow.id.in_(ids))):
                    if start is None:
                        found[aid] = None
                    elif (end or start) < meeting.start:
                        found[aid] = "before"
                    elif start > meeting.end:
                        found[aid] = "after"
                    else:
                        unsure.add(aid)
                # dated around the meeting ("April 2017" on 27 April): by what it says
                for row in session.scalars(select(ArticleRow).where(ArticleRow.id.in_(unsure))):
                    found[row.id] = split_before_after(
                        meeting, published_date(row), [p.text for p in row.passages],
                        meetings=registry)
        with self._lock:
            if version == self._version:
                self._side_cache[meeting_id] = found
        return found



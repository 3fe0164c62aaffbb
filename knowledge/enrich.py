"""Derived data stored with every article inside its ingestion transaction: the people it names
(experts and the politicians it discusses) and the meetings its passages discuss.

Ingestion (knowledge/ingest.py) runs ``ENRICHERS`` after the article, its passages and its
metadata contributors exist. Every enricher is idempotent: it replaces what an earlier run
derived for the same article, so ``prepare_store`` can re-run them over older articles when
this module's ``ENRICHMENT_VERSION`` changes.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from knowledge.library import Enricher, Library
from knowledge.meetings.linking import MeetingProposal, detect_unknown_meetings, link_passage
from knowledge.meetings.registry import Meeting
from knowledge.meetings.stored import confirmed_meetings, seed_registry
from knowledge.models import PartialDate
from knowledge.people.extract import PersonMention, extract_people
from knowledge.people.names import canonical_person_key, merge_names
from knowledge.people.subjects import Subject, load_subjects
from knowledge.people.voice import passage_voice
from knowledge.store import queries
from knowledge.store.tables import (
    ArticlePersonRow,
    ArticleRow,
    PassageMeetingRow,
    PassagePersonRow,
    PassageRow,
    PersonRow,
)
from knowledge.store.tables import (
    MeetingProposalRow as MeetingProposalRow,
)
from knowledge.text.clean import markdown_to_text

log = logging.getLogger(__name__)

# Bump when extraction or linking changes in a way stored articles should pick up.
ENRICHMENT_VERSION = "1"
STATE_KEY = "enrichment_version"
METADATA = "metadata"  # ArticlePersonRow.evidence of contributors ingestion stored from metadata
SUBJECT = "subject"  # ArticlePersonRow.relation of a politician an article discusses
EXPERT_RELATIONS = ("author", "interviewed", "quoted")

_HTML = re.compile(r"<(?:html|head|body|p|div|article|span|br|a|h[1-6])\b[^>]*>", re.IGNORECASE)


# ----- people ------------------------------------------------------------------------------------

def people_text(article: ArticleRow) -> str:
    """The text people are extracted from: the original (bylines, bio lines and teasers as
    published) unless it is HTML, then the cleaned text; Markdown without its marks."""
    original = article.original_text or ""
    if not original.strip() or _HTML.search(original):
        return article.text
    if (article.extra or {}).get("file_type") == "md":  # "**By Yuri Tanaka, ...**"
        return markdown_to_text(original)
    return original


class _People:
    """People rows looked up for one article's enrichment, by spelling-insensitive key
    ("Dmitri" = "Dmitry"): the names it may need are read in one query (not every person in
    the library); rows are made by `queries.get_or_create_person`, the one way."""

    def __init__(self, session: Session, names: Iterable[str]) -> None:
        self.session = session
        keys = {canonical_person_key(name) for name in names}
        self.by_key: dict[str, PersonRow] = {
            p.key: p for p in session.scalars(select(PersonRow).where(PersonRow.key.in_(keys)))
        } if keys else {}

    def get_or_create(self, name: str, kind: str) -> PersonRow:
        """The person a name denotes, created on first sight with the given kind."""
        key = canonical_person_key(name)
        person = self.by_key.get(key)
        if person is None:
            person = queries.get_or_create_person(self.session, name, kind)
            self.by_key[key] = person
        return person


def _voice_of(name: str, relation: str, role: str | None) -> PersonMention:
    """A mention for a metadata-only contributor: an author's every passage is theirs."""
    return PersonMention(name, relation, role, METADATA,  # type: ignore[arg-type]
                         voice="whole" if relation == "author" else "attributed")


@functools.cache
def _subject_patterns() -> tuple[tuple[Subject, tuple[tuple[str, re.Pattern[str]], ...]], ...]:
    """Per curated subject, each of its forms in order with the pattern that finds it as a
    whole word."""
    return tuple((subject, tuple((form, re.compile(rf"(?<![\w-]){re.escape(form)}(?![\w-])"))
                                 for form in subject.names))
                 for subject in load_subjects())


def _subject_mentions(text: str) -> list[tuple[str, str, str]]:
    """(name, office, the first of its forms the text uses) of every curated politician the
    text names."""
    found = []
    for subject, forms in _subject_patterns():
        # A plain substring test first: most texts name few of them, and a pattern that
        # starts with a look-behind is tried at every position of the text.
        form = next((f for f, pattern in forms if f in text and pattern.search(text)), None)
        if form is not None:
            found.append((subject.name, subject.office, form))
    return found


def extract_people_enricher(session: Session, article: ArticleRow,
                            passages: Sequence[PassageRow]) -> None:
    """Store the experts an article names (merged with its metadata contributors), the passages
    carrying their words, and the politicians it discusses as subjects."""
    curated = bool((article.extra or {}).get("founding"))
    links = list(session.scalars(select(ArticlePersonRow).where(
        ArticlePersonRow.article_id == article.id)))
    for stale in links:
        if stale.evidence != METADATA:
            session.delete(stale)
    metadata = [link for link in links if link.evidence == METADATA]
    passage_ids = [p.id for p in passages]
    if passage_ids:
        session.execute(delete(PassagePersonRow).where(PassagePersonRow.passage_id.in_(passage_ids)))
    session.flush()

    text = people_text(article)
    metadata_authors = () if curated else tuple(
        link.person.name for link in metadata if link.relation == "author")
    mentions = extract_people(text, title=article.title, metadata_authors=metadata_authors)
    display = merge_names([m.name for m in mentions] + [link.person.name for link in metadata])

    def key(name: str) -> str:
        return canonical_person_key(display.get(name, name))

    meta_by_key = {key(link.person.name): link for link in metadata}
    subjects = _subject_mentions(text)
    people = _People(session, [m.name for m in mentions] + [name for name, _, _ in subjects])
    voices: list[tuple[PersonRow, PersonMention]] = []
    records: list[dict[str, Any]] = []
    matched: set[int] = set()
    for mention in mentions:
        found = meta_by_key.get(key(mention.name))
        if found is not None:
            link = found
            # Merge with what ingestion stored from metadata: curated metadata wins on the
            # relation, and any stated metadata role wins over the text's.
            matched.add(link.id)
            if not curated and link.relation != mention.relation:
                link.relation = mention.relation
            link.role = link.role or mention.role
            person, relation = link.person, link.relation
        else:
            person = people.get_or_create(mention.name, "expert")
            if person.kind != "expert":
                log.info("%r is a subject, not an expert; not attributing", mention.name)
                continue
            relation = mention.relation
            session.add(ArticlePersonRow(article_id=article.id, person_id=person.id,
                                      relation=relation, role=mention.role,
                                      evidence=mention.evidence))
        voice = mention if relation == mention.relation else dataclasses.replace(
            mention, relation=relation,  # type: ignore[arg-type]
            voice="whole" if relation == "author" else mention.voice)
        voices.append((person, voice))
        records.append({"name": person.name, "relation": relation,
                        "roles": [r for r in (mention.role, *mention.other_roles) if r],
                        "evidence": mention.evidence, "voice": voice.voice})
    for link in metadata:
        if link.id in matched:
            continue
        if not curated and link.relation == "author":
            # extract_people drops a metadata author whose name appears only in a teaser for
            # another article: a scraper's wrong byline. Prefer no attribution.
            log.warning("dropping metadata author %r of article #%d (named only in a teaser)",
                        link.person.name, article.id)
            session.delete(link)
            continue
        voices.append((link.person, _voice_of(link.person.name, link.relation, link.role)))

    carried: set[tuple[int, int]] = set()
    for person, mention in voices:
        for passage in passages:
            pair = (passage.id, person.id)
            if pair not in carried and passage_voice(passage.text, mention):
                carried.add(pair)
                session.add(PassagePersonRow(passage_id=passage.id, person_id=person.id))

    for name, office, form in subjects:
        person = people.get_or_create(name, SUBJECT)
        if person.kind != SUBJECT:
            continue
        session.add(ArticlePersonRow(article_id=article.id, person_id=person.id, relation=SUBJECT,
                                  role=office, evidence=form))
    article.extra = {**(article.extra or {}), "people": records}
    session.flush()
    log.debug("article #%d: %d experts, %d passages carry their words", article.id,
              len(voices), len(carried))


# ----- meetings ----------------------------------------------------------------------------------

def same_meeting(date_a: str | None, place_a: str | None, date_b: str | None,
                 place_b: str | None) -> bool:
    """Whether two proposals name the same meeting: same place, and dates that agree as far as
    both are known ("2018-09" agrees with "2018-09-10")."""
    if (place_a or "").casefold() != (place_b or "").casefold():
        return False
    if date_a is None or date_b is None:
        return date_a == date_b
    return date_a.startswith(date_b) or date_b.startswith(date_a)


def link_passages(session: Session, passages: Sequence[PassageRow],
                  published: PartialDate | None, registry: Sequence[Meeting]) -> int:
    """Replace the meeting links of some passages; returns how many links were stored."""
    ids = [p.id for p in passages]
    if ids:
        session.execute(delete(PassageMeetingRow).where(PassageMeetingRow.passage_id.in_(ids)))
    return sum(_link_passage(session, passage, published, registry) for passage in passages)


def _link_passage(session: Session, passage: PassageRow, published: PartialDate | None,
                  registry: Sequence[Meeting]) -> int:
    """Store the links of one passage (its old links already deleted); returns how many."""
    count = 0
    for link in link_passage(passage.text, published, registry):
        session.add(PassageMeetingRow(passage_id=passage.id, meeting_id=link.meeting_id,
                                      evidence=link.evidence, confidence=link.confidence))
        count += 1
    return count


def link_meetings_enricher(session: Session, article: ArticleRow,
                           passages: Sequence[PassageRow]) -> None:
    """Link every passage to the confirmed meetings it discusses, and store a proposal (with
    the passage) for each meeting it discusses that the registry lacks."""
    registry = confirmed_meetings(session)
    published = queries.published_date(article)
    ids = [p.id for p in passages]
    if ids:
        session.execute(delete(PassageMeetingRow).where(PassageMeetingRow.passage_id.in_(ids)))
    session.execute(delete(MeetingProposalRow).where(
        MeetingProposalRow.article_id == article.id, MeetingProposalRow.status == "open"))
    known = list(session.execute(select(MeetingProposalRow.date_guess,
                                        MeetingProposalRow.place)).tuples())
    links = proposed = 0
    # Linking and detection read the same mentions of a passage (computed once, one after
    # the other: knowledge/meetings/linking.py keeps the last few).
    for passage in passages:
        links += _link_passage(session, passage, published, registry)
        for proposal in detect_unknown_meetings(passage.text, published, registry):
            if any(same_meeting(proposal.date_guess, proposal.place, d, p) for d, p in known):
                continue
            known.append((proposal.date_guess, proposal.place))
            session.add(_proposal_row(proposal, article.id, passage.id))
            proposed += 1
    session.flush()
    if proposed:
        log.info("article #%d discusses %d meetings the registry lacks: proposed", article.id,
                 proposed)
    log.debug("article #%d: %d meeting links", article.id, links)


def _proposal_row(proposal: MeetingProposal, article_id: int, passage_id: int
                  ) -> MeetingProposalRow:
    return MeetingProposalRow(name=proposal.name, date_guess=proposal.date_guess,
                              place=proposal.place, evidence=proposal.evidence,
                              article_id=article_id, passage_id=passage_id, status="open")


ENRICHERS: list[Enricher] = [extract_people_enricher, link_meetings_enricher]


# ----- start-up ----------------------------------------------------------------------------------

def enrich_article(session: Session, article_id: int) -> None:
    """Run every enricher again over one stored article (replacing what they derived before)."""
    article = session.get(ArticleRow, article_id)
    if article is None:
        return
    passages = list(article.passages)
    for enrich in ENRICHERS:
        enrich(session, article, passages)


def prepare_store(library: Library) -> None:
    """Seed the meeting registry (idempotent), and enrich articles stored before the current
    ENRICHMENT_VERSION (an install older than the enrichers, or a changed extractor)."""
    for attempt in range(3):
        try:
            with library.write() as session:
                seed_registry(session)
            break
        except IntegrityError:  # another process seeded the same rows at the same moment
            if attempt == 2:
                raise
    with library.read() as session:
        if queries.get_state(session, STATE_KEY) == ENRICHMENT_VERSION:
            return
        ids = list(session.scalars(select(ArticleRow.id).order_by(ArticleRow.id)))
    for article_id in ids:
        try:
            with library.write() as session:
                enrich_article(session, article_id)
        except IntegrityError:
            log.warning("article #%d was enriched concurrently; leaving it", article_id)
    try:
        with library.write() as session:
            queries.set_state(session, STATE_KEY, ENRICHMENT_VERSION)
    except IntegrityError:  # another process starting at the same moment recorded it first
        log.info("enrichment version recorded concurrently by another process")
    if ids:
        log.info("enriched %d stored articles (people, meeting links)", len(ids))

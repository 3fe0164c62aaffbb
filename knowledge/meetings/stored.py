"""The meeting registry as stored in the database: seeding it from registry.json, reading the
confirmed meetings back as registry entries, and the topic's places for confirmed proposals."""

from __future__ import annotations

import functools
import logging
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.meetings.registry import Meeting, load_registry, meeting_kinds
from knowledge.meetings.vocabulary import load_places
from knowledge.models import PartialDate
from knowledge.store.tables import MeetingRow

log = logging.getLogger(__name__)


@functools.cache
def _place_countries() -> dict[str, str]:
    """City and country names the linker knows, folded, with the country each is in."""
    places = load_places().values()
    out = {p.name.casefold(): p.country for p in places if not p.is_country}
    out.update({p.name.casefold(): p.country for p in places if p.is_country})
    return out


def country_of(place: str | None) -> str:
    """The country a place is in, as far as places.json knows ("" when unknown)."""
    if not place:
        return ""
    countries = _place_countries()
    if place.casefold() in countries:
        return countries[place.casefold()]
    for part in re.split(r"\s*(?:,|\band\b)\s*", place):
        if part.casefold() in countries:
            return countries[part.casefold()]
    return ""


def _row_values(meeting: Meeting) -> dict[str, object]:
    """Column values of a registry entry."""
    return {
        "name": meeting.name, "date_iso": meeting.date, "date_precision": meeting.date_precision,
        "date_start": meeting.start, "date_end": meeting.end, "place": meeting.place,
        "kind": meeting.kind, "ordinal": meeting.ordinal,
        "participants": list(meeting.participants), "description": meeting.description,
        "aliases": list(meeting.aliases), "status": "confirmed",
    }


def seed_registry(session: Session, meetings: tuple[Meeting, ...] | None = None) -> int:
    """Insert or update the curated registry's meetings; returns how many rows changed.

    Idempotent: a second run changes nothing. Meetings confirmed from proposals are untouched.
    A concurrent seeder may make the flush raise IntegrityError; the caller retries.
    """
    meetings = meetings if meetings is not None else load_registry()
    stored = {row.id: row for row in session.scalars(
        select(MeetingRow).where(MeetingRow.id.in_([m.id for m in meetings])))}
    changed = 0
    for meeting in meetings:
        values = _row_values(meeting)
        row = stored.get(meeting.id)
        if row is None:
            session.add(MeetingRow(id=meeting.id, **values))
            changed += 1
            continue
        differs = {k: v for k, v in values.items() if getattr(row, k) != v}
        for key, value in differs.items():
            setattr(row, key, value)
        changed += bool(differs)
    session.flush()
    if changed:
        log.info("meeting registry: %d meetings added or updated", changed)
    return changed


def meeting_from_row(row: MeetingRow) -> Meeting | None:
    """A stored meeting as a registry entry (None when its date is unknown or malformed)."""
    if not row.date_iso:
        return None
    curated = {m.id: m for m in load_registry()}
    if row.id in curated:
        return curated[row.id]
    try:
        date = PartialDate.parse(row.date_iso)
    except ValueError:
        log.warning("meeting %s has a malformed date %r; skipped", row.id, row.date_iso)
        return None
    date_end = None
    if row.date_end is not None and row.date_end != date.end:
        date_end = row.date_end.isoformat()
    kind = row.kind if row.kind in meeting_kinds() else "other"
    return Meeting(
        id=row.id, name=row.name, date=date.iso, date_precision=date.precision,
        place=row.place or "", country=country_of(row.place), kind=kind,  # type: ignore[arg-type]
        participants=tuple(row.participants or ()), description=row.description or "",
        aliases=tuple(row.aliases or ()), date_end=date_end, ordinal=row.ordinal)


def confirmed_meetings(session: Session) -> list[Meeting]:
    """Every confirmed meeting (curated or confirmed from a proposal), oldest first."""
    rows = session.scalars(select(MeetingRow).where(MeetingRow.status == "confirmed"))
    meetings = [m for m in (meeting_from_row(r) for r in rows) if m is not None]
    return sorted(meetings, key=lambda m: (m.start, m.id))

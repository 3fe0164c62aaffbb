"""What a digest period contains: the new announced articles, grouped by meeting or theme."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from knowledge.models import ArticleSummary, Digest, DigestItem, DigestSection, PartialDate
from knowledge.store import queries
from knowledge.store.tables import (
    ArticleRow,
    DigestRunRow,
    DigestSubscriptionRow,
    MeetingRow,
    PassageMeetingRow,
    PassageRow,
    as_utc,
)
from knowledge.text.clean import shorten
from knowledge.text.split import paragraphs, split_sentences
from knowledge.visibility import first_seen

EXTRACT_CHARS = 300
OTHER_HEADING = "Other new commentary"
# An article is stamped `added_at` when its row is flushed but becomes visible only at commit,
# so one stored just before a period ended can appear after that period was composed. The next
# period looks back this far into the periods earlier runs covered and skips what they announced.
LATE_COMMIT_WINDOW = dt.timedelta(minutes=15)
DONE_STATUSES = ("posted", "empty")  # runs whose period is covered


def new_article_ids(session: Session, subscription_id: int | None, start: dt.datetime,
                    end: dt.datetime, *, guild_id: int | None = None) -> list[int]:
    """Announced articles added in (start, end], minus any an earlier run already covered,
    among those the subscription's server (else ``guild_id``; None: every article) may see
    (knowledge/visibility.py).

    The window reaches back up to LATE_COMMIT_WINDOW before `start` to catch articles committed
    late, but only over time the subscription's earlier periods covered: never before it was
    created or resumed, so an article added before then is in no digest (preview included).
    """
    lower = start
    announced: set[int] = set()
    if subscription_id is not None:
        guild_id = session.scalar(select(DigestSubscriptionRow.guild_id).where(
            DigestSubscriptionRow.id == subscription_id))
        if guild_id is None:  # the subscription is gone: nothing may be shown
            return []
        lower = _covered_since(session, subscription_id, start, start - LATE_COMMIT_WINDOW)
        if lower < start:
            for ids in session.scalars(select(DigestRunRow.article_ids).where(
                    DigestRunRow.subscription_id == subscription_id,
                    DigestRunRow.status.in_(DONE_STATUSES),
                    DigestRunRow.period_end > lower)):
                announced.update(ids or ())
    if guild_id is None:  # every article, at the time it was added
        rows = session.scalars(
            select(ArticleRow.id).where(ArticleRow.announce.is_(True),
                                        ArticleRow.added_at > lower, ArticleRow.added_at <= end)
            .order_by(ArticleRow.added_at, ArticleRow.id))
    else:  # a server's: at the time each reached it (knowledge/visibility.py `first_seen`)
        seen = first_seen(guild_id)
        rows = session.scalars(
            select(ArticleRow.id).join(seen, seen.c.article_id == ArticleRow.id)
            .where(ArticleRow.announce.is_(True), seen.c.seen_at > lower, seen.c.seen_at <= end)
            .order_by(seen.c.seen_at, ArticleRow.id))
    return [aid for aid in rows if aid not in announced]


def _covered_since(session: Session, subscription_id: int, start: dt.datetime,
                   floor: dt.datetime) -> dt.datetime:
    """How far back from `start` (not before `floor`) the subscription's finished runs cover
    time without a gap. `start` itself when no run ends there: a new subscription, or one
    resumed after /digest off, whose time before it started belongs to no digest."""
    covered, floor = as_utc(start), as_utc(floor)
    periods = session.execute(
        select(DigestRunRow.period_start, DigestRunRow.period_end).where(
            DigestRunRow.subscription_id == subscription_id,
            DigestRunRow.status.in_(DONE_STATUSES),
            DigestRunRow.period_end > floor, DigestRunRow.period_end <= start)
        .order_by(DigestRunRow.period_end.desc()))
    for period_start, period_end in periods:
        if as_utc(period_end) != covered:
            break  # a gap: the subscription was paused there
        covered = as_utc(period_start)
        if covered <= floor:
            break
    return max(covered, floor)


def compose(session: Session, article_ids: Iterable[int], start: dt.datetime, end: dt.datetime,
            run_id: int | None = None) -> Digest:
    """The digest of the given articles: meeting sections first (newest meeting first), then
    one section per publisher, then everything else."""
    ids = list(article_ids)
    summaries = queries.article_summaries(session, ids)
    texts = dict(session.execute(select(ArticleRow.id, ArticleRow.text).where(
        ArticleRow.id.in_(ids))).all()) if ids else {}
    meeting_of = _main_meetings(session, ids)
    meetings = {m.id: m for m in session.scalars(select(MeetingRow).where(
        MeetingRow.id.in_(set(meeting_of.values()))))} if meeting_of else {}
    # Sort key: (group, order, name, heading): meetings newest first, then publishers A-Z,
    # then the rest.
    grouped: dict[tuple[int, int, str, str], list[DigestItem]] = defaultdict(list)
    for aid in ids:
        summary = summaries.get(aid)
        if summary is None:  # deleted since it was selected
            continue
        item = _item(summary, texts.get(aid, ""))
        meeting = meetings.get(meeting_of.get(aid, ""))
        if meeting is not None:
            day = meeting.date_start.toordinal() if meeting.date_start else 0
            key = (0, -day, meeting.name.casefold(), _meeting_heading(meeting))
        elif summary.publisher:
            key = (1, 0, summary.publisher.casefold(), summary.publisher)
        else:
            key = (2, 0, "", OTHER_HEADING)
        grouped[key].append(item)
    sections = tuple(
        DigestSection(key[3], tuple(sorted(
            items, key=lambda i: i.published.start if i.published else dt.date.min,
            reverse=True)))
        for key, items in sorted(grouped.items(), key=lambda kv: kv[0]))
    return Digest(period_start=start, period_end=end, sections=sections, run_id=run_id)


def _main_meetings(session: Session, article_ids: list[int]) -> dict[int, str]:
    """Each article's main confirmed meeting: the one most of its passages discuss."""
    if not article_ids:
        return {}
    rows = session.execute(
        select(PassageRow.article_id, PassageMeetingRow.meeting_id,
               func.sum(PassageMeetingRow.confidence), MeetingRow.date_start)
        .join(PassageMeetingRow, PassageMeetingRow.passage_id == PassageRow.id)
        .join(MeetingRow, MeetingRow.id == PassageMeetingRow.meeting_id)
        .where(PassageRow.article_id.in_(article_ids), MeetingRow.status == "confirmed")
        .group_by(PassageRow.article_id, PassageMeetingRow.meeting_id, MeetingRow.date_start))
    best: dict[int, tuple[float, dt.date, str]] = {}
    for article_id, meeting_id, weight, date_start in rows:
        candidate = (float(weight or 0), date_start or dt.date.min, meeting_id)
        if article_id not in best or candidate > best[article_id]:
            best[article_id] = candidate
    return {aid: choice[2] for aid, choice in best.items()}


def _meeting_heading(meeting: MeetingRow) -> str:
    if not meeting.date_iso or not meeting.date_precision:
        return meeting.name
    date = PartialDate(meeting.date_iso, meeting.date_precision)  # type: ignore[arg-type]
    return f"{meeting.name} ({date.display()})"


def _item(summary: ArticleSummary, text: str) -> DigestItem:
    return DigestItem(article_id=summary.id, title=summary.title, publisher=summary.publisher,
                      experts=tuple(summary.experts), published=summary.published,
                      extract=lead_extract(text, summary.title, summary.publisher),
                      url=summary.url)


def _key(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().casefold()


def lead_extract(text: str, title: str | None = None, publisher: str | None = None,
                 limit: int = EXTRACT_CHARS) -> str:
    """The first one or two sentences of an article's body (skipping title and bylines)."""
    skip = {_key(t) for t in (title, publisher) if t}
    for para in paragraphs(text):
        body = " ".join(para.text.split())
        if len(body) < 60 or _key(body) in skip or not re.search(r"[.!?…]", body):
            continue
        sentences = [s.text for s in split_sentences(body)] or [body]
        extract = sentences[0]
        if len(extract) > limit:
            return shorten(extract, limit)
        if len(sentences) > 1 and len(extract) < limit // 2 \
                and len(extract) + 1 + len(sentences[1]) <= limit:
            extract = f"{extract} {sentences[1]}"
        return extract
    return shorten(" ".join(text.split()), limit)


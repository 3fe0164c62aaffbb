"""The ORM tables, in one place. Migrations in knowledge/migrations mirror them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# The largest id a row can have: primary keys are INTEGER, 32-bit on PostgreSQL. A larger number
# names nothing, and the drivers refuse it ("integer out of range"; SQLite past 2**63:
# OverflowError), so lookups answer "not found" without asking the database.
MAX_ROW_ID = 2**31 - 1


def possible_row_id(value: int) -> bool:
    """Whether a stored row could have this id (1 to MAX_ROW_ID)."""
    return 1 <= value <= MAX_ROW_ID


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    """The current time, timezone-aware (the one clock helper; tests pass their own times)."""
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime | None) -> dt.datetime:
    """``value`` as an aware UTC datetime (a naive one is taken to be UTC); now when None."""
    if value is None:
        return utcnow()
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base for every table."""


class SourceRow(Base):
    """Where articles come from: the founding corpus, a file, an article URL or a polled feed."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # seed | file | article | feed
    url: Mapped[str | None] = mapped_column(Text)
    canonical_url: Mapped[str | None] = mapped_column(String(2048), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    guild_id: Mapped[int | None] = mapped_column(BigInteger)
    added_by: Mapped[str | None] = mapped_column(String(200))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    poll_minutes: Mapped[int | None] = mapped_column(Integer)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_fetch_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_new_article_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    failing: Mapped[bool] = mapped_column(Boolean, default=False)
    failing_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    next_poll_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# The guild id that stands for the operator (the command line, the founding corpus) in
# subscriptions and reach rows: Discord ids are never 0, and NULL would defeat the unique keys.
OPERATOR_GUILD = 0


class SourceSubscriptionRow(Base):
    """A server following a source (guild OPERATOR_GUILD: the operator). A feed several servers
    follow is one `SourceRow`, fetched once; each server has its own subscription to remove."""

    __tablename__ = "source_subscriptions"
    __table_args__ = (UniqueConstraint("source_id", "guild_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"),
                                           index=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    added_by: Mapped[str | None] = mapped_column(String(200))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ArticleReachRow(Base):
    """A server an article reached through its sources or uploads (guild OPERATOR_GUILD: the
    operator's library, which every server sees). Ids only grow, so an index picks up new
    reach by id. `reached_at`: when it reached the server (its digests announce it from then);
    NULL when that is the article's own `added_at` (rows from before migration 0006, and an
    existing source's articles a server sees once it follows the source)."""

    __tablename__ = "article_reach"
    __table_args__ = (UniqueConstraint("article_id", "guild_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"),
                                            index=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    reached_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ArticleRow(Base):
    """One stored article: metadata, cleaned text (indexed) and original text (kept)."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    slug: Mapped[str | None] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(Text)
    publisher: Mapped[str | None] = mapped_column(Text)
    published_iso: Mapped[str | None] = mapped_column(String(10))
    published_precision: Mapped[str | None] = mapped_column(String(5))
    published_start: Mapped[dt.date | None] = mapped_column(Date, index=True)
    published_end: Mapped[dt.date | None] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(16), default="en")
    url: Mapped[str | None] = mapped_column(Text)
    canonical_url: Mapped[str | None] = mapped_column(String(2048), unique=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    simhash: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # The fingerprint's four 16-bit quarters (knowledge/text/simhash.py `bands`), set with it:
    # the near-duplicate check looks these up instead of reading every fingerprint.
    simhash_band0: Mapped[int | None] = mapped_column(Integer, index=True)
    simhash_band1: Mapped[int | None] = mapped_column(Integer, index=True)
    simhash_band2: Mapped[int | None] = mapped_column(Integer, index=True)
    simhash_band3: Mapped[int | None] = mapped_column(Integer, index=True)
    text: Mapped[str] = mapped_column(Text)
    original_text: Mapped[str] = mapped_column(Text)
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    announce: Mapped[bool] = mapped_column(Boolean, default=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    passages: Mapped[list[PassageRow]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="PassageRow.ordinal"
    )
    contributors: Mapped[list[ArticlePersonRow]] = relationship(
        back_populates="article", cascade="all, delete-orphan"
    )


class ArticleAppearanceRow(Base):
    """Another sighting of a stored article (same URL, same content, an edit, a republication)."""

    __tablename__ = "article_appearances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(32))  # url | content | near_duplicate | entry_id
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PassageRow(Base):
    """A retrievable chunk of an article with its embedding (float32 bytes) and its sentences'."""

    __tablename__ = "passages"
    __table_args__ = (UniqueConstraint("article_id", "ordinal"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    char_start: Mapped[int] = mapped_column(Integer)
    char_end: Mapped[int] = mapped_column(Integer)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    # [[start, end], ...] of each sentence, relative to `text`, and their vectors (float16).
    sentence_spans: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    sentence_embeddings: Mapped[bytes] = mapped_column(LargeBinary, default=b"")

    article: Mapped[ArticleRow] = relationship(back_populates="passages")


class PersonRow(Base):
    """An expert (or a subject the texts discuss), merged across name variants by `key`."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="expert")  # expert | subject


class ArticlePersonRow(Base):
    """How a person relates to an article (author, interviewed, quoted) and their stated role."""

    __tablename__ = "article_people"
    __table_args__ = (UniqueConstraint("article_id", "person_id", "relation"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    relation: Mapped[str] = mapped_column(String(16))
    role: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)

    article: Mapped[ArticleRow] = relationship(back_populates="contributors")
    person: Mapped[PersonRow] = relationship()


class PassagePersonRow(Base):
    """A passage that carries a person's own words (their article, their interview answers)."""

    __tablename__ = "passage_people"

    passage_id: Mapped[int] = mapped_column(
        ForeignKey("passages.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class MeetingRow(Base):
    """A summit, visit or ministerial meeting: curated, or proposed by an article for review."""

    __tablename__ = "meetings"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    date_iso: Mapped[str | None] = mapped_column(String(10))
    date_precision: Mapped[str | None] = mapped_column(String(5))
    date_start: Mapped[dt.date | None] = mapped_column(Date)
    date_end: Mapped[dt.date | None] = mapped_column(Date)
    place: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32), default="summit")
    ordinal: Mapped[int | None] = mapped_column(Integer)
    participants: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str | None] = mapped_column(Text)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="confirmed")  # confirmed | proposed


class PassageMeetingRow(Base):
    """A passage that discusses a meeting, with the phrase that links them."""

    __tablename__ = "passage_meetings"

    passage_id: Mapped[int] = mapped_column(
        ForeignKey("passages.id", ondelete="CASCADE"), primary_key=True
    )
    meeting_id: Mapped[str] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    evidence: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float, default=1.0)


class MeetingProposalRow(Base):
    """A meeting an article discusses that the registry lacks, waiting for an admin."""

    __tablename__ = "meeting_proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    date_guess: Mapped[str | None] = mapped_column(String(10))
    place: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    passage_id: Mapped[int | None] = mapped_column(ForeignKey("passages.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | confirmed | rejected
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class DigestSubscriptionRow(Base):
    """A channel that asked for digests, with its cron schedule and timezone."""

    __tablename__ = "digest_subscriptions"
    __table_args__ = (UniqueConstraint("guild_id", "channel_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    channel_id: Mapped[int] = mapped_column(BigInteger)
    schedule: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    post_when_empty: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Articles added after this instant are news for the next digest.
    covered_until: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class DigestRunRow(Base):
    """One digest period, claimed before posting and marked posted after (exactly once)."""

    __tablename__ = "digest_runs"
    __table_args__ = (UniqueConstraint("subscription_id", "period_end"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("digest_subscriptions.id", ondelete="CASCADE"), index=True
    )
    period_start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # claimed | posted | empty | failed
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    posted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    article_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    message_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)


class GuildSettingsRow(Base):
    """What one server's admins changed (/config); a None field means the deployment's default."""

    __tablename__ = "guild_settings"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    admin_role: Mapped[str | None] = mapped_column(String(100))
    ask_cooldown_rate: Mapped[int | None] = mapped_column(Integer)
    ask_cooldown_seconds: Mapped[float | None] = mapped_column(Float)
    timezone: Mapped[str | None] = mapped_column(String(64))
    alert_channel_id: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArticleDeletionRow(Base):
    """An article deleted from the library, logged in the deleting transaction: other processes
    drop it from their in-memory index by reading the log past the last id they saw, instead of
    comparing every article id on each refresh."""

    __tablename__ = "article_deletions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(Integer)
    deleted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class IndexStateRow(Base):
    """Key/value facts about the index, such as the embedding model's fingerprint."""

    __tablename__ = "index_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


Index("ix_articles_published_end", ArticleRow.published_end)

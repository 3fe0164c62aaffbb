"""The facade the CLI and the bot open: one `KnowledgeService` holding the library and every
feature service. The question path (`retriever`, `experts`, `meetings`) is built when the
service opens; `sources`, `digests` and `guilds` on first use (once, under a lock), so a process
that only answers questions never imports the fetching, feed-parsing and scheduling code.

Everything here is synchronous. An async caller (the bot, the scheduler) sends any call to a
worker thread with `await service.run(service.experts.get, "togo")`, so the event loop never
waits on the model, the index or the database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import heapq
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal, ParamSpec, TypeVar

from sqlalchemy import delete, func, select

from knowledge import corpus, visibility
from knowledge.corpus.seed import restore_seed
from knowledge.embedding import Embedder
from knowledge.enrich import ENRICHERS, prepare_store
from knowledge.errors import BadInput, ConfigurationError, NotFound
from knowledge.index.hybrid import HybridIndex, publisher_suggested
from knowledge.library import Library, ProgressCallback
from knowledge.meetings.service import MeetingsService
from knowledge.models import AddResult, Article, ArticleSummary, Hit, PartialDate
from knowledge.people.match import expert_ids
from knowledge.people.service import ExpertsService
from knowledge.retrieval import Retriever, SearchRequest, check_period
from knowledge.settings import Settings
from knowledge.store import queries
from knowledge.store.tables import (
    MAX_ROW_ID,
    ArticleDeletionRow,
    ArticleRow,
    PassageRow,
    possible_row_id,
)
from knowledge.text.remote import visible_text
from knowledge.topic_check import use_topic
from knowledge.understand import Interpretation

if TYPE_CHECKING:
    from knowledge.digests.service import DigestService
    from knowledge.guilds import GuildSettingsService
    from knowledge.ingest import Document
    from knowledge.sources.service import SourcesService

P = ParamSpec("P")
T = TypeVar("T")
# What opening does with stored vectors another model made (KnowledgeService.open).
ModelChange = Literal["reembed", "refuse", "rebuild"]


def _newest_first(article: ArticleSummary) -> tuple[dt.date, int]:
    """Sort key, descending: latest publication first, undated last, then newest id."""
    return (article.published.start if article.published else dt.date.min, article.id)


@dataclasses.dataclass(frozen=True, slots=True)
class LibraryStats:
    """Counts for status displays."""

    articles: int
    passages: int
    experts: int
    model_fingerprint: str


class KnowledgeService:
    """The library and its features: questions, browsing, experts, meetings, sources, digests."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self.retriever = Retriever(library)
        self.experts = ExpertsService(library, self.retriever)
        self.meetings = MeetingsService(library, self.retriever)
        self._lazy_lock = threading.Lock()
        self._sources: SourcesService | None = None
        self._digests: DigestService | None = None
        self._guilds: GuildSettingsService | None = None

    # ----- features built on first use ----------------------------------------------------
    @property
    def sources(self) -> SourcesService:
        """Links, feeds and uploads (built on first use: it imports httpx, feedparser, lxml)."""
        with self._lazy_lock:
            if self._sources is None:
                from knowledge.sources.service import SourcesService

                self._sources = SourcesService(self.library)
            return self._sources

    @property
    def digests(self) -> DigestService:
        """Scheduled digests (built on first use: it imports APScheduler's cron triggers)."""
        with self._lazy_lock:
            if self._digests is None:
                from knowledge.digests.service import DigestService

                self._digests = DigestService(self.library)
            return self._digests

    @property
    def guilds(self) -> GuildSettingsService:
        """Per-server settings (built on first use, with the digests' time-zone code)."""
        with self._lazy_lock:
            if self._guilds is None:
                from knowledge.guilds import GuildSettingsService

                self._guilds = GuildSettingsService(self.library)
            return self._guilds

    # ----- opening and closing ------------------------------------------------------------
    @classmethod
    def open(cls, settings: Settings, *, embedder: Embedder | None = None,
             progress: ProgressCallback | None = None, seed: bool = True,
             model_change: ModelChange = "reembed") -> KnowledgeService:
        """Choose the topic (TOPIC_DIR: knowledge/topic.py), migrate the database, store the
        founding corpus if absent (unless FOUNDING_CORPUS says not to), and load the index. A
        new embedded library starts from the shipped seed database when it fits (`corpus.seed`;
        `seed=False`: always store the founding texts).

        When the stored vectors are not the configured model's (`Library.model_mismatch`),
        ``model_change`` says what to do: "reembed" them all now (the bot's start, as
        documented); "refuse" with a ConfigurationError before anything is written (one-off
        commands, which must not rewrite the library because of one command's settings);
        "rebuild": the caller re-embeds next with `rebuild()`, so the index is not loaded."""
        use_topic(settings.topic_dir)  # before anything reads the topic's data
        if seed:
            restore_seed(settings, fingerprint=embedder.fingerprint
                         if embedder is not None else None)
        library = Library.connect(settings, embedder=embedder, enrichers=ENRICHERS)
        try:
            mismatch = library.model_mismatch() if model_change != "reembed" else None
            if mismatch and model_change == "refuse":
                # The bundled model's ONNX file could not be used: say so first, since the
                # "other model" is then only its sentence-transformers stand-in.
                fallback = getattr(library.embedder, "fallback_reason", None)
                because = (f"{fallback}, so the bundled model fell back to "
                           "sentence-transformers; " if fallback else "")
                raise ConfigurationError(
                    f"{because}{mismatch} (EMBEDDING_MODEL, EMBEDDING_BACKEND, "
                    "EMBEDDING_ONNX_FILE): "
                    "this command does not re-embed the library; use the settings the "
                    "library was built with, or re-embed it deliberately with `python -m "
                    "knowledge rebuild` (the bot also does at its next start)")
            prepare_store(library)  # meeting registry seeded, older articles re-enriched
            if settings.loads_founding_corpus:
                corpus.ensure_founding_corpus(library)
            if mismatch:  # "rebuild": every vector is redone next, the index loaded after it
                return cls(library)
            # `progress` may raise to stop a re-embedding between batches (the bot stopping)
            library.ensure_model_matches(progress)
            library.load_index()
        except BaseException:
            library.close()  # connections released whatever stopped the opening
            raise
        return cls(library)

    def close(self) -> None:
        """Stop the question embedding workers, release database connections."""
        self.retriever.close()
        self.library.close()

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a synchronous call in a worker thread (the one way async code calls the library)."""
        return await self.library.run(functools.partial(fn, *args, **kwargs))

    @property
    def settings(self) -> Settings:
        """The library's settings."""
        return self.library.settings

    @property
    def embedder(self) -> Embedder:
        """The library's embedder."""
        return self.library.embedder

    @property
    def index(self) -> HybridIndex:
        """The library's in-memory index."""
        return self.library.index

    # ----- questions ----------------------------------------------------------------------
    def search(self, query: str, *, top: int | None = None, person: str | None = None,
               publisher: str | None = None, since: PartialDate | None = None,
               until: PartialDate | None = None, guild_id: int | None) -> list[Hit]:
        """The best passages for a question, among those ``guild_id`` may see
        (knowledge/visibility.py; None: every one); [] means no good match."""
        return self.retriever.search(SearchRequest(
            query, top or self.settings.search_default_top, person, publisher, since, until,
            guild_id=guild_id))

    def reading(self, query: str, *, person: str | None = None,
                since: PartialDate | None = None, until: PartialDate | None = None,
                guild_id: int | None) -> Interpretation:
        """Who, when and which meeting `search` with the same filters reads the question as
        (the "read as" line): among the experts ``guild_id`` may see, within the filters."""
        return self.retriever.reading(SearchRequest(query, person=person, since=since,
                                                    until=until, guild_id=guild_id))

    # ----- the index ----------------------------------------------------------------------
    def refresh(self) -> int:
        """Pick up passages other processes stored since the last load; returns how many."""
        return self.library.refresh_index()

    def rebuild(self, progress: ProgressCallback | None = None) -> int:
        """Re-embed every passage with the configured model and reload the index."""
        return self.library.rebuild(progress)

    # ----- adding documents (files, links and feeds: service.sources) ---------------------
    def add_document(self, doc: Document, *, label: str | None = None) -> AddResult:
        """Clean, split, embed and store one document; duplicates are reported, not stored."""
        from knowledge.ingest import add_documents

        return add_documents(self.library, [doc], labels=[label])[0]

    def add_documents(self, docs: Sequence[Document], *,
                      labels: Sequence[str | None] | None = None, chunk: int = 32,
                      progress: ProgressCallback | None = None) -> list[AddResult]:
        """Add many documents, embedding them in shared batches; one result per document."""
        from knowledge.ingest import add_documents

        return add_documents(self.library, docs, labels=labels, chunk=chunk, progress=progress)

    # ----- browsing -----------------------------------------------------------------------
    def list_articles(self, *, guild_id: int | None) -> list[ArticleSummary]:
        """Every article ``guild_id`` may see, newest publication first (undated last)."""
        with self.library.read() as session:
            summaries = list(queries.article_summaries(session).values())
        if guild_id is not None:
            allowed = self.library.index.visible_article_ids(guild_id)
            summaries = [a for a in summaries if a.id in allowed]
        return sorted(summaries, key=_newest_first, reverse=True)

    def article_choices(self, typed: str, limit: int = 25, *, guild_id: int | None
                        ) -> list[ArticleSummary]:
        """Up to `limit` articles ``guild_id`` may see whose title contains what was typed
        (case and spacing ignored), newest publication first: autocomplete, answered from the
        index's memory, so a keystroke costs no database read however large the library."""
        needle = " ".join(typed.casefold().split())
        found = [a for a in self.library.index.visible_articles(guild_id)
                 if needle in " ".join((a.title or "").casefold().split())]
        return heapq.nlargest(limit, found, key=_newest_first)

    def publisher_choices(self, typed: str, limit: int = 25, *, guild_id: int | None
                          ) -> list[str]:
        """Up to `limit` publishers of articles ``guild_id`` may see that the publisher filter
        accepts for what was typed, or whose name contains it, alphabetically (autocomplete;
        from memory like `article_choices`). Case and accents do not count: "sudd" offers
        "Süddeutsche Zeitung", which the filter takes for "sudd" too."""
        names = {a.publisher for a in self.library.index.visible_articles(guild_id)
                 if a.publisher and publisher_suggested(typed, a.publisher)}
        return sorted(names, key=str.casefold)[:limit]

    def latest(self, count: int = 5, *, guild_id: int | None) -> list[ArticleSummary]:
        """The most recently added articles ``guild_id`` may see."""
        if not 1 <= count <= 25:
            raise BadInput("count must be between 1 and 25")
        with self.library.read() as session:
            ids = list(session.scalars(select(ArticleRow.id).where(
                visibility.visible(ArticleRow.id, guild_id)).order_by(
                ArticleRow.added_at.desc(), ArticleRow.id.desc()).limit(count)))
            summaries = queries.article_summaries(session, ids)
        return [summaries[i] for i in ids]

    def get_article(self, article_id: int, *, guild_id: int | None) -> Article:
        """One article with its text; NotFound for an unknown id or one ``guild_id`` may not
        see."""
        with self.library.read() as session:
            row = session.get(ArticleRow, article_id) if possible_row_id(article_id) else None
            if row is None or (guild_id is not None and not session.scalar(
                    select(ArticleRow.id).where(ArticleRow.id == article_id,
                                                visibility.visible(ArticleRow.id, guild_id)))):
                raise NotFound(f"no article #{article_id}")
            summary = queries.article_summaries(session, [article_id])[article_id]
            return Article(summary=summary, text=row.text, original_text=row.original_text,
                           passages=tuple(p.text for p in row.passages),
                           passage_ids=tuple(p.id for p in row.passages),
                           passage_starts=tuple(p.char_start for p in row.passages))

    def delete_article(self, article_id: int) -> None:
        """Remove an article and its passages from the store and the index."""
        if not possible_row_id(article_id):
            raise NotFound(f"no article #{article_id}")
        with self.library.write() as session:
            queries.keep_high_water(session)  # its ids are never handed out again
            deleted = session.execute(delete(ArticleRow).where(ArticleRow.id == article_id))
            if not deleted.rowcount:  # type: ignore[attr-defined]
                raise NotFound(f"no article #{article_id}")
            session.add(ArticleDeletionRow(article_id=article_id))  # other processes' refresh
        self.library.index.remove_article(article_id)

    def stats(self, *, guild_id: int | None) -> LibraryStats:
        """Counts of the articles ``guild_id`` may see (every one for None), their passages and
        the experts with such an article (knowledge/visibility.py)."""
        seen = visibility.visible(ArticleRow.id, guild_id)
        with self.library.read() as session:
            articles = session.scalar(select(func.count()).select_from(ArticleRow).where(
                seen)) or 0
            passages = session.scalar(select(func.count()).select_from(PassageRow).join(
                ArticleRow, ArticleRow.id == PassageRow.article_id).where(seen)) or 0
            experts = session.scalar(select(func.count()).select_from(
                expert_ids(guild_id).subquery())) or 0
        return LibraryStats(articles, passages, experts, self.embedder.fingerprint)

    # ----- for the adapters: so they need not reach past the facade ------------------------
    def validate_question(self, text: str, *, what: str = "question") -> str:
        """A question (or a topic: `what`) as `search` reads it; BadInput when it is empty or
        longer than SEARCH_MAX_QUERY_CHARS, so an adapter can refuse it before answering."""
        return self.retriever.validate(text, what)

    @staticmethod
    def check_period(since: PartialDate | None, until: PartialDate | None) -> None:
        """BadInput when `since` is after `until`, as `search` would say it, so an adapter can
        refuse it before answering."""
        check_period(since, until)

    @staticmethod
    def tidy_question(text: str) -> str:
        """Text as `validate_question` reads it (invisible characters gone, whitespace
        collapsed), nothing refused: for text not asked yet, such as a mention of the bot."""
        return visible_text(text)

    @staticmethod
    def max_article_id() -> int:
        """The largest id an article can have (a stored row's, MAX_ROW_ID): adapters bound the
        ids they take by it, so a larger one is refused before it reaches the database."""
        return MAX_ROW_ID

    def warm_up(self) -> None:
        """Load the embedding model now, so the first question does not wait for it."""
        self.embedder.embed(["warm-up"])

    @staticmethod
    def founding_publishers() -> list[str]:
        """The publishers of the founding corpus (the articles every library starts with)."""
        return sorted({meta["publisher"] for meta in corpus.founding_metadata()
                       if meta.get("publisher")})

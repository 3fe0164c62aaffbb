"""Starting `python -m bot` against the fake Discord, and editing a bot's database from a test.

Shared by the multi-process and digest end-to-end tests and by bench/ask_latency.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import sys
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from pathlib import Path

from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.orm import Session

from knowledge.store.tables import ArticleRow, DigestRunRow, DigestSubscriptionRow
from tests.fakes.discord_server import BotProcess, FakeDiscord, StoredMessage
from tests.fakes.world import FakeGuild

REPO = Path(__file__).resolve().parents[2]
# A digest message carries its run in a component's custom_id (bot/replies.py), unseen by readers.
DIGEST_RUN = re.compile(r"(?:read:pick|latest):d(\d+)\.\d+")
START_TIMEOUT = 120.0  # two bots starting at once on a busy 2-core machine
# The fast deterministic embedder and the thresholds that suit its lower cosines (the real model
# is exercised by tests/bot/test_e2e.py; these tests are about processes and time, not ranking).
HASHING = {"EMBEDDING_MODEL": "hashing", "NO_MATCH_THRESHOLD": "0.05",
           "HIT_MIN_SIMILARITY": "0.0", "NO_MATCH_NAMES_MARGIN": "0"}


def bot_env(fake: FakeDiscord, home: Path, database_url: str = "",
            **settings: str) -> dict[str, str]:
    """The environment of a bot process pointed at `fake`, with its data under `home`."""
    env = {
        "DISCORD_TOKEN": fake.token,
        "DISCORD_API_BASE_URL": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "DISCORD_GUILD_READY_TIMEOUT": "0.05",
        "DATA_DIR": str(home / "data"),
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(REPO),
    }
    env.update(settings)
    return env


def bot_process(env: Mapping[str, str], home: Path) -> BotProcess:
    """A `python -m bot` process (not started) running in `home`."""
    home.mkdir(parents=True, exist_ok=True)
    return BotProcess([sys.executable, "-m", "bot"], env=env, cwd=str(home))


@contextlib.asynccontextmanager
async def running_bot(fake: FakeDiscord, env: Mapping[str, str], home: Path, *,
                      guild: int | str | FakeGuild | None = None) -> AsyncIterator[BotProcess]:
    """`python -m bot` started against `fake`, its commands synced (to `guild`, else globally)
    and ready; stopped at the end, which must be clean: exit status 0 and no error lines."""
    process = bot_process(env, home)
    await process.start()
    try:
        await fake.wait_for_commands(guild, timeout=START_TIMEOUT)
        await process.wait_for_output("ready as", timeout=START_TIMEOUT)
        yield process
    finally:
        code = await process.stop(timeout=15)
    assert code == 0, process.output
    assert process.error_lines() == [], process.output


@contextlib.contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server `server_url` points at; dropped afterwards."""
    name = f"summit_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


class BotDatabase:
    """Direct access to a bot's database, for what a test must arrange or check behind its back."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)

    def close(self) -> None:
        """Release connections."""
        self.engine.dispose()

    def article_id(self, title: str) -> int:
        """The id of the stored article with this title."""
        with Session(self.engine) as session:
            found = session.scalar(select(ArticleRow.id).where(ArticleRow.title == title))
        if found is None:
            raise LookupError(f"no article titled {title!r}")
        return found

    def subscription(self, channel_id: int) -> DigestSubscriptionRow:
        """The digest subscription of a channel."""
        with Session(self.engine) as session:
            row = session.scalar(select(DigestSubscriptionRow)
                                 .where(DigestSubscriptionRow.channel_id == channel_id))
        if row is None:
            raise LookupError(f"channel {channel_id} has no digest subscription")
        return row

    def runs(self, channel_id: int) -> list[DigestRunRow]:
        """The digest runs of a channel's subscription, oldest first."""
        sub = self.subscription(channel_id)
        with Session(self.engine) as session:
            return list(session.scalars(select(DigestRunRow).where(
                DigestRunRow.subscription_id == sub.id).order_by(DigestRunRow.id)))

    def backdate(self, delta: dt.timedelta, channel_ids: Iterable[int],
                 article_ids: Iterable[int] = ()) -> None:
        """Move subscriptions' history (created_at, covered_until) and articles' added_at
        `delta` into the past: as if all of it had happened that long ago."""
        with Session(self.engine) as session, session.begin():
            for sub in session.scalars(select(DigestSubscriptionRow).where(
                    DigestSubscriptionRow.channel_id.in_(list(channel_ids)))):
                sub.created_at -= delta
                sub.covered_until -= delta
            for article in session.scalars(select(ArticleRow).where(
                    ArticleRow.id.in_(list(article_ids)))):
                article.added_at -= delta


def daily_schedule_fired(before: dt.timedelta) -> str:
    """A daily cron schedule (UTC) whose latest fire time was about `before` ago."""
    fire = dt.datetime.now(dt.UTC) - before
    return f"{fire.minute} {fire.hour} * * *"


def digest_run(message: StoredMessage) -> int | None:
    """The digest run a message belongs to, from its components; None for other messages."""
    for custom_id in message.custom_ids:
        if match := DIGEST_RUN.fullmatch(custom_id):
            return int(match.group(1))
    return None

"""Moving a library from the embedded SQLite file to another database (PostgreSQL): the
start-up warning about the file left behind, and the copy that moves it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import insert

from knowledge.embedding import HashingEmbedder
from knowledge.errors import ConfigurationError
from knowledge.service import KnowledgeService
from knowledge.settings import Settings
from knowledge.store.db import make_engine
from knowledge.store.left_behind import sqlite_library_left_behind
from knowledge.store.transfer import library_tables, main, transfer
from tests.knowledge.articles import sqlite_library

ELSEWHERE = "postgresql+psycopg://summit:secret@127.0.0.1:1/summitdesk"


def test_a_sqlite_library_left_in_data_dir_is_named_when_database_url_moves(tmp_path: Path
                                                                            ) -> None:
    """DATABASE_URL pointing at PostgreSQL while DATA_DIR still holds a SQLite library with an
    added article: one line naming the file and what it holds (it was silent: the bot started
    a new library); nothing when only the founding articles are there, or with SQLite."""
    data = tmp_path / "data"
    file = sqlite_library(data, added=True)
    moved = Settings(data_dir=data, database_url=ELSEWHERE, _env_file=None)  # type: ignore[call-arg]
    assert sqlite_library_left_behind(moved) == (
        f"DATA_DIR holds a SQLite library, {file.resolve()} (1 article, 1 source added), "
        "but "
        "DATABASE_URL names another database: copy the library over with python -m "
        "knowledge.store.transfer (docs/operations.md, \"Moving a library to PostgreSQL\"), "
        "then move the file out of DATA_DIR (keep it as a backup)")
    assert sqlite_library_left_behind(Settings(data_dir=data, _env_file=None)) is None  # type: ignore[call-arg]
    fresh = tmp_path / "fresh"
    sqlite_library(fresh, added=False)
    assert sqlite_library_left_behind(
        Settings(data_dir=fresh, database_url=ELSEWHERE, _env_file=None)) is None  # type: ignore[call-arg]


def test_the_copy_moves_every_article_and_the_new_database_keeps_adding(
        tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m knowledge.store.transfer` with DATABASE_URL set copies DATA_DIR's SQLite
    library into it, replacing what a first start (`bot check`) stored there: the added article
    is there under its id and searchable, a new article gets a new id (PostgreSQL's sequences
    moved on), and a copy over that library is refused."""
    data = tmp_path / "data"
    sqlite_library(data, added=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(data))
    monkeypatch.setenv("DATABASE_URL", database_url)
    settings = Settings(data_dir=data, database_url=database_url, _env_file=None)  # type: ignore[call-arg]
    KnowledgeService.open(settings, embedder=HashingEmbedder()).close()  # `check` ran first
    started = make_engine(database_url)  # and the bot, which keeps its standing jobs
    try:
        with started.begin() as conn:
            conn.execute(insert(library_tables()[-1]).values(id="maintenance_job",
                                                             job_state=b"state"))
    finally:
        started.dispose()
    assert main([]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("copied 6 articles, "), line
    # the file left in DATA_DIR says where it went (it asked to run the transfer again)
    left = sqlite_library_left_behind(
        Settings(data_dir=data, database_url=ELSEWHERE, _env_file=None))  # type: ignore[call-arg]
    assert left is not None and ", copied to " in left and "move the file out of DATA_DIR" \
        in left and "transfer" not in left, left
    service = KnowledgeService.open(settings, embedder=HashingEmbedder())
    try:
        titles = {a.title: a.id for a in service.list_articles(guild_id=None)}
        assert len(titles) == 6 and "Arctic shipping after the thaw" in titles
        hits = service.search("Northern Sea Route icebreaker escorts", top=1, guild_id=None)
        assert hits and hits[0].article.id == titles["Arctic shipping after the thaw"]
        other = tmp_path / "other.md"
        other.write_text("# Ferry timetables\n\nThe island ferry adds a winter sailing on "
                         "Tuesdays, with a bus link to the airport.\n", encoding="utf-8")
        (result,) = asyncio.run(service.sources.add(str(other), guild_id=None))
        assert result.status == "added" and result.article_id == max(titles.values()) + 1
    finally:
        service.close()
    source = make_engine(f"sqlite:///{data / 'summit-desk.sqlite3'}")
    target = make_engine(database_url)
    try:
        with pytest.raises(ConfigurationError, match="holds a library with more than the "
                                                     "founding articles"):
            transfer(source, target)
    finally:
        source.dispose()
        target.dispose()


def test_no_copy_while_a_bot_runs_on_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A bot holding DATA_DIR's lock: the copy is refused in one line naming it (it went
    through, and what the bot wrote afterwards was lost at the switch)."""
    import subprocess
    import sys

    data = tmp_path / "data"
    sqlite_library(data, added=True)
    hold = ("import sys, time\nfrom pathlib import Path\nfrom knowledge.process_lock import "
            "ProcessLock\nlock = ProcessLock.take(Path(sys.argv[1]), [])\nprint('locked', "
            "flush=True)\ntime.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(data)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("DATA_DIR", str(data))
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'new.sqlite3'}")
        assert main([]) == 2
        error = capsys.readouterr().err.strip()
        assert error == (f"error: a bot runs on DATA_DIR {data.resolve()} (PID {holder.pid} "
                         "(all shards)): stop every bot using either database, then copy")
        assert not (tmp_path / "new.sqlite3").exists()
    finally:
        holder.kill()
        holder.wait()

"""Exactly once across real processes: two racing on one database, and kill -9 mid-digest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from knowledge.service import KnowledgeService
from knowledge.store.tables import DigestRunRow
from tests.knowledge.digests.helpers import DAILY_9, add_article, at, covered_until, runs

REPO = Path(__file__).resolve().parents[3]
WORKER = Path(__file__).with_name("digest_worker.py")
STARTUP_SECONDS = 120  # generous: importing the library on a busy machine can be slow


class Workers:
    """Starts digest_worker.py processes on the test's database and cleans them up."""

    def __init__(self, service: KnowledgeService, tmp: Path) -> None:
        self.service = service
        self.tmp = tmp
        self.channel = tmp / "channel.jsonl"
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, name: str, now: str, *, go: Path | None = None, hang: str | None = None
              ) -> tuple[subprocess.Popen[str], Path]:
        """Start one worker; returns the process and the file it touches once it hangs."""
        settings = self.service.settings
        hanging = self.tmp / f"{name}.hanging"
        args = [sys.executable, str(WORKER), "--database-url", settings.resolved_database_url,
                "--data-dir", str(settings.data_dir), "--now", now,
                "--channel-file", str(self.channel), "--ready", str(self.tmp / f"{name}.ready"),
                "--hanging-flag", str(hanging)]
        if go is not None:
            args += ["--go", str(go)]
        if hang is not None:
            args += ["--hang", hang]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        proc = subprocess.Popen(args, env=env, cwd=self.tmp, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        self.procs.append(proc)
        return proc, hanging

    def finish(self, proc: subprocess.Popen[str]) -> list[dict]:
        """Wait for a worker to exit cleanly; returns its outcomes."""
        out, err = proc.communicate(timeout=STARTUP_SECONDS)
        assert proc.returncode == 0, err
        return json.loads(out.strip().splitlines()[-1])

    def posted(self) -> list[dict]:
        """Every digest written to the channel file."""
        if not self.channel.exists():
            return []
        return [json.loads(line) for line in self.channel.read_text().splitlines()]

    def close(self) -> None:
        """Kill any worker still running."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll in 20 ms steps until `condition()` holds."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.fixture
def workers(hashing_service: KnowledgeService, tmp_path: Path) -> Iterator[Workers]:
    """Worker processes on the test's database."""
    pool = Workers(hashing_service, tmp_path)
    yield pool
    pool.close()


def test_two_processes_racing_for_a_due_period_post_it_once(
        hashing_service: KnowledgeService, workers: Workers, tmp_path: Path) -> None:
    """Two processes released at the same instant, both seeing the period due: one line."""
    sub = hashing_service.digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    article = add_article(hashing_service, "Raced for", at(1, 8, 30))
    go = tmp_path / "go"
    first, _ = workers.start("a", at(1, 9, 0, 1).isoformat(), go=go)
    second, _ = workers.start("b", at(1, 9, 0, 1).isoformat(), go=go)
    wait_for(lambda: (tmp_path / "a.ready").exists() and (tmp_path / "b.ready").exists(),
             "both workers to open the service")
    go.touch()
    outcomes = workers.finish(first) + workers.finish(second)
    assert [o["status"] for o in outcomes] == ["posted"]
    assert [p["articles"] for p in workers.posted()] == [[article]]
    (run,) = runs(hashing_service)
    assert run.status == "posted" and run.message_ids == [1]
    assert covered_until(hashing_service, sub.id) == at(1, 9)


@pytest.mark.parametrize("hang", ["before-post", "after-post"])
def test_kill_9_between_claim_and_mark_then_restart_posts_exactly_once(
        hashing_service: KnowledgeService, workers: Workers, hang: str) -> None:
    """A process SIGKILLed after claiming (before or after its post reached the channel):
    the restarted process posts the digest only if it is not there, so the channel ends
    with exactly one copy; a further restart posts nothing."""
    sub = hashing_service.digests.subscribe(1, 10, DAILY_9, now=at(1, 8))
    article = add_article(hashing_service, "Survives the crash", at(1, 8, 30))
    doomed, hanging = workers.start("doomed", at(1, 9, 0, 1).isoformat(), hang=hang)
    wait_for(hanging.exists, "the worker to reach the poster")
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait()  # reaped: its PID is gone, so the claim's owner is known dead
    with hashing_service.library.read() as session:
        (run,) = session.scalars(select(DigestRunRow))
        assert run.status == "claimed" and f"|{doomed.pid}|" in (run.claimed_by or "")
    # Restart one minute later, well inside the claim lease: the dead owner is recognised.
    restarted, _ = workers.start("restarted", at(1, 9, 1).isoformat())
    (outcome,) = workers.finish(restarted)
    assert outcome["status"] == ("posted" if hang == "before-post" else "recovered")
    assert [p["articles"] for p in workers.posted()] == [[article]]
    again, _ = workers.start("again", at(1, 9, 2).isoformat())
    assert workers.finish(again) == []
    assert len(workers.posted()) == 1
    (run,) = runs(hashing_service)
    assert run.status == "posted" and run.message_ids == [1]
    assert covered_until(hashing_service, sub.id) == at(1, 9)

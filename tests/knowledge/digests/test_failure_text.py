"""What server admins see of a digest that failed unexpectedly (a bug, not a poster's
explanation): a generic sentence in /digest list and the CLI's `digest list`; the exception's
class, text and traceback only in the operator's log."""

from __future__ import annotations

import json
import logging

import pytest

from knowledge.cli import main as cli_main
from knowledge.errors import INTERNAL_ERROR
from knowledge.models import Digest
from knowledge.service import KnowledgeService
from tests.knowledge.digests.helpers import DAILY_9, add_article, at, runs

SECRET = "db host secret-host"


async def leaky(channel_id: int, digest: Digest, run_id: int) -> list[int]:
    """A poster failing with an exception whose text names infrastructure."""
    raise OSError(SECRET)


async def test_an_unexpected_failure_is_stored_and_listed_without_its_text(
        hashing_service: KnowledgeService, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    """An OSError from the poster: the run, the outcome, the subscription listing and the
    CLI's `digest list` (text and --json) carry the generic sentence; the log has the rest."""
    digests = hashing_service.digests
    digests.subscribe(1, 10, DAILY_9, "UTC", now=at(1, 8))
    add_article(hashing_service, "Never posted", at(1, 8, 30))
    with caplog.at_level(logging.WARNING, logger="knowledge.digests"):
        (outcome,) = await digests.run_due(leaky, now=at(1, 9))
    assert outcome.status == "failed" and outcome.unexpected
    assert outcome.error == INTERNAL_ERROR
    (run,) = runs(hashing_service)
    assert run.error == INTERNAL_ERROR
    (sub,) = digests.subscriptions(1, now=at(1, 9, 1))
    assert sub.last_error == INTERNAL_ERROR
    assert "OSError" in caplog.text and SECRET in caplog.text and "Traceback" in caplog.text

    settings = hashing_service.settings
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("EMBEDDING_MODEL", "hashing")
    capsys.readouterr()
    assert cli_main(["digest", "list"]) == 0
    out = capsys.readouterr().out
    assert INTERNAL_ERROR in out and SECRET not in out and "OSError" not in out, out
    assert cli_main(["digest", "list", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["last_error"] == INTERNAL_ERROR

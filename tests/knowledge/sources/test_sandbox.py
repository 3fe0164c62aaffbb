"""The extraction sandbox: time and memory limits per document, workers killed and replaced."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator

import pytest

from knowledge.sources.encoding import decode_bytes
from knowledge.sources.errors import ExtractionError, UploadError
from knowledge.sources.extract import extract_article
from knowledge.sources.sandbox import ExtractionLimits, Sandbox
from tests.hostile import workloads

QUICK = ExtractionLimits(timeout=1.0, memory_mb=512)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A private pool of one worker, stopped after the test."""
    pool = Sandbox(workers=1)
    yield pool
    pool.close()


def test_result_comes_back_from_a_reused_worker(sandbox: Sandbox) -> None:
    """A task's return value arrives; the next task runs in the same (reused) worker."""
    first = sandbox.run(workloads.chatty, "hello", limits=QUICK, what="page")
    assert sandbox.run(workloads.chatty, "again", limits=QUICK, what="page") == first


def test_a_task_over_its_time_is_stopped_and_its_worker_replaced(sandbox: Sandbox) -> None:
    """Runaway work ends at the limit with the user-facing message; the pool keeps working."""
    before = sandbox.run(workloads.chatty, "before", limits=QUICK, what="page")
    with pytest.raises(ExtractionError) as caught:
        sandbox.run(workloads.spin, 30.0, limits=QUICK, what="page")
    assert caught.value.message == "this page is too complex to extract (it took longer than 1 s)"
    after = sandbox.run(workloads.chatty, "after", limits=QUICK, what="page")
    assert after != before


def test_a_task_over_its_memory_is_refused(sandbox: Sandbox) -> None:
    """An allocation past the worker's address-space cap becomes a clear refusal."""
    with pytest.raises(ExtractionError) as caught:
        sandbox.run(workloads.allocate, 2048, limits=QUICK, what="PDF")
    assert caught.value.message == ("this PDF is too complex to extract (it needs more memory "
                                    "than allowed)")
    assert sandbox.run(workloads.allocate, 16, limits=QUICK, what="PDF") == 16 * 1024 * 1024


def test_user_facing_errors_pass_through_unchanged(sandbox: Sandbox) -> None:
    """A reader's own refusal (a KnowledgeError) reaches the caller as the same type and text."""
    with pytest.raises(UploadError, match=r"^report\.pdf is password-protected$"):
        sandbox.run(workloads.refuse, "report.pdf is password-protected", limits=QUICK,
                    what="PDF")


def test_a_parser_failure_refuses_the_input_and_logs_the_traceback(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture,
) -> None:
    """Any other exception refuses this input only; the operator's log has the worker's trace."""
    with caplog.at_level(logging.ERROR, logger="knowledge.sources.sandbox"), \
            pytest.raises(ExtractionError) as caught:
        sandbox.run(workloads.broken, limits=QUICK, what="page")
    assert caught.value.message == ("could not extract this page (the extractor failed on it; "
                                    "details are in the operator's log)")
    assert "ZeroDivisionError: a bug in a reader" in caplog.text
    assert sandbox.run(workloads.allocate, 1, limits=QUICK, what="page") == 1024 * 1024


def test_worker_log_lines_reach_the_operators_log(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture,
) -> None:
    """What a worker logs is logged again in the calling process, under the same logger."""
    with caplog.at_level(logging.INFO):
        sandbox.run(workloads.chatty, "from the worker", limits=QUICK, what="page")
    assert [(r.name, r.getMessage()) for r in caplog.records
            if r.name == workloads.__name__] == [(workloads.__name__,
                                                  "worker says from the worker")]


def test_a_parsers_errors_about_a_bad_page_are_not_the_operators_errors(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Random bytes served as HTML: trafilatura's "empty HTML tree" ERROR lines come back at
    INFO (the page's refusal is the caller's one line); the extraction itself still answers."""
    data = bytes(random.Random(1).choice(range(1, 256)) for _ in range(20_000))
    # trafilatura's own level too: setup_logging (run by an earlier test) sets it to WARNING.
    with caplog.at_level(logging.DEBUG), caplog.at_level(logging.DEBUG, logger="trafilatura"):
        article = extract_article(decode_bytes(data, None, markup=True).text,
                                  "http://127.0.0.1/noise.html")
    assert article.text == ""
    parsers = [r for r in caplog.records if r.name.startswith("trafilatura")]
    assert any("empty HTML tree" in r.getMessage() for r in parsers)  # seen with -v
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []

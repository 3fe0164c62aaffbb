"""`python -m knowledge`: search, add, list, show, rebuild through the real entry point."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def run(args: list[str], env: dict[str, str], timeout: float = 120
        ) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a subprocess with an isolated environment."""
    return subprocess.run([sys.executable, "-m", "knowledge", *args], capture_output=True,
                          text=True, env=env, timeout=timeout, cwd=env["DATA_DIR"])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A fresh data dir and the fast test embedder (real-model runs override it)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_"))}
    base.update(DATA_DIR=str(tmp_path), EMBEDDING_MODEL="hashing:256", NO_MATCH_THRESHOLD="0.05", NO_MATCH_NAMES_MARGIN="0",
                NO_MATCH_LEXICAL_FLOOR="0.05", HIT_MIN_SIMILARITY="0", PYTHONPATH=str(REPO))
    return base


@pytest.mark.model
def test_sample_question_puts_valdai_2019_first(env: dict[str, str]) -> None:
    """The issue's sample question, on a fresh install with the real model, ranks Valdai 2019 first."""
    real = {k: v for k, v in env.items() if k not in ("EMBEDDING_MODEL", "NO_MATCH_THRESHOLD",
                                                      "NO_MATCH_LEXICAL_FLOOR",
                                                      "NO_MATCH_NAMES_MARGIN",
                                                      "HIT_MIN_SIMILARITY")}
    out = run(["search", "what did the experts expect from the Moscow summit in January 2019",
               "--json"], real)
    assert out.returncode == 0, out.stderr
    hits = json.loads(out.stdout)
    assert hits[0]["title"] == "Abe-Putin Summit in Moscow: No Sensations, Moderation Prevails"
    for key in ("article_id", "title", "publisher", "authors", "published", "url", "passage",
                "highlight", "score"):
        assert key in hits[0]
    assert hits[0]["published"] == "2019-01" and hits[0]["url"] is None
    empty = run(["search", "How long should I bake sourdough bread?", "--json"], real)
    assert json.loads(empty.stdout) == []


def test_queries_file_prints_json_lines(env: dict[str, str], tmp_path: Path) -> None:
    """--queries-file answers each line with one JSON line: an array of hits, or an error
    object for a line that cannot be asked (an empty line as "search ''" would be)."""
    queries = tmp_path / "q.txt"
    queries.write_text("Kuril islands joint economic activities\n\nsanctions after Crimea\n" +
                       "x" * 600 + "\n", encoding="utf-8")
    out = run(["search", "--queries-file", str(queries), "--json"], env)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(lines) == 4
    assert lines[0] and lines[1] == {"error": "the question is empty", "query": ""}
    assert lines[2] and "too long" in lines[3]["error"]
    # --explain: each line is {interpreted, hits}, as one question's is
    explained = run(["search", "--queries-file", str(queries), "--json", "--explain"], env)
    rows = [json.loads(line) for line in explained.stdout.splitlines()]
    assert rows[0]["hits"] == lines[0] and "interpreted" in rows[0]
    assert [h["article_id"] for h in rows[2]["hits"]] == [h["article_id"] for h in lines[2]]


def test_an_overlong_query_line_is_refused_unread_and_echoed_short(
        env: dict[str, str], tmp_path: Path) -> None:
    """A 5 MB line in --queries-file is refused as too long without being held (read in
    bounded pieces), its echo cut to 200 characters; the lines around it are answered."""
    queries = tmp_path / "q.txt"
    with queries.open("w", encoding="utf-8") as file:
        file.write("Kuril islands joint economic activities\n" + "b" * 5_000_000
                   + "\nsanctions after Crimea\n" + "c" * 700 + "\n")
    out = run(["search", "--queries-file", str(queries), "--json"], env)
    assert out.returncode == 0, out.stderr
    assert len(out.stdout) < 20_000
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(lines) == 4 and lines[0] and lines[2]
    assert lines[1]["error"].startswith("the question is too long")
    assert lines[1]["query"] == "b" * 199 + "…"
    assert "too long" in lines[3]["error"] and len(lines[3]["query"]) == 200


def test_a_queries_file_that_is_a_stream_of_bytes_stops_in_one_line(
        env: dict[str, str]) -> None:
    """/dev/urandom as --queries-file: one "not UTF-8" line and exit 2 at once (it was read
    whole, past 20 GB)."""
    out = run(["search", "--queries-file", "/dev/urandom", "--json"], env, timeout=60)
    assert out.returncode == 2
    assert "not UTF-8 text" in out.stderr.strip().splitlines()[-1]


def test_a_queries_file_has_a_bounded_number_of_lines(env: dict[str, str], tmp_path: Path
                                                      ) -> None:
    """Past MAX_QUERY_LINES lines the answers stop with one error line (exit 2)."""
    queries = tmp_path / "q.txt"
    queries.write_text("\n" * 10_001, encoding="utf-8")
    out = run(["search", "--queries-file", str(queries), "--json"], env)
    assert out.returncode == 2
    assert len(out.stdout.splitlines()) == 10_000
    assert "more than 10,000 lines" in out.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("args,needle", [
    (["search", "x", "--since", "2019-13"], "month must be in 1..12"),
    (["search"], "give either a QUERY or --queries-file"),
    (["search", "x" * 600], "too long"),
    (["search", "islands", "--person", "nobody known"], "no expert matches"),
    (["show", "999"], "no article #999"),
    (["add", "/does/not/exist.txt"], "no such file"),
])
def test_user_mistakes_exit_nonzero_with_one_line(env: dict[str, str], args: list[str],
                                                  needle: str) -> None:
    """User errors exit non-zero with a clear line on stderr and no traceback."""
    out = run(args, env)
    assert out.returncode != 0
    assert needle in out.stderr + out.stdout
    assert "Traceback" not in out.stderr


def test_add_twice_list_and_show(env: dict[str, str], tmp_path: Path) -> None:
    """Adding the same file twice says so the second time; list and show see the article."""
    article = tmp_path / "note.md"
    article.write_text("# A note on Arctic ports\n\n" + "Icebreakers and dredging decide how "
                       "fast the northern route grows. " * 6, encoding="utf-8")
    first = run(["add", str(article), "--json"], env)
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout.splitlines()[0])
    assert result["status"] == "added"
    second = run(["add", str(article), "--json"], env)
    again = json.loads(second.stdout.splitlines()[0])
    assert again["status"] == "duplicate" and "already in the library" in again["message"]
    listing = json.loads(run(["list", "--json"], env).stdout)
    assert len(listing) == 6
    shown = run(["show", str(result["article_id"])], env)
    assert "A note on Arctic ports" in shown.stdout


def test_rebuild_shows_progress(env: dict[str, str]) -> None:
    """rebuild re-embeds every passage with a progress bar on stderr: counted against the
    total in "passages" from the start, its finished line drawn once."""
    out = run(["rebuild"], env)
    assert out.returncode == 0, out.stderr
    count = int(out.stdout.split("rebuilt the index: ")[1].split()[0])
    lines = [line for line in out.stderr.splitlines() if line]  # tqdm's \r as newlines
    assert lines[0] == f"re-embedding:   0%|          | 0/{count} [00:00<?, ? passages/s]"
    assert lines[-1].startswith("re-embedding: 100%|") and f"| {count}/{count} [" in lines[-1]
    assert lines[-1].endswith(" passages/s]")
    assert out.stderr.count("100%") == 1, out.stderr


def test_a_command_never_re_embeds_the_library_for_another_model(env: dict[str, str]) -> None:
    """A one-off command with another embedding model (EMBEDDING_ONNX_FILE=/wrong.onnx falls
    back to torch) is refused in one line, exit 2, naming both models and `rebuild`: before,
    it re-embedded the whole library and the next normal command re-embedded it back.
    `rebuild` re-embeds deliberately, once."""
    assert run(["list"], env).returncode == 0
    db = Path(env["DATA_DIR"]) / "summit-desk.sqlite3"
    other = {**env, "EMBEDDING_MODEL": "hashing:128"}
    for command in (["search", "Kuril islands"], ["list"], ["expert", "togo"],
                    ["summits"], ["add", str(REPO / "README.md")]):
        out = run(command, other)
        assert out.returncode == 2, (command, out.stderr)
        assert out.stderr.splitlines() == [
            "error: the library's vectors were made with hashing:256; the configured model is "
            "hashing:128 (EMBEDDING_MODEL, EMBEDDING_BACKEND, EMBEDDING_ONNX_FILE): this "
            "command does not re-embed the library; use the settings the library was built "
            "with, or re-embed it deliberately with `python -m knowledge rebuild` (the bot "
            "also does at its next start)"], command
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT value FROM index_state WHERE key = 'model_fingerprint'"
                            ).fetchone() == ("hashing:256",)
        assert {len(row[0]) for row in conn.execute("SELECT embedding FROM passages")} \
            == {256 * 4}
    rebuilt = run(["rebuild", "--json"], other)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert json.loads(rebuilt.stdout)["embedder"] == "hashing:128"
    assert "model changed" not in rebuilt.stderr  # re-embedded once, by rebuild itself
    assert run(["search", "Kuril islands"], other).returncode == 0


def _counts(db: Path) -> tuple[int, int, set[int]]:
    with sqlite3.connect(db) as conn:
        articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        passages = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
        per_article = {row[0] for row in conn.execute(
            "SELECT count(*) FROM passages GROUP BY article_id")}
    return articles, passages, per_article


def test_killing_add_midway_leaves_the_library_as_it_was(env: dict[str, str],
                                                         tmp_path: Path) -> None:
    """SIGKILL at any moment of `add` leaves either the whole article or nothing."""
    assert run(["list"], env).returncode == 0  # seed the library first
    db = Path(env["DATA_DIR"]) / "summit-desk.sqlite3"
    before = _counts(db)
    big = tmp_path / "big.txt"
    sentences = [f"Paragraph {i} sentence {j} discusses port number {i * 31 + j} and its cranes."
                 for i in range(1500) for j in range(6)]
    big.write_text("A very long report\n\n" + "\n\n".join(
        " ".join(sentences[k:k + 6]) for k in range(0, len(sentences), 6)), encoding="utf-8")
    outcomes = set()
    for delay in (0.5, 1.0, 1.5, 2.0, 2.5, 3.0):
        proc = subprocess.Popen([sys.executable, "-m", "knowledge", "add", str(big)],
                                env=env, cwd=env["DATA_DIR"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        articles, passages, _ = _counts(db)
        if articles == before[0]:
            assert passages == before[1]
            outcomes.add("nothing")
        else:
            assert articles == before[0] + 1
            outcomes.add("whole")
            break
    # Whatever happened, the library still answers and the big article, if there, is whole.
    finish = run(["add", str(big), "--json"], env)
    status = json.loads(finish.stdout.splitlines()[0])["status"]
    assert status in ("added", "duplicate")
    assert status == "added" or "whole" in outcomes
    assert "nothing" in outcomes or "whole" in outcomes
    articles, passages, _ = _counts(db)
    assert articles == before[0] + 1
    assert passages > before[1] + 500

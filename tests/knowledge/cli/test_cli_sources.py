"""`python -m knowledge add/sources/poll` in a subprocess, against the local fake web server,
including when something goes wrong."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.web_server import FIXTURES, FakeWeb

REPO = Path(__file__).resolve().parents[3]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a subprocess with an isolated environment."""
    return subprocess.run([sys.executable, "-m", "knowledge", *args], capture_output=True,
                          text=True, env=env, timeout=180, cwd=env["DATA_DIR"])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A fresh data dir, the fast test embedder, and fetches allowed to reach 127.0.0.1."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("DISCORD_", "DATABASE_", "LOG_"))}
    base.update(DATA_DIR=str(tmp_path), EMBEDDING_MODEL="hashing:256",
                FETCH_ALLOW_PRIVATE_ADDRESSES="true", PYTHONPATH=str(REPO))
    return base


@pytest.fixture
def web() -> Iterator[FakeWeb]:
    """The local fake web server."""
    with FakeWeb() as server:
        yield server


def test_add_json_prints_one_result_per_input(env: dict[str, str], web: FakeWeb) -> None:
    """Several inputs give one JSON object each, in order; any error makes the exit status 2."""
    inputs = [web.url("article.html"), web.url("summary-rss.xml"), web.url("status/404"),
              str(FIXTURES / "uploads" / "brief.md")]
    out = run(["add", *inputs, "--json"], env)
    assert out.returncode == 2, out.stderr
    results = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["input"] for r in results] == inputs
    assert [r["status"] for r in results] == ["added", "added", "error", "added"]
    assert results[1]["message"].startswith("following feed #")
    assert results[2]["message"] == "127.0.0.1 answered 404 Not Found"
    assert set(results[0]) == {"input", "status", "message", "article_id", "title", "passages"}

    again = run(["add", "--feed", web.url("summary-rss.xml"), "--json"], env)
    assert again.returncode == 0, again.stderr
    assert "already following this feed" in json.loads(again.stdout)["message"]


def test_sources_and_poll_show_and_poll_feeds(env: dict[str, str], web: FakeWeb) -> None:
    """`sources --json` lists each source's status; `poll` polls due feeds, `--source` one now."""
    assert run(["add", web.url("rss.xml"), web.url("posts/summit-1.html")], env).returncode == 0
    listing = json.loads(run(["sources", "--json"], env).stdout)
    assert [(s["kind"], s["articles"]) for s in listing] == [("article", 1), ("feed", 3)]
    feed = listing[1]
    assert feed["next_poll_at"] and feed["last_fetch_at"] and feed["failing"] is False

    due = run(["poll", "--json"], env)
    assert (due.returncode, due.stdout) == (0, "")  # nothing is due an hour ahead
    now = run(["poll", "--source", str(feed["id"]), "--json"], env)
    assert now.returncode == 0, now.stderr
    assert json.loads(now.stdout)["status"] == "not_modified"

    text = run(["sources"], env).stdout
    assert f"#{feed['id']} [feed, ok] Harbour Institute: Commentary — 3 articles" in text
    removed = run(["sources", "--remove", str(feed["id"]), "--json"], env)
    assert [s["active"] for s in json.loads(removed.stdout)] == [True, False]


# ----- when something goes wrong: one line on stderr, exit status 2, no tracebacks or
# internal log lines; a deferred feed entry really retried

LATE_FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Late Notes</title><link>/</link><description>d</description>
<item><title>Notes Written Late</title><link>/late.html</link><guid>/late.html</guid>
<pubDate>Mon, 01 Jul 2019 06:00:00 GMT</pubDate><description>A teaser. Read more…</description>
</item></channel></rss>
"""

def damaged_pdf(path: Path) -> Path:
    """The fixture report with its cross-reference table broken: pypdf warns, then gives up."""
    data = (FIXTURES / "report.pdf").read_bytes()
    path.write_bytes(data.replace(b"xref", b"xxxx", 1))
    return path


def test_add_errors_are_one_line_each_on_stderr(env: dict[str, str], tmp_path: Path) -> None:
    """A binary file and a damaged PDF each give one error line on stderr (no pypdf or
    operator warnings), nothing on stdout, and exit status 2."""
    blob = tmp_path / "blob.dat"
    blob.write_bytes(bytes(range(256)) * 4)
    pdf = damaged_pdf(tmp_path / "damaged.pdf")
    out = run(["add", str(blob), str(pdf)], env)
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.splitlines() == [
        f"{blob}: error: unsupported file type: .dat (send .txt, .md, .html or .pdf)",
        f"{pdf}: error: could not read damaged.pdf: the PDF looks damaged",
    ]


def test_add_json_errors_stay_on_stdout(env: dict[str, str], tmp_path: Path) -> None:
    """With --json every result, errors included, is a JSON line on stdout; stderr is quiet."""
    pdf = damaged_pdf(tmp_path / "damaged.pdf")
    out = run(["add", str(pdf), "--json"], env)
    assert out.returncode == 2
    assert out.stderr == ""
    assert json.loads(out.stdout)["status"] == "error"


def test_malformed_links_are_one_line_errors(env: dict[str, str]) -> None:
    """An unclosed IPv6 bracket or a port out of range is "not a valid link", exit 2, with no
    traceback (plain and JSON)."""
    plain = run(["add", "http://[::1"], env)
    assert plain.returncode == 2
    assert plain.stdout == ""
    [line] = plain.stderr.splitlines()
    assert line.startswith("http://[::1: error: not a valid link")

    as_json = run(["add", "http://127.0.0.1:99999/", "--json"], env)
    assert as_json.returncode == 2
    assert as_json.stderr == ""
    message = json.loads(as_json.stdout)["message"]
    assert message.startswith("not a valid link (port out of range)")


def test_links_in_other_schemes_are_told_web_links_only(env: dict[str, str]) -> None:
    """`add data:...` or `add javascript:...` is told that only http(s) links can be added, as
    the bot tells it, not "no such file"."""
    out = run(["add", "--json", "data:text/html,<h1>x</h1>", "javascript:alert(1)"], env)
    assert out.returncode == 2 and out.stderr == ""
    messages = [json.loads(line)["message"] for line in out.stdout.splitlines()]
    assert len(messages) == 2
    assert all(m.startswith("only links starting with http:// or https:// can be added")
               for m in messages), messages


def test_malformed_host_names_are_one_line_errors(env: dict[str, str]) -> None:
    """Host names DNS cannot hold (a label over 63 characters, an empty label, invalid IDNA)
    are "bad host name", exit 2, with no traceback or ERROR line."""
    links = [f"http://{'a' * 64}.com/", "http://a..b/", "http://.example/", "http://xn--ls8h.la/"]
    out = run(["add", "--json", *links], env)
    assert out.returncode == 2
    assert out.stderr == ""
    messages = [json.loads(line)["message"] for line in out.stdout.splitlines()]
    assert len(messages) == 4
    assert all(m.startswith("not a valid link (bad host name)") for m in messages), messages


def test_a_failed_poll_exits_2_with_one_line(env: dict[str, str], web: FakeWeb) -> None:
    """`poll --source N` on a feed that now fails prints one line on stderr and exits 2, on
    every try, the one that makes it failing included (no notifier warnings)."""
    web.route("feed.xml", LATE_FEED, "application/rss+xml")
    added = run(["add", web.url("feed.xml"), "--feed", "--json"], env)
    assert json.loads(added.stdout)["status"] == "added", added.stdout
    web.route("feed.xml", "gone", status=404)
    for _ in range(3):  # FAILING_AFTER: the third failure would notify the admins
        out = run(["poll", "--source", "1"], env)
        assert out.returncode == 2
        assert out.stdout == ""
        assert out.stderr == "#1 failed: 127.0.0.1 answered 404 Not Found\n"
    # `sources` says the last fetch failed and when one last worked (the add's)
    [status] = json.loads(run(["sources", "--json"], env).stdout)
    worked = dt.datetime.fromisoformat(status["last_success_at"])
    assert worked < dt.datetime.fromisoformat(status["last_fetch_at"])
    assert f"it failed; last worked {worked:%Y-%m-%d %H:%M} UTC" in run(["sources"], env).stdout


def test_a_deferred_entry_is_read_on_the_next_poll(env: dict[str, str], web: FakeWeb) -> None:
    """An entry reported "(will retry)" is stored by the next `poll` though the feed is
    unchanged (no 304 while it waits)."""
    web.route("feed.xml", LATE_FEED, "application/rss+xml")
    added = run(["add", web.url("feed.xml"), "--feed"], env)
    assert "404 Not Found (will retry)" in added.stdout, added.stdout + added.stderr
    web.route("late.html", (FIXTURES / "posts" / "summit-2.html").read_bytes())
    out = run(["poll", "--source", "1"], env)
    assert (out.returncode, out.stdout) == (0, "#1 new: 1 new article\n"), out.stderr


def test_removing_a_source_twice_is_an_error(env: dict[str, str], web: FakeWeb) -> None:
    """`sources --remove N` on a stopped source says so on stderr and exits 2."""
    assert run(["add", web.url("rss.xml")], env).returncode == 0
    first = run(["sources", "--remove", "1"], env)
    assert first.returncode == 0
    assert first.stdout == "stopped following source #1; its 3 articles stay in the library\n"
    again = run(["sources", "--remove", "1"], env)
    assert again.returncode == 2
    assert again.stdout == ""
    assert again.stderr.startswith("error: source #1 was already stopped")


def test_adding_and_removing_an_upload_reads_plainly(env: dict[str, str]) -> None:
    """`add` says what happened once ("added #6", not "added: added #6"); `sources` counts
    "1 article"; removing an upload (never followed) says so, in one line, without the list."""
    brief = str(FIXTURES / "uploads" / "brief.md")
    added = run(["add", brief], env)
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith(f"{brief}: added #6 “")
    again = run(["add", brief], env)
    assert again.stdout.startswith(f"{brief}: already in the library as #6 “"), again.stdout
    listing = run(["sources"], env)
    assert listing.stdout.startswith("#1 [file, ok] ") and "— 1 article\n" in listing.stdout
    removed = run(["sources", "--remove", "1"], env)
    assert (removed.returncode, removed.stderr) == (0, "")
    assert removed.stdout == "removed upload #1 from the sources; its 1 article stays in the " \
                             "library\n"

"""`python -m knowledge` experts, expert, compare, summits, summit, timeline, proposals: the
JSON contract of issue 3 through the real entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
FIXTURE = REPO / "tests" / "fixtures" / "articles" / "new_expert_vladivostok_2018.md"
HIT_KEYS = {"article_id", "passage_id", "title", "publisher", "authors", "published", "url",
            "passage", "highlight", "score"}


def run(args: list[str], env: dict[str, str], timeout: float = 120
        ) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a subprocess with an isolated environment."""
    return subprocess.run([sys.executable, "-m", "knowledge", *args], capture_output=True,
                          text=True, env=env, timeout=timeout, cwd=env["DATA_DIR"])


def run_json(args: list[str], env: dict[str, str]) -> Any:
    """Run a --json command that must succeed; its parsed output."""
    out = run([*args, "--json"], env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A fresh data dir and the fast test embedder."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_"))}
    base.update(DATA_DIR=str(tmp_path), EMBEDDING_MODEL="hashing:256", NO_MATCH_THRESHOLD="0.05", NO_MATCH_NAMES_MARGIN="0",
                NO_MATCH_LEXICAL_FLOOR="0.05", HIT_MIN_SIMILARITY="0", PYTHONPATH=str(REPO))
    return base


def test_experts_json_lists_exactly_the_founding_experts(env: dict[str, str]) -> None:
    """experts --json: Akiyama (two articles), Streltsov, Togo as author/interviewee; nobody else."""
    experts = run_json(["experts"], env)
    assert isinstance(experts, list)
    by_name = {e["name"]: e for e in experts}
    assert set(by_name) == {"Masahiro Akiyama", "Dmitry Streltsov", "Kazuhiko Togo"}
    for expert in experts:
        assert {"name", "roles", "articles"} <= set(expert)
        for article in expert["articles"]:
            assert {"article_id", "title", "relation"} <= set(article)
    akiyama = by_name["Masahiro Akiyama"]["articles"]
    assert sorted(a["relation"] for a in akiyama) == ["author", "interviewed"]
    assert [a["relation"] for a in by_name["Kazuhiko Togo"]["articles"]] == ["author"]
    assert [a["relation"] for a in by_name["Dmitry Streltsov"]["articles"]] == ["interviewed"]
    titles = {a["title"] for e in experts for a in e["articles"]}
    assert "Abe-Putin Summit in Moscow: No Sensations, Moderation Prevails" not in titles


def test_expert_json_has_the_person_and_hits(env: dict[str, str]) -> None:
    """expert streltsov --topic ... --json: his record and hit objects from his article only."""
    out = run_json(["expert", "streltsov", "--topic", "joint economic activities"], env)
    assert isinstance(out, dict)
    assert out["name"] == "Dmitry Streltsov" and out["roles"] and out["articles"]
    assert out["passages"] and all(set(h) >= HIT_KEYS for h in out["passages"])
    assert {h["article_id"] for h in out["passages"]} == {out["articles"][0]["article_id"]}


def test_summits_json_lists_every_meeting(env: dict[str, str]) -> None:
    """summits --json: the 11 meetings with the contract's keys and linked passages."""
    meetings = run_json(["summits"], env)
    assert isinstance(meetings, list) and len(meetings) == 11
    keys = {"id", "name", "date", "date_precision", "place", "kind", "ordinal", "participants",
            "articles", "passages"}
    for meeting in meetings:
        assert keys <= set(meeting)
        assert meeting["passages"] >= 1 and meeting["articles"], meeting["id"]
    lima = next(m for m in meetings if m["id"] == "2016-11-lima-apec")
    assert (lima["date"], lima["date_precision"], lima["place"]) == ("2016-11-19", "day", "Lima")


def test_summit_json_splits_before_and_after(env: dict[str, str]) -> None:
    """summit 2017-04 --json: Valdai (March 2017) before, Rethinking Russia after."""
    out = run_json(["summit", "2017-04"], env)
    assert isinstance(out, dict)
    assert out["id"] == "2017-04-moscow-abe-visit"
    assert {h["publisher"] for h in out["before"]} == {"Valdai Discussion Club"}
    assert {h["publisher"] for h in out["after"]} == {"Rethinking Russia"}
    assert all(set(h) >= HIT_KEYS for h in out["before"] + out["after"])


def test_unknown_names_exit_2_with_a_hint(env: dict[str, str]) -> None:
    """An unknown meeting or expert is one line on stderr, exit status 2, no traceback."""
    out = run(["summit", "Paris 2030"], env)
    assert out.returncode == 2
    assert out.stderr.strip() == ("error: no meeting matches “Paris 2030”; "
                                  "`python -m knowledge summits` lists them all")
    out = run(["expert", "nobody known"], env)
    assert out.returncode == 2 and "no expert matches" in out.stderr
    assert "Traceback" not in out.stderr


def test_compare_json_one_row_per_expert(env: dict[str, str]) -> None:
    """compare --json: rows of {experts, hit, published}, each expert at most once, with dates."""
    rows = run_json(["compare", "joint economic activities"], env)
    assert isinstance(rows, list) and rows
    experts = [name for r in rows for name in r["experts"]]
    assert experts and len(experts) == len(set(experts))
    for row in rows:
        assert set(row) == {"experts", "hit", "published"}
        assert set(row["hit"]) >= HIT_KEYS and row["published"] == row["hit"]["published"]


COAUTHORED = """# Kuril fisheries accord reached

By Jane Example and John Sample, senior fellows at the Example Institute.

Negotiators from Tokyo and Moscow agreed on a quota regime for salmon fishing near the
Kuril Islands, a modest step the authors call a test of the joint economic activities plan.
The accord covers the 2024 season and sets up a commission that meets twice a year.
"""


def test_compare_shows_a_passage_two_coauthors_share_once(env: dict[str, str],
                                                          tmp_path: Path) -> None:
    """compare (--json and text): co-authors' shared best passage is one row naming both."""
    upload = tmp_path / "kuril-fisheries.md"
    upload.write_text(COAUTHORED, encoding="utf-8")
    added = run(["add", str(upload)], env)
    assert added.returncode == 0, added.stderr
    rows = run_json(["compare", "salmon fishing quota regime"], env)
    shared = [r for r in rows if r["hit"]["title"] == "Kuril fisheries accord reached"]
    assert [r["experts"] for r in shared] == [["Jane Example", "John Sample"]]
    passages = [r["hit"]["passage_id"] for r in rows]
    assert len(passages) == len(set(passages))
    out = run(["compare", "salmon fishing quota regime"], env)
    assert out.returncode == 0, out.stderr
    headings = [line for line in out.stdout.splitlines() if "Kuril fisheries accord" in line]
    assert len(headings) == 1
    assert headings[0].startswith("Jane Example, John Sample: #")
    assert out.stdout.count("» Negotiators from Tokyo and Moscow") == 1


def test_human_readable_output(env: dict[str, str]) -> None:
    """Without --json the commands print readable lines."""
    out = run(["experts"], env)
    assert out.returncode == 0 and "Kazuhiko Togo" in out.stdout and "author: #" in out.stdout
    out = run(["summits"], env)
    assert out.returncode == 0 and "19 Nov 2016  Abe-Putin meeting at APEC, Lima" in out.stdout
    out = run(["summit", "lima"], env)
    assert out.returncode == 0 and "After: assessments" in out.stdout


def test_timeline_writes_a_png(env: dict[str, str], tmp_path: Path) -> None:
    """timeline --out FILE.png writes the picture; another suffix is refused."""
    target = tmp_path / "timeline.png"
    out = run(["timeline", "--out", str(target)], env)
    assert out.returncode == 0, out.stderr
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    refused = run(["timeline", "--out", str(tmp_path / "timeline.jpg")], env)
    assert refused.returncode == 2 and ".png" in refused.stderr


def test_proposal_flow(env: dict[str, str]) -> None:
    """A new article's unknown meeting is listed as a proposal and can be confirmed."""
    added = run(["add", str(FIXTURE)], env)
    assert added.returncode == 0, added.stderr
    proposals = run_json(["proposals"], env)
    assert isinstance(proposals, list)
    vladivostok = next(p for p in proposals if p["place"] == "Vladivostok")
    assert vladivostok["date_guess"] == "2018-09-10" and vladivostok["passage_id"]
    confirmed = run_json(["confirm-proposal", str(vladivostok["id"])], env)
    assert isinstance(confirmed, dict)
    assert confirmed["date"] == "2018-09-10" and confirmed["passages"] >= 1
    assert len(run_json(["summits"], env)) == 12
    assert vladivostok["id"] not in {p["id"] for p in run_json(["proposals"], env)}


def test_blank_filters_and_filters_that_leave_nothing_are_said(env: dict[str, str]) -> None:
    """An empty --person or --publisher is refused like a blank one (not silently dropped);
    two filters that no article fits together are named, instead of "no good match"."""
    for flag, what in (("--person", "expert"), ("--publisher", "publisher")):
        out = run(["search", "islands", flag, ""], env)
        assert out.returncode == 2 and f"the {what}'s name is empty" in out.stderr, out.stderr
    out = run(["search", "islands", "--person", "Togo", "--publisher", "Valdai"], env)
    assert out.returncode == 2
    assert ("no article in the library fits these filters together (expert: Togo, publisher: "
            "Valdai)") in out.stderr
    out = run(["search", "islands", "--person", "Togo", "--publisher", "East Asia", "--json"],
              env)
    assert out.returncode == 0 and json.loads(out.stdout)


BYLINE_PAGE = """<html><head><title>Tokyo weighs a new approach to the Kurils | Example Review</title>
</head><body><nav>Home | About | Subscribe</nav>
<article><h1>Tokyo weighs a new approach to the Kurils</h1>
<p class="byline">By Yuri Tanaka, Professor at Harbour University</p>
<p>Japanese diplomats are quietly preparing a revised proposal on joint economic activities on
the southern Kuril Islands ahead of the next leaders' meeting, according to officials familiar
with the talks.</p>
<p>The proposal would expand fisheries cooperation and create a special legal regime for
investors, a step both governments have discussed since the Nagato summit in December 2016.</p>
<p>Critics in Tokyo warn that without movement on sovereignty, the economic track risks
becoming an end in itself rather than a route to a peace treaty.</p>
</article><footer>Example Review</footer></body></html>"""


def test_a_byline_with_a_title_makes_one_expert_and_no_date(env: dict[str, str],
                                                            tmp_path: Path) -> None:
    """"By Yuri Tanaka, Professor at Harbour University" on an undated page (an outside
    tester's page): the page's metadata gives the authors "Yuri Tanaka" and "Professor", and
    the body's "December 2016" was taken for the publication day 2016-01-01. Now the expert is
    Yuri Tanaka alone (no expert called "Professor") and the article stays undated."""
    page = tmp_path / "kurils.html"
    page.write_text(BYLINE_PAGE, encoding="utf-8")
    added = run_json(["add", str(page)], env)
    assert added["status"] == "added", added
    names = {e["name"] for e in run_json(["experts"], env)}
    assert "Yuri Tanaka" in names
    assert "Professor" not in names
    listed = run_json(["list"], env)
    new = next(a for a in listed if a["title"] == "Tokyo weighs a new approach to the Kurils")
    assert new["published"] is None, new

"""Sanity checks for the retrieval benchmark question set in bench/."""

import json
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
CORPUS = ROOT / "knowledge" / "corpus" / "founding"
# Page furniture per article: (first line of the block, end marker or None for end of file).
# A question's expected phrase must come from the body, never from these blocks.
FURNITURE = {
    "000_6bcf33b55e024291": [("Views expressed are", None)],
    "001_e081191c5fe33cf7": [("Reprinted with permission", None)],
    "002_b22a9167bf453d75": [
        ("Russia-Japan Dialogue: The Sanctions Factor", "Expert Opinions"),
        ("Views expressed are", None),
    ],
    "003_8a6cdb0b4f70d1eb": [("Comments are closed", None)],
    "004_49e94f6d0c3cdc58": [("Photo: ©", None)],
}


def _questions() -> list[dict[str, str]]:
    """Load bench/questions.jsonl as a list of dicts."""
    lines = (BENCH / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _lines(name: str) -> list[str]:
    """Return the non-empty lines of a bench text file."""
    text = (BENCH / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


QUESTIONS = _questions()


@pytest.mark.parametrize("item", QUESTIONS, ids=lambda q: q["must_contain"][:40])
def test_must_contain_occurs_exactly_once_in_its_article(item: dict[str, str]) -> None:
    """Each expected phrase occurs exactly once, verbatim, in its article's text file."""
    path = CORPUS / f"{item['article']}.txt"
    assert path.is_file(), f"no article {item['article']}"
    assert path.read_text(encoding="utf-8").count(item["must_contain"]) == 1


@pytest.mark.parametrize("item", QUESTIONS, ids=lambda q: q["must_contain"][:40])
def test_item_shape_and_phrase_length(item: dict[str, str]) -> None:
    """Each item has the three keys (and a kind for the issue-13 set), ends with "?", and has a
    4-10 word phrase."""
    assert set(item) - {"kind"} == {"question", "article", "must_contain"}
    assert item.get("kind", "person") in ("person", "time", "meeting", "concept")
    assert item["question"].strip().endswith("?")
    assert 4 <= len(item["must_contain"].split()) <= 10


@pytest.mark.parametrize("item", QUESTIONS, ids=lambda q: q["must_contain"][:40])
def test_must_contain_is_not_page_furniture(item: dict[str, str]) -> None:
    """Each expected phrase lies in the article body, outside teasers and trailing boilerplate."""
    text = (CORPUS / f"{item['article']}.txt").read_text(encoding="utf-8")
    at = text.find(item["must_contain"])
    for start_marker, end_marker in FURNITURE[item["article"]]:
        start = text.index(start_marker)
        end = text.index(end_marker, start) if end_marker else len(text)
        assert not start <= at < end, f"phrase inside furniture block {start_marker!r}"


def test_questions_cover_every_article() -> None:
    """The set has at least 40 questions and at least 6 for each founding article."""
    stems = {p.stem for p in CORPUS.glob("*.txt")}
    per_article = Counter(q["article"] for q in QUESTIONS)
    assert len(QUESTIONS) >= 40
    assert set(FURNITURE) == stems
    assert stems and set(per_article) == stems
    assert min(per_article.values()) >= 6


def test_questions_are_unique() -> None:
    """No question or expected phrase is repeated."""
    assert len({q["question"] for q in QUESTIONS}) == len(QUESTIONS)
    assert len({q["must_contain"] for q in QUESTIONS}) == len(QUESTIONS)


def test_offtopic_and_short_query_files() -> None:
    """offtopic.txt holds 25 distinct questions and short_queries.txt 10 distinct short queries."""
    offtopic = _lines("offtopic.txt")
    short = _lines("short_queries.txt")
    assert len(offtopic) == 25 and len(set(offtopic)) == 25
    assert all(line.endswith("?") for line in offtopic)
    assert len(short) == 10 and len(set(short)) == 10
    assert all(len(line.split()) <= 4 for line in short)

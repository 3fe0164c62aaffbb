"""Sentence splitting and passage building."""

from __future__ import annotations

import itertools

from knowledge.corpus import FOUNDING_DIR
from knowledge.text.clean import clean_text
from knowledge.text.split import MAX_SENTENCE_CHARS, split_passages, split_sentences


def test_abbreviations_and_initials_do_not_end_sentences() -> None:
    """'Dr.', 'U.S.' and initials stay inside their sentence."""
    text = "Dr. Smith met J. Doe in the U.S. capital. They talked. Then they left!"
    assert [s.text for s in split_sentences(text)] == [
        "Dr. Smith met J. Doe in the U.S. capital.", "They talked.", "Then they left!"]


def test_quotes_close_sentences() -> None:
    """A closing quote after the full stop belongs to the sentence it closes."""
    text = "He said “it works.” Then he left."
    assert [s.text for s in split_sentences(text)] == ["He said “it works.”", "Then he left."]


def test_offsets_point_into_the_source() -> None:
    """Every sentence and passage span slices back to its text."""
    text = clean_text((FOUNDING_DIR / "003_8a6cdb0b4f70d1eb.txt").read_text(encoding="utf-8"))
    for span in split_sentences(text[:2000]):
        assert text[span.start:span.end] == span.text
    for span in split_passages(text):
        assert text[span.start:span.end] == span.text


def test_passages_respect_size_and_cover_the_text() -> None:
    """Passages stay under the maximum, end on sentence boundaries, and miss no sentence."""
    text = clean_text((FOUNDING_DIR / "001_e081191c5fe33cf7.txt").read_text(encoding="utf-8"))
    passages = split_passages(text, target_chars=500, max_chars=800)
    assert len(passages) > 3
    assert all(len(p.text) <= 800 for p in passages)
    assert all(p.text.rstrip()[-1] in ".!?”\"’)" for p in passages)
    joined = " ".join(p.text for p in passages)
    for paragraph in text.split("\n\n"):
        for sentence in split_sentences(paragraph):
            assert sentence.text in joined


def test_consecutive_passages_overlap_by_a_sentence_inside_a_paragraph() -> None:
    """When a paragraph is cut, the next passage repeats the last sentence for context."""
    para = " ".join(f"Sentence number {i} talks about the islands and the treaty." for i in range(40))
    passages = split_passages(para, target_chars=300, max_chars=450)
    assert len(passages) > 2
    for first, second in itertools.pairwise(passages):
        last_sentence = split_sentences(first.text)[-1].text
        assert second.text.startswith(last_sentence)


def test_an_overlong_sentence_is_cut_at_spaces_and_nothing_is_lost() -> None:
    """A "sentence" longer than MAX_SENTENCE_CHARS (a run of text without sentence ends) is cut
    at spaces into pieces of at most that size, in order, every character kept; a 150 kB one
    used to become one passage, and meeting linking on it took minutes."""
    long_sentence = "Start " + " ".join(f"word{n}" for n in range(2000)) + " end."
    text = f"Short one. {long_sentence} Short two."
    sentences = split_sentences(text)
    assert [s.text for s in sentences[:1] + sentences[-1:]] == ["Short one.", "Short two."]
    pieces = sentences[1:-1]
    assert len(pieces) > 2 and all(len(p.text) <= MAX_SENTENCE_CHARS for p in pieces)
    assert " ".join(p.text for p in pieces) == long_sentence
    assert all(text[p.start:p.end] == p.text for p in sentences)
    passages = split_passages(text, max_chars=1000)
    assert all(len(p.text) <= 1000 for p in passages)
    assert all(f"word{n} " in " ".join(p.text for p in passages) for n in range(0, 2000, 97))
    unspaced = "x" * 2500  # no space at all: hard cuts
    assert [len(s.text) for s in split_sentences(unspaced)] == [900, 900, 700]

"""Sentence splitting and passage building on sentence boundaries, with overlap."""

from __future__ import annotations

import dataclasses
import re

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "no", "vs", "etc", "e.g", "i.e", "u.s",
    "u.k", "u.n", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
    "dec", "gen", "col", "lt", "gov", "sen", "rep", "inc", "ltd", "co", "corp", "fig", "approx",
    "dept", "univ", "assn", "ave", "mt", "ft", "pp", "vol", "ed", "eds", "op", "cit", "al",
}
# A candidate boundary: end punctuation, optional closing quotes/brackets, whitespace, then
# something that can start a sentence.
_BOUNDARY_RE = re.compile(r"[.!?…]+[\"”’')\]]*\s+(?=[\"“‘'(\[]*[A-Z0-9А-ЯЁ])")


@dataclasses.dataclass(frozen=True, slots=True)
class Span:
    """A piece of text with its character offsets in the source."""

    text: str
    start: int
    end: int


def _is_abbreviation(text: str, dot_index: int) -> bool:
    """Whether the period at dot_index ends an abbreviation or an initial, not a sentence."""
    if text[dot_index] != ".":
        return False
    word_start = dot_index
    while word_start > 0 and (text[word_start - 1].isalpha() or text[word_start - 1] == "."):
        word_start -= 1
    word = text[word_start:dot_index].lower()
    if not word:
        return False
    if word in _ABBREVIATIONS:
        return True
    # A single capital initial ("J. Smith"), but not a one-letter word ending a sentence ("I.").
    return len(word) == 1 and text[word_start].isupper() and word != "i"


# A "sentence" longer than this (text without sentence ends: a list, a table, a pasted dump)
# is cut at the last space before it, so a passage stays within its size and the work per
# sentence (meeting and people patterns, highlights) stays bounded.
MAX_SENTENCE_CHARS = 900


def split_sentences(text: str, offset: int = 0) -> list[Span]:
    """Split a paragraph into sentences, keeping offsets relative to ``offset``; a run of text
    longer than MAX_SENTENCE_CHARS without a sentence end is cut into pieces."""
    spans: list[Span] = []
    start = 0
    for match in _BOUNDARY_RE.finditer(text):
        if _is_abbreviation(text, match.start()):
            continue
        end = match.end()
        piece = text[start:end].strip()
        if piece:
            lead = len(text[start:end]) - len(text[start:end].lstrip())
            spans += _cut(piece, offset + start + lead)
        start = end
    tail = text[start:]
    if tail.strip():
        lead = len(tail) - len(tail.lstrip())
        spans += _cut(tail.strip(), offset + start + lead)
    return spans


def _cut(piece: str, at: int) -> list[Span]:
    """A sentence as one span, or as pieces of at most MAX_SENTENCE_CHARS cut at spaces."""
    if len(piece) <= MAX_SENTENCE_CHARS:
        return [Span(piece, at, at + len(piece))]
    out = []
    start = 0
    while start < len(piece):
        end = min(start + MAX_SENTENCE_CHARS, len(piece))
        if end < len(piece):
            space = piece.rfind(" ", start + MAX_SENTENCE_CHARS // 2, end + 1)
            end = space if space > start else end
        part = piece[start:end]
        stripped = part.strip()
        if stripped:
            lead = len(part) - len(part.lstrip())
            out.append(Span(stripped, at + start + lead, at + start + lead + len(stripped)))
        start = end
    return out


def paragraphs(text: str) -> list[Span]:
    """Paragraphs separated by blank lines (single newlines count as breaks too)."""
    out: list[Span] = []
    for match in re.finditer(r"[^\n]+(?:\n(?!\n)[^\n]+)*", text):
        piece = match.group(0).strip()
        if piece:
            out.append(Span(piece, match.start(), match.start() + len(match.group(0))))
    return out


def split_passages(text: str, *, target_chars: int = 700, max_chars: int = 1000,
                   overlap_sentences: int = 1) -> list[Span]:
    """Group sentences into passages of about target_chars, breaking at paragraph ends when
    possible and repeating the last sentence of a passage at the start of the next."""
    sentences: list[tuple[Span, bool]] = []  # (sentence, ends a paragraph)
    for para in paragraphs(text):
        sents = split_sentences(text[para.start:para.end], para.start)
        for i, sent in enumerate(sents):
            sentences.append((sent, i == len(sents) - 1))
    passages: list[Span] = []
    current: list[Span] = []

    def flush() -> None:
        if current:
            passages.append(Span(text[current[0].start:current[-1].end], current[0].start,
                                 current[-1].end))

    i = 0
    while i < len(sentences):
        sent, para_end = sentences[i]
        size = current[-1].end - current[0].start if current else 0
        if current and size + len(sent.text) > max_chars:
            flush()
            carry = [s for s in current[-overlap_sentences:] if len(s.text) < target_chars // 2] \
                if overlap_sentences else []
            current = carry
            # If the carried sentence plus this one still overflows, start clean.
            if current and current[-1].end - current[0].start + len(sent.text) > max_chars:
                current = []
            continue
        current.append(sent)
        size = current[-1].end - current[0].start
        i += 1
        if size >= target_chars or (para_end and size >= target_chars * 0.6):
            flush()
            carry = [s for s in current[-overlap_sentences:] if len(s.text) < target_chars // 2] \
                if overlap_sentences and not para_end else []
            current = carry
    # The tail: merge into the previous passage when small, else keep it as its own passage.
    if current:
        tail_start = current[0].start
        if passages and passages[-1].end >= current[-1].end:
            current = []
        elif passages and current[-1].end - tail_start < target_chars * 0.3 \
                and current[-1].end - passages[-1].start <= max_chars:
            prev = passages.pop()
            current = [Span(prev.text, prev.start, prev.end), *current]
        flush()
    return passages

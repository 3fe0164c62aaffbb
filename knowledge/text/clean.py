"""Keep page furniture (share buttons, teasers, disclaimers, comment boxes) out of indexed text."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata

# Whole lines that are page furniture wherever they appear. Matched case-insensitively
# against the stripped line. Kept generic: publishers' boilerplate, not this corpus's sentences.
_FURNITURE_LINES = [
    r"featured (content|image|articles?)",
    r"comments are closed\.?",
    r"no comments yet\.?",
    r"(list of )?comments( \(\d+\))?",
    r"leave a (comment|reply)",
    r"support quality analysis",
    r"(copyright|©).{0,120}",
    r"all rights reserved\.?",
    r"article printed from .{0,120}",
    r"click (on )?(the link|here) .{0,120}",
    r"reading time: .{0,40}",
    r"peer reviewed analysis from .{0,80}",
    r"in brief",
    r"share( this( article)?)?:?",
    r"(share on|follow us on|tweet|facebook|twitter|linkedin|email|print|whatsapp|telegram)",
    r"photo:? ?©.{0,120}",
    r"(photo|image|source)( credit)?: .{0,100}",
    r"views expressed are .{0,160}",
    r"reprinted with permission .{0,160}",
    r"(originally published|first published) (by|in|on) .{0,120}",
    r"[*\-_=•·~ ]{3,}",
    r"(read|see) (more|also)( here)?:?",
    r"related( articles| content| posts)?:?",
    r"tags?:.{0,200}",
    r"subscribe( to .{0,80})?",
    r"sign up .{0,120}",
    r"advertisement",
    r"(back to top|skip to (main )?content)",
    r".{0,120} acknowledges the (first peoples|traditional (owners|custodians)) .{0,400}",
    r"\[\d+\] .{0,160}:?\s*",
    # A dateline alone on its line ("June 11, 2015", "11 June 2015", "2015-06-11").
    r"((\d{1,2} )?(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?( \d{1,2},?)? \d{4}"
    r"|\d{4}-\d{2}-\d{2})",  # footnote lines pointing elsewhere ("[1] For more detail see:")
]
_FURNITURE_RE = re.compile(r"^(?:" + "|".join(_FURNITURE_LINES) + r")$", re.IGNORECASE)
# A "teaser" for another article: headline, author line, blurb, then a section label.
_SECTION_LABEL_RE = re.compile(
    r"^(expert opinions?|opinions?|analysis|analytics|news|related|read more|recommended|"
    r"more from .{1,40}|you may also like|also read)$",
    re.IGNORECASE,
)
_NAME_LINE_RE = re.compile(r"^(?:[A-Z][a-zA-Z'’\-]+\.? ){1,3}[A-Z][a-zA-Z'’\-]+$")
_SHORT_BULLET_RE = re.compile(r"^[•·▪◦‣]\s*(?:\S+\s*){1,6}$")
_PHOTO_CREDIT_RE = re.compile(r"\s*\((?:photo|image|source)[^)]{0,80}\)", re.IGNORECASE)
_FOOTNOTE_MARK_RE = re.compile(r"(?<=[\w.,;:”\"’)])\[\d{1,3}\]")
_SPACES_RE = re.compile(r"[ \t\u00a0\u2009\u202f]+")


def normalise_whitespace(text: str) -> str:
    """Unify newlines and spaces; keep paragraph breaks as one blank line."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES_RE.sub(" ", line).strip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def is_furniture(line: str) -> bool:
    """Whether a single stripped line is page furniture."""
    if not line:
        return False
    if _FURNITURE_RE.match(line) or _SHORT_BULLET_RE.match(line):
        return True
    # A line of one or two repeated characters ("A", "• A") is a font-size widget or similar.
    return len(line) <= 3 and not line.isdigit()


def _drop_teasers(lines: list[str]) -> list[str]:
    """Remove headline / author / blurb blocks that end with a section label."""
    keep = [True] * len(lines)
    for i, line in enumerate(lines):
        if not _SECTION_LABEL_RE.match(line):
            continue
        keep[i] = False
        # Look back over the blurb for the author line and the headline above it.
        for j in range(i - 1, max(-1, i - 6), -1):
            if _NAME_LINE_RE.match(lines[j]) and j >= 1 and len(lines[j - 1]) < 120 \
                    and not lines[j - 1].endswith("."):
                for k in range(j - 1, i):
                    keep[k] = False
                break
    return [line for line, k in zip(lines, keep, strict=True) if k]


def _words_key(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def clean_text(text: str, *, title: str | None = None, publisher: str | None = None) -> str:
    """Return the article body without furniture, title or repeated publisher lines."""
    text = html.unescape(normalise_whitespace(text))
    lines = [line for line in text.split("\n")]
    lines = _drop_teasers([line for line in lines if line])
    drop_exact = {_words_key(s) for s in (title, publisher) if s}
    body: list[str] = []
    for line in lines:
        if is_furniture(line) or _words_key(line) in drop_exact:
            continue
        line = _PHOTO_CREDIT_RE.sub("", line)
        line = _FOOTNOTE_MARK_RE.sub("", line).strip()
        if line:
            body.append(line)
    return "\n\n".join(body)


def content_fingerprint(text: str) -> str:
    """Hash of the normalised content: equal for the same text modulo case, spacing, punctuation."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    words = re.findall(r"\w+", folded)
    return hashlib.sha256(" ".join(words).encode()).hexdigest()


def markdown_to_text(markup: str) -> str:
    """Plain text from Markdown: drop link targets, emphasis marks and heading hashes."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", markup)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"^#{1,6}\s*", "", text, flags=re.MULTILINE)
    text = re.sub(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1", r"\2", text)
    text = re.sub(r"^>\s?", "", text, flags=re.MULTILINE)
    return text

"""Clean article text for indexing: whitespace, page furniture (see furniture.py), fingerprints."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata

from knowledge.text.furniture import drop_teasers, is_furniture

_SPACES_RE = re.compile(r"[ \t\u00a0\u2009\u202f]+")
_PHOTO_CREDIT_RE = re.compile(r"\s*\((?:photo|image|source)[^)]{0,80}\)", re.IGNORECASE)
_FOOTNOTE_MARK_RE = re.compile(r"(?<=[\w.,;:”\"’)])\[\d{1,3}\]")


def normalise_whitespace(text: str) -> str:
    """Unify newlines and spaces; keep paragraph breaks as one blank line."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES_RE.sub(" ", line).strip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def shorten(text: str, limit: int) -> str:
    """Cut text at a word boundary so that, with an ellipsis, it fits in `limit` characters."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-—") + "…"


ECHO_LIMIT = 80  # a user's name or query repeated in a message: enough to recognise it


# Control, zero-width and direction-override characters: never repeated back (a terminal
# escape sequence in a name would recolour or clear the user's screen).
_UNPRINTABLE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e"
                          "\u2066-\u2069\ufeff\ud800-\udfff]")


def echo(text: str) -> str:
    """What a user typed, for repeating it in a message: one line of printable characters, at
    most ECHO_LIMIT."""
    return shorten(" ".join(_UNPRINTABLE.sub("", text).split()), ECHO_LIMIT)


def fold(text: str) -> str:
    """Text as names are compared: case-folded, accents dropped ("Süddeutsche" and "sudd"
    meet). The one folding of the publisher filter and publisher suggestions."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in plain if not unicodedata.combining(c))


def folded_words(text: str) -> list[str]:
    """The words of a name, folded (`fold`)."""
    return re.findall(r"\w+", fold(text))


def _words_key(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


# A byline line near the top: "By Yuri Tanaka, professor of law at Kobe University." (people
# are read from the original text, which keeps it; a passage should not quote it as words).
BYLINE_WITHIN = 3  # body lines
_BYLINE_RE = re.compile(r"(?:By|Written by|Author:)\s+[A-Z][\w.-]*(?:\s+[A-Z][\w.-]*){1,3}"
                        r"(?:\s*(?:,|\||—|–)\s*[^\n]{0,160})?\.?$")


def clean_text(text: str, *, title: str | None = None, publisher: str | None = None) -> str:
    """Return the article body without furniture, title or repeated publisher lines."""
    text = html.unescape(normalise_whitespace(text))
    lines = [line for line in text.split("\n")]
    lines = drop_teasers([line for line in lines if line])
    drop_exact = {_words_key(s) for s in (title, publisher) if s}
    body: list[str] = []
    for line in lines:
        if is_furniture(line) or _words_key(line) in drop_exact:
            continue
        if len(body) < BYLINE_WITHIN and _BYLINE_RE.match(line):
            continue  # "By Yuri Tanaka, professor of law": who wrote it, not what it says
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

"""Decode text bytes by BOM, declaration and UTF-8, then detection (charset-normalizer) for
text in another script, with a Windows-1252/Latin-1 last resort.

Every label a document or a server declares is checked to name a real text charset; a bogus one
(``charset=base64``) is ignored and the bytes are decoded as if nothing had been declared.
"""

from __future__ import annotations

import codecs
import dataclasses
import re
import unicodedata

_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


@dataclasses.dataclass(frozen=True, slots=True)
class DecodedText:
    """Text and the encoding it was read with; ``guessed`` when that was a fallback."""

    text: str
    encoding: str
    guessed: bool = False


def decode_bytes(data: bytes, declared: str | None = None, *, markup: bool = False) -> DecodedText:
    """Decode ``data``: BOM, then ``declared`` charset, then an in-document declaration
    (XML prolog, and <meta charset> when ``markup``), then strict UTF-8, then cp1252/latin-1."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return DecodedText(data.decode(name, errors="replace"), name)
    candidates: list[str | None] = [declared]
    head = data[:4096]
    found = _XML_ENCODING.search(head) or (_META_CHARSET.search(head) if markup else None)
    if found:
        candidates.append(found.group(1).decode("ascii").lower())
    for candidate in candidates:
        codec = text_codec(candidate)
        if codec is None:
            continue
        try:
            text = data.decode(codec, errors="replace")
        except (UnicodeError, LookupError, ValueError):
            continue  # a codec that refuses "replace" or chokes on these bytes: try the next
        if _bogus_utf8(codec, text):
            continue
        return DecodedText(text, codec)
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    other = _other_script(data)
    if other is not None:
        return DecodedText(data.decode(other, errors="replace"), other, guessed=True)
    try:
        return DecodedText(data.decode("cp1252"), "cp1252", guessed=True)
    except UnicodeDecodeError:
        # latin-1 maps every byte, so this cannot fail.
        return DecodedText(data.decode("latin-1"), "latin-1", guessed=True)


def _bogus_utf8(codec: str, text: str) -> bool:
    """True when bytes declared UTF-8 hold not one valid multi-byte character but do hold bytes
    that are invalid: Latin-1 or Windows-1252 labelled UTF-8 ("Caf\ufffd"), read by the rules
    for an undeclared document instead. A UTF-8 page with a few damaged bytes keeps its
    declaration (a Windows-1252 reading would garble every accented letter in it)."""
    return (codecs.lookup(codec).name == "utf-8" and "\ufffd" in text
            and _NON_ASCII_CHARACTER.search(text) is None)


_NON_ASCII_CHARACTER = re.compile("[^\x00-\x7f\ufffd]")
DETECT_BYTES = 64 * 1024
_WORD = re.compile(r"\w+")
_ASCII_LETTER = re.compile(r"[A-Za-z]")  # what charset detection reads of an undeclared document


def _other_script(data: bytes) -> str | None:
    """The codec charset-normalizer finds for undeclared, non-UTF-8 bytes, when the text it
    gives is mostly letters of another script than Latin (Cyrillic, Greek, Japanese…); None
    otherwise. Between Latin code pages detection is unreliable on short texts ("naïve" read
    as cp1250 "naďve"), so Latin text keeps the Windows-1252 reading."""
    from charset_normalizer import from_bytes  # imported on first use: most text is UTF-8

    best = from_bytes(data[:DETECT_BYTES]).best()
    codec = text_codec(best.encoding) if best is not None else None
    if codec is None:
        return None
    try:
        sample = data[:DETECT_BYTES].decode(codec, errors="replace")
    except (UnicodeError, LookupError, ValueError):
        return None
    letters = [c for c in sample if ord(c) > 127 and c.isalpha()]
    latin = sum(unicodedata.name(c, "").startswith("LATIN") for c in letters)
    if not letters or latin >= len(letters) / 2:
        return None
    # Real text in another script writes whole words in it; a misreading of Latin text puts
    # its letters inside Latin words ("“quoted” café" read as cp1251: "УquotedФ cafщ").
    words = [w for w in _WORD.findall(sample) if not w.isascii()]
    mixed = sum(bool(_ASCII_LETTER.search(w)) for w in words)
    return codec if mixed <= len(words) / 10 else None


def text_codec(label: str | None) -> str | None:
    """The Python codec for a charset label from a page, or None when it is no text charset.

    Python knows codecs that are not charsets at all (base64, zlib, rot13) or that cannot
    decode arbitrary bytes (idna, punycode, unicode_escape, undefined); a page must not pick one.
    """
    if not label or len(label) > 40:
        return None
    try:
        info = codecs.lookup(label.strip().lower())
    except (LookupError, ValueError):
        return None
    if not info._is_text_encoding or info.name in _NOT_CHARSETS:
        return None
    return label.strip().lower()


# Text codecs in Python's sense that no web page or feed is written in.
_NOT_CHARSETS = frozenset({
    "idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape", "unicode_escape",
    "raw_unicode_escape", "unicode-internal", "utf-7", "mbcs", "oem",
})

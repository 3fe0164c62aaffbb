"""Decode text bytes by BOM, declaration and UTF-8, with a Windows-1252/Latin-1 last resort."""

from __future__ import annotations

import codecs
import dataclasses
import re

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
        if candidate and _known_codec(candidate):
            return DecodedText(data.decode(candidate, errors="replace"), candidate.lower())
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return DecodedText(data.decode("cp1252"), "cp1252", guessed=True)
    except UnicodeDecodeError:
        # latin-1 maps every byte, so this cannot fail.
        return DecodedText(data.decode("latin-1"), "latin-1", guessed=True)


def _known_codec(name: str) -> bool:
    """True when Python can decode with the named charset."""
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True

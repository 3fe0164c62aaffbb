"""Recognise content from its first bytes, so a lying or missing type cannot smuggle binary in."""

from __future__ import annotations

import re

# (magic prefix, media type). Short or ambiguous magics (BM, MZ, ID3) are left to the NUL-byte
# check: a text file may well start with "BM", but random binary carries NULs in 8 KB.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\x00\x00\x01\x00", "image/x-icon"),
    (b"PK\x03\x04", "application/zip"),
    (b"PK\x05\x06", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"\xfd7zXZ\x00", "application/x-xz"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),  # old .doc/.xls
    (b"\x7fELF", "application/x-executable"),
    (b"OggS", "audio/ogg"),
    (b"fLaC", "audio/flac"),
    (b"\x1aE\xdf\xa3", "video/webm"),
    (b"wOFF", "font/woff"),
    (b"wOF2", "font/woff2"),
    (b"\x00asm", "application/wasm"),
    (b"SQLite format 3\x00", "application/vnd.sqlite3"),
)

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_MARKUP_HEAD = re.compile(
    rb"^\s*(?:<\?xml|<!doctype\s+html|<html|<head|<body|<rss|<feed|<rdf:rdf|<!--)", re.IGNORECASE
)


def sniff_binary(head: bytes) -> str | None:
    """Media type of binary content recognised from its first bytes, or None for text/PDF.

    ``application/octet-stream`` stands for "binary of an unknown kind" (NUL bytes, no magic).
    """
    if head.startswith(_UTF16_BOMS):
        return None
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return None if media_type == "application/pdf" else media_type
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(b"RIFF") and head[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        return {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}[head[8:12]]
    if b"\x00" in head[:8192]:
        return "application/octet-stream"
    return None


def is_pdf(head: bytes) -> bool:
    """True when the bytes start like a PDF document."""
    return head.lstrip(b"\r\n\t ").startswith(b"%PDF-")


def looks_like_markup(head: bytes) -> bool:
    """True when the bytes open like an HTML or XML document."""
    return _MARKUP_HEAD.match(head.lstrip(b"\xef\xbb\xbf")) is not None

"""sniff_binary() and friends: content recognised by its first bytes."""

from __future__ import annotations

import pytest

from knowledge.sources.sniff import is_pdf, looks_like_markup, sniff_binary
from tests.fakes.web_server import FIXTURES


@pytest.mark.parametrize(("head", "expected"), [
    ((FIXTURES / "image.png").read_bytes(), "image/png"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
    (b"GIF89a\x01\x00", "image/gif"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b"PK\x03\x04\x14\x00", "application/zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
    (b"some text\x00with a NUL", "application/octet-stream"),
])
def test_binary_is_recognised(head: bytes, expected: str) -> None:
    """Magic numbers name the type; unknown binary is caught by its NUL bytes."""
    assert sniff_binary(head) == expected


@pytest.mark.parametrize("head", [
    b"BMW and Toyota: a note on car exports",  # starts like a BMP magic, but is text
    b"MZ-level talks",  # starts like an EXE magic, but is text
    "Résumé".encode("utf-16"),  # UTF-16 text is full of NULs
    b"%PDF-1.7\n",  # PDFs are wanted, not refused as binary
    b"",
])
def test_text_and_pdf_are_not_binary(head: bytes) -> None:
    """Text that merely resembles a short magic number, UTF-16 and PDF pass."""
    assert sniff_binary(head) is None


def test_pdf_and_markup_detection() -> None:
    """PDF magic (after stray whitespace) and HTML/XML openings are recognised."""
    assert is_pdf(b"\r\n%PDF-1.4")
    assert not is_pdf(b"<html>")
    assert looks_like_markup(b"\xef\xbb\xbf<!DOCTYPE html><html>")
    assert looks_like_markup(b'  <?xml version="1.0"?><rss>')
    assert not looks_like_markup(b"Plain text < with a bracket")

"""Sizes and durations written the way a user reads them in an error message."""

from __future__ import annotations


def human_size(size: int) -> str:
    """'5 MB', '1.5 MB', '200 KB', '900 bytes', in the decimal units the size settings are
    written in (UPLOAD_MAX_BYTES=5000000 is "5 MB", not the binary "4.8 MB")."""
    for unit, scale in (("MB", 1_000_000), ("KB", 1000)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def seconds(value: float) -> str:
    """'10 s', '0.2 s'."""
    return f"{value:g} s"

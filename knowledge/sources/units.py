"""Sizes and durations written the way a user reads them in an error message."""

from __future__ import annotations


def human_size(size: int) -> str:
    """'5 MB', '1.5 MB', '200 KB', '900 bytes' (binary units, as file managers show them)."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def seconds(value: float) -> str:
    """'10 s', '0.2 s'."""
    return f"{value:g} s"

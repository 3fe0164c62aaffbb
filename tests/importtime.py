"""Reading `python -X importtime` output: which top-level packages a process imported."""

from __future__ import annotations


def imported_modules(importtime_stderr: str) -> set[str]:
    """Top-level packages named in `python -X importtime` output."""
    names = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names

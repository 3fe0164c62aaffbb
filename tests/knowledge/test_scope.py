"""The topic scope: loading and validating scope.json, and the spellings of meeting formats."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from knowledge.scope import SCOPE_PATH, MeetingFormat, format_pattern, load_scope, scope_from_json

SHIPPED: dict[str, Any] = json.loads(SCOPE_PATH.read_text(encoding="utf-8"))


def test_the_shipped_scope() -> None:
    """The shipped scope follows Russia and Japan, with the 2+2 format as a meeting kind."""
    scope = load_scope()
    assert scope.countries == {"Russia", "Japan"}
    assert scope.pair_name == "Russia-Japan"
    assert "2+2" in scope.meeting_kinds and "summit" in scope.meeting_kinds
    assert {"russia", "japanese", "tokyo"} <= scope.non_name_words


@pytest.mark.parametrize(("change", "message"), [
    (lambda raw: raw["parties"].pop(), "two different countries"),
    (lambda raw: raw["parties"][1].update(country=raw["parties"][0]["country"]),
     "two different countries"),
    (lambda raw: raw["formats"].update(summit={"terms": ["summit"]}), "one-token name"),
    (lambda raw: raw["events"].update({"2+2": ["2+2"]}), "distinct"),
    (lambda raw: raw.update(bilateral_terms="Russia-Japan"), "list of strings"),
])
def test_a_malformed_scope_is_refused(change: Any, message: str) -> None:
    """One party, a format named like a generic kind, clashing names or a bare string fail."""
    raw = copy.deepcopy(SHIPPED)
    change(raw)
    with pytest.raises(ValueError, match=message):
        scope_from_json(raw)


@pytest.mark.parametrize(("text", "found"), [
    ("the 2+2 meeting", True), ("a 2 + 2 format", True), ("the Two-Plus-Two talks", True),
    ("two plus two", True), ("id 2017-03-tokyo-2plus2", True),
    ("12+2 is fourteen", False), ("2+2+2", False), ("two", False),
])
def test_format_spellings(text: str, found: bool) -> None:
    """A format's terms match whatever the case, spacing or hyphens, but not inside a sum."""
    fmt = MeetingFormat("2+2", "", ("2+2", "two-plus-two", "2plus2"))
    assert bool(format_pattern(fmt).search(text)) is found

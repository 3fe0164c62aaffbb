"""The one furniture detector: furniture lines, teaser blocks for cleaning, teaser spans for people."""

from __future__ import annotations

import re

from knowledge.text.furniture import drop_teasers, is_furniture, teaser_spans

TEASER = ("The article's own last paragraph ends here.\n"
          "Dialogue Over the Islands: The Sanctions Factor\n"
          "Ivan Petrov\n"
          "Why the talks stalled, in one short blurb\n"
          "Expert Opinions\n")


def _is_name(line: str) -> bool:
    """A stand-in for people extraction's name test: two or three capitalised words."""
    return re.fullmatch(r"(?:[A-Z][a-z]+ ){1,2}[A-Z][a-z]+", line) is not None


def test_furniture_lines_and_sentences() -> None:
    """Share buttons, disclaimers and datelines are furniture; an article's sentences are not."""
    for line in ("Share this article", "Views expressed are those of the author.",
                 "June 11, 2015", "Comments are closed."):
        assert is_furniture(line), line
    assert not is_furniture("The share of exports to the region fell by a third.")


def test_cleaning_drops_a_labelled_teaser_block() -> None:
    """Headline, author, blurb and the closing section label go; the article's text stays."""
    lines = TEASER.strip().split("\n")
    assert drop_teasers(lines) == ["The article's own last paragraph ends here."]


def test_teaser_spans_cover_the_block_a_name_stands_in() -> None:
    """The name under another article's headline lies inside a teaser span."""
    spans = teaser_spans(TEASER, "Some other title", _is_name)
    start = TEASER.index("Ivan Petrov")
    assert any(a <= start < b for a, b in spans)
    assert not any(a <= 0 < b for a, b in spans)

"""The one page-furniture detector: lines and blocks a page wraps around an article's text.

Furniture is what a publisher's template puts on every page: share buttons, comment boxes,
disclaimers, datelines, and teasers for other articles (headline, author, blurb, a section
label). Cleaning drops it from indexed text (``knowledge.text.clean``); people extraction uses
it to tell an article's voices from names that only advertise other pieces.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# Whole lines that are page furniture wherever they appear. Matched case-insensitively
# against the stripped line. Kept generic: publishers' boilerplate, not this corpus's sentences.
_FURNITURE_LINES = [
    r"featured (content|image|articles?)",
    r"comments are closed\.?",
    r"no comments yet\.?",
    r"(list of )?comments( \(\d+\))?",
    r"leave a (comment|reply)",
    r"support quality analysis",
    r"(copyright|©).{0,120}",
    r"all rights reserved\.?",
    r"article printed from .{0,120}",
    r"click (on )?(the link|here) .{0,120}",
    r"reading time: .{0,40}",
    r"peer reviewed analysis from .{0,80}",
    r"in brief",
    r"share( this( article)?)?:?",
    r"(share on|follow us on|tweet|facebook|twitter|linkedin|email|print|whatsapp|telegram)",
    r"photo:? ?©.{0,120}",
    r"(photo|image|source)( credit)?: .{0,100}",
    r"views expressed are .{0,160}",
    r"reprinted with permission .{0,160}",
    r"(originally published|first published) (by|in|on) .{0,120}",
    r"[*\-_=•·~ ]{3,}",
    r"(read|see) (more|also)( here)?:?",
    r"related( articles| content| posts)?:?",
    r"tags?:.{0,200}",
    r"subscribe( to .{0,80})?",
    r"sign up .{0,120}",
    r"advertisement",
    r"(back to top|skip to (main )?content)",
    r".{0,120} acknowledges the (first peoples|traditional (owners|custodians)) .{0,400}",
    r"\[\d+\] .{0,160}:?\s*",
    # A dateline alone on its line ("June 11, 2015", "11 June 2015", "2015-06-11").
    r"((\d{1,2} )?(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?( \d{1,2},?)? \d{4}"
    r"|\d{4}-\d{2}-\d{2})",  # footnote lines pointing elsewhere ("[1] For more detail see:")
]
_FURNITURE_RE = re.compile(r"^(?:" + "|".join(_FURNITURE_LINES) + r")$", re.IGNORECASE)
# A "teaser" for another article: headline, author line, blurb, then a section label.
_SECTION_LABEL_RE = re.compile(
    r"^(expert opinions?|opinions?|analysis|analytics|news|related|read more|recommended|"
    r"more from .{1,40}|you may also like|also read)$",
    re.IGNORECASE,
)
_NAME_LINE_RE = re.compile(r"^(?:[A-Z][a-zA-Z'’\-]+\.? ){1,3}[A-Z][a-zA-Z'’\-]+$")
_SHORT_BULLET_RE = re.compile(r"^[•·▪◦‣]\s*(?:\S+\s*){1,6}$")


def is_furniture(line: str) -> bool:
    """Whether a single stripped line is page furniture."""
    if not line:
        return False
    if _FURNITURE_RE.match(line) or _SHORT_BULLET_RE.match(line):
        return True
    # A line of one or two repeated characters ("A", "• A") is a font-size widget or similar.
    return len(line) <= 3 and not line.isdigit()


def drop_teasers(lines: list[str]) -> list[str]:
    """Lines without teaser blocks: headline, author line, blurb, closed by a section label.

    Cleaning drops text, so it needs the closing label to be sure; ``teaser_spans`` is the
    looser test for whether a name stands in such a block.
    """
    keep = [True] * len(lines)
    for i, line in enumerate(lines):
        if not _SECTION_LABEL_RE.match(line):
            continue
        keep[i] = False
        # Look back over the blurb for the author line and the headline above it.
        for j in range(i - 1, max(-1, i - 6), -1):
            if _NAME_LINE_RE.match(lines[j]) and j >= 1 and len(lines[j - 1]) < 120 \
                    and not lines[j - 1].endswith("."):
                for k in range(j - 1, i):
                    keep[k] = False
                break
    return [line for line, k in zip(lines, keep, strict=True) if k]


# Labels that close a teaser block in the looser, prefix form ("Related articles", "See also").
_TEASER_END = re.compile(r"^(?:Expert Opinions|Related(?: articles?| content)?|Read more|"
                         r"See also|More on this topic|Featured Content)\b", re.IGNORECASE)


def teaser_spans(text: str, title: str, is_name: Callable[[str], bool]
                 ) -> list[tuple[int, int]]:
    """Character spans of blocks advertising other articles: a headline, then a name line.

    Page furniture keeps such blocks ("Dialogue: The Sanctions Factor / Ivan Timofeev / ... /
    Expert Opinions"); the name there is another piece's author. ``is_name`` says whether a
    whole line is only a person's name (people extraction knows names; this module does not).
    """
    lines = list(re.finditer(r"[^\n]*", text))
    lines = [m for m in lines if m.start() != m.end() or m.start() == 0]
    spans: list[tuple[int, int]] = []
    title_key = re.sub(r"\W+", " ", title).strip().lower()
    for i in range(1, len(lines)):
        line = lines[i].group(0).strip()
        head = lines[i - 1].group(0).strip()
        if not line or not head or not is_name(line):
            continue
        if re.sub(r"\W+", " ", head).strip().lower() == title_key or head[-1] in ".!?\"”":
            continue
        end = lines[i].end()
        for j in range(i + 1, min(i + 4, len(lines))):
            nxt = lines[j].group(0).strip()
            if not nxt:
                break
            end = lines[j].end()
            if _TEASER_END.match(nxt):
                break
        spans.append((lines[i - 1].start(), end))
    return spans

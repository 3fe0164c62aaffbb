"""Text that came from outside (feed and page titles, file names, hosts, links) in a message.

``plain_line`` is what the library's own messages (errors, add results) carry: one tidy line of
bounded length, no escaping; whoever displays them escapes for their medium (the bot for
Discord, nothing for the command line). ``quote_remote`` is for the few messages the library
composes for chat itself (admin notices, delivered as they are): there Markdown, links and
mentions in a feed title would render as formatting, clickable links or pings, so it makes such
text show as itself; it knows Discord's syntax but not Discord (no import of it here).
"""

from __future__ import annotations

import re

# Characters Discord's Markdown gives a meaning anywhere in a line (emphasis, code, spoilers,
# masked links, mentions and custom emoji in <...>), and those that only count at its start
# (quote, heading, list); a backslash makes each show as itself.
_MARKDOWN = re.compile(r"([\\*_~`|\[\]<])")
_LINE_START = re.compile(r"^(?=[>#+-])|(?<=^\d)(?=\.)|(?<=^\d\d)(?=\.)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]+")
_MENTION = re.compile(r"@(?=everyone|here|&|!|\d)", re.IGNORECASE)
_LINK = re.compile(r"(?<=[a-z0-9+.-])(?=://)", re.IGNORECASE)
_ZERO_WIDTH_SPACE = "\u200b"
# The longest title kept: an article's, a feed's or an upload's (its source's title).
TITLE_LIMIT = 500


def visible_text(text: str) -> str:
    """``text`` without control and invisible characters (zero-width, direction marks and
    overrides), its whitespace collapsed: what a reader sees of it."""
    return " ".join(_CONTROL.sub(" ", text).split())


def plain_line(text: str | None, *, limit: int = 150) -> str:
    """``text`` as one plain line at most ``limit`` characters long: control and invisible
    characters go, whitespace collapses, an overlong line ends with "…". Nothing is escaped."""
    if not text:
        return ""
    line = visible_text(text)
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line


def quote_remote(text: str | None, *, limit: int = 150) -> str:
    """``text`` as one line at most ``limit`` characters long (before escaping; `plain_line`),
    made inert for a chat message.

    Markdown is backslash-escaped, and mentions (@everyone, @here) and bare links are broken
    with a zero-width space so that they neither ping nor link.
    """
    line = plain_line(text, limit=limit)
    if not line:
        return ""
    line = _LINK.sub(_ZERO_WIDTH_SPACE, line)
    line = _LINE_START.sub(r"\\", _MARKDOWN.sub(r"\\\1", line), count=1)
    return _MENTION.sub("@" + _ZERO_WIDTH_SPACE, line)

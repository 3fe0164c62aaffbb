"""quote_remote(): remote text shown as itself in a chat message."""

from __future__ import annotations

import pytest

from knowledge.text.remote import quote_remote

ZWSP = "\u200b"


@pytest.mark.parametrize(("remote", "quoted"), [
    ("Harbour Institute: Commentary – Asia", "Harbour Institute: Commentary – Asia"),
    ("**Breaking** _news_ ~~old~~ `code` ||spoiler||",
     r"\*\*Breaking\*\* \_news\_ \~\~old\~\~ \`code\` \|\|spoiler\|\|"),
    ("[Claim your prize](https://evil.example/x)",
     rf"\[Claim your prize\](https{ZWSP}://evil.example/x)"),
    ("Read https://evil.example now", f"Read https{ZWSP}://evil.example now"),
    ("@everyone and @here", f"@{ZWSP}everyone and @{ZWSP}here"),
    ("<@123456> <@&42> <#7>", rf"\<@{ZWSP}123456> \<@{ZWSP}&42> \<#7>"),
    ("# Heading", r"\# Heading"),
    ("> quoted", r"\> quoted"),
    ("- item", r"\- item"),
    ("1. first", r"1\. first"),
    ("line one\nline two\r\n\tthree", "line one line two three"),
    ("hidden\x00\u202eevil\u200b", "hidden evil"),
    (None, ""),
])
def test_remote_text_is_escaped(remote: str | None, quoted: str) -> None:
    """Markdown, links, mentions, line breaks and invisible characters lose their effect."""
    assert quote_remote(remote) == quoted


def test_long_text_is_cut_before_escaping() -> None:
    """The limit counts the text as written; the cut is marked with an ellipsis."""
    assert quote_remote("a" * 300, limit=20) == "a" * 19 + "…"

"""Plain text from HTML fragments (feed summaries, feed content), keeping paragraph breaks."""

from __future__ import annotations

import html as html_lib
import re

import lxml.etree
import lxml.html

_BLOCKS = frozenset({
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
    "section", "article", "header", "footer", "table", "tr", "figure", "figcaption", "hr", "dd",
    "dt",
})
_DROP = ("script", "style", "noscript", "template", "iframe", "object", "embed")
_TAG = re.compile(r"<[a-zA-Z/!?]")


def html_to_text(fragment: str | None) -> str:
    """Readable text of an HTML fragment: one paragraph per line, whitespace collapsed."""
    if not fragment or not fragment.strip():
        return ""
    if not _TAG.search(fragment):
        return _tidy(html_lib.unescape(fragment))
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return _tidy(html_lib.unescape(re.sub(r"<[^>]*>", " ", fragment)))
    for element in list(root.iter(*_DROP)):
        element.drop_tree()
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.lower() in _BLOCKS:
            element.tail = "\n" + (element.tail or "")
            if element.tag.lower() != "br":
                element.text = "\n" + (element.text or "")
    return _tidy(root.text_content())


def _tidy(text: str) -> str:
    """Collapse runs of spaces inside lines and drop empty lines."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def document_text(html: str) -> str:
    """Visible text of a whole HTML document (the fallback when no article body is found)."""
    try:
        root = lxml.html.document_fromstring(html.encode("utf-8"),
                                             parser=lxml.html.HTMLParser(encoding="utf-8"))
    except (lxml.etree.ParserError, ValueError):
        return ""
    body = root.find("body")
    if body is None:
        return ""
    return html_to_text(lxml.html.tostring(body, encoding="unicode"))

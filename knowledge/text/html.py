"""The one HTML-to-text function: visible text of a fragment or a whole page, one block per line.

Finding an article's main text in a page (dropping navigation and teasers) is a different job,
done by ``knowledge.sources.extract`` in a sandbox worker; this is what is left for fragments
(feed summaries and content) and for pages where no article body was found.
"""

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
_DROP = ("script", "style", "noscript", "template", "iframe", "object", "embed", "head")
_TAG = re.compile(r"<[a-zA-Z/!?]")
_DOCUMENT = re.compile(r"<(?:!doctype|html|body)[\s>]", re.IGNORECASE)


def html_to_text(markup: str | None) -> str:
    """Readable text of HTML: one paragraph per line, whitespace collapsed, scripts dropped.

    Takes a fragment ("<p>Teaser…</p>") or a whole document (then only its body counts).
    """
    if not markup or not markup.strip():
        return ""
    if not _TAG.search(markup):
        return _tidy(html_lib.unescape(markup))
    try:
        if _DOCUMENT.search(markup[:4096]):
            root = lxml.html.document_fromstring(markup.encode("utf-8"),
                                                 parser=lxml.html.HTMLParser(encoding="utf-8"))
        else:
            root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return _tidy(html_lib.unescape(re.sub(r"<[^>]*>", " ", markup)))
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

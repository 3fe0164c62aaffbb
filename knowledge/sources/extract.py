"""Turn a fetched HTML page into an article: main text, metadata, canonical URL and feed links."""

from __future__ import annotations

import dataclasses
import logging
import re
import urllib.parse
from typing import Any

import lxml.etree
import lxml.html

from knowledge.sources.errors import ExtractionError
from knowledge.sources.sandbox import ExtractionLimits, run_limited
from knowledge.sources.urls import display_url

log = logging.getLogger(__name__)

FEED_LINK_TYPES = frozenset({
    "application/rss+xml", "application/atom+xml", "application/rdf+xml",
})
# Query parameters that only say where a click came from; dropping them makes duplicates meet.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
    "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id",
    "oly_enc_id", "vero_id", "rb_clickid", "s_cid", "ref_src", "spm", "cmpid", "ncid", "sr_share",
})
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_AUTHOR_SPLIT = re.compile(r"\s*(?:;|\|)\s*")
_START_TAG = re.compile(r"<[A-Za-z]")
_START_TAG_BYTES = re.compile(rb"<[A-Za-z]")


@dataclasses.dataclass(frozen=True, slots=True)
class ExtractedArticle:
    """The readable part of a page or file, with what its metadata says about it."""

    title: str | None
    authors: tuple[str, ...]
    published: str | None  # "YYYY-MM-DD", "YYYY-MM" or "YYYY" (fits PartialDate.parse)
    text: str  # main text, paragraphs separated by newlines; "" when no article was found
    canonical_url: str | None
    language: str | None  # primary language subtag ("en"), from the page's own declaration
    feed_links: tuple[str, ...] = ()  # RSS/Atom feeds the page advertises, absolute URLs
    site_name: str | None = None  # og:site_name or equivalent (a publisher candidate)
    description: str | None = None


def extract_article(html: str | bytes, url: str, *, limits: ExtractionLimits | None = None
                    ) -> ExtractedArticle:
    """Extract the main article of ``html`` (fetched from ``url``); never touches the network.

    Untrusted markup: counted against ``limits`` first, then parsed in a sandbox worker with a
    time limit. Raises ExtractionError ("this page is too complex to extract") at a limit.
    Blocks the calling thread: call it from a worker thread in async code.
    """
    limits = limits or ExtractionLimits()
    check_markup_size(html, limits, what="page")
    return run_limited(extract_here, html, url, limits.max_text_chars, limits=limits,
                       what="page")


def check_markup_size(html: str | bytes, limits: ExtractionLimits, *, what: str) -> None:
    """Refuse markup with more elements than ``limits.max_elements``, before any parsing."""
    tags = len(_START_TAG_BYTES.findall(html) if isinstance(html, bytes)
               else _START_TAG.findall(html))
    if tags > limits.max_elements:
        log.info("%s refused before parsing: %d elements (limit %d)", what, tags,
                 limits.max_elements)
        raise ExtractionError(f"this {what} is too complex to extract (more than "
                              f"{limits.max_elements:,} HTML elements)")


def extract_here(html: str | bytes, url: str, max_text_chars: int) -> ExtractedArticle:
    """``extract_article`` in this process: only for code already inside a sandbox worker."""
    # Imported here, in the worker: a process that only answers questions never pays for it.
    import trafilatura
    import trafilatura.settings

    tree = _parse(html)
    document = None
    if tree is not None:
        # trafilatura prunes the tree it is given, so it gets its own copy of the page.
        document = trafilatura.bare_extraction(
            html, url=url or None, with_metadata=True, favor_precision=True,
            include_comments=False, include_images=False, include_links=False,
            # The page's own date only (its metadata, <time>, structured data, URL): htmldate's
            # extensive search takes a year the body mentions ("since December 2016") for the
            # publication day (2016-01-01), which then files the article on the wrong side of
            # a summit and under the wrong period. An undated page stays undated.
            date_extraction_params=trafilatura.settings.set_date_params(extensive=False),
        )
    meta: dict[str, Any] = {}
    if isinstance(document, trafilatura.settings.Document):
        meta = document.as_dict()
    title = _clean(meta.get("title")) or (_head_title(tree) if tree is not None else None)
    text = _strip_leading_title(meta.get("text") or "", title)
    if not text:
        log.info("no article text found on %s", display_url(url))
    if len(text) > max_text_chars:
        raise ExtractionError(f"this page holds too much text (over {max_text_chars:,} "
                              "characters)")
    return ExtractedArticle(
        title=title,
        authors=_authors(meta.get("author")),
        published=_partial_date(meta.get("date")),
        text=text,
        canonical_url=_canonical(tree, url) if tree is not None else _safe_canonical(url),
        language=_language(tree, meta.get("language")) if tree is not None else None,
        feed_links=discover_feeds(tree, url) if tree is not None else (),
        site_name=_site_name(meta.get("sitename"), url),
        description=_clean(meta.get("description")),
    )


def discover_feeds(html: str | bytes | lxml.html.HtmlElement, url: str) -> tuple[str, ...]:
    """Absolute URLs of the RSS/Atom feeds a page advertises with <link rel="alternate">."""
    tree = html if isinstance(html, lxml.html.HtmlElement) else _parse(html)
    if tree is None:
        return ()
    base = _base_url(tree, url)
    found: dict[str, None] = {}
    for link in tree.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        media_type = (link.get("type") or "").split(";")[0].strip().lower()
        href = (link.get("href") or "").strip()
        if "alternate" in rels and media_type in FEED_LINK_TYPES and href:
            absolute = urllib.parse.urldefrag(urllib.parse.urljoin(base, href))[0]
            if urllib.parse.urlsplit(absolute).scheme in ("http", "https"):
                found.setdefault(absolute, None)
    return tuple(found)


def canonicalize_url(url: str) -> str:
    """A normal form of ``url`` for spotting duplicates.

    Lower-cases scheme and host, drops credentials, the fragment, default ports and tracking
    parameters, and the trailing slash of a non-root path; keeps the other parameters in order.
    """
    try:
        parts = urllib.parse.urlsplit(url.strip())
    except ValueError:  # an unclosed "[" of an IPv6 host: nothing to normalise
        return url.strip()
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return url.strip()
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = parts.path or "/"
    if path != "/":
        path = path.rstrip("/") or "/"
    # Filter the raw pieces rather than re-encoding, so the kept parameters stay byte-identical.
    query = "&".join(
        piece for piece in parts.query.split("&")
        if piece and not _is_tracking(urllib.parse.unquote_plus(piece.split("=", 1)[0]))
    )
    return urllib.parse.urlunsplit((scheme, netloc, path, query, ""))


def _is_tracking(name: str) -> bool:
    """True for query parameters that only track the click."""
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def _parse(html: str | bytes) -> lxml.html.HtmlElement | None:
    """An lxml tree of the page, or None when there is nothing to parse."""
    if isinstance(html, str):
        # lxml refuses str input that carries an XML encoding declaration.
        html = html.encode("utf-8")
        parser = lxml.html.HTMLParser(encoding="utf-8")
    else:
        parser = None
    if not html.strip():
        return None
    try:
        return lxml.html.fromstring(html, parser=parser)
    except (lxml.etree.ParserError, ValueError):
        return None


def _head_title(tree: lxml.html.HtmlElement) -> str | None:
    """og:title or <title> when the extractor found none."""
    og = tree.xpath('//meta[@property="og:title"]/@content')
    if og and _clean(og[0]):
        return _clean(og[0])
    titles = tree.xpath("//title/text()")
    return _clean(titles[0]) if titles else None


def _canonical(tree: lxml.html.HtmlElement, url: str) -> str | None:
    """The page's declared canonical URL (link rel=canonical, og:url), else ``url``; normalised."""
    base = _base_url(tree, url)
    candidates = [
        *(link.get("href") for link in tree.iter("link")
          if "canonical" in (link.get("rel") or "").lower().split()),
        *tree.xpath('//meta[@property="og:url"]/@content'),
    ]
    for candidate in candidates:
        if not candidate or not candidate.strip():
            continue
        absolute = urllib.parse.urljoin(base, candidate.strip())
        target = urllib.parse.urlsplit(absolute)
        if target.scheme not in ("http", "https"):
            continue
        # A canonical pointing at the site's home page from a deeper page is a template bug.
        if target.path in ("", "/") and urllib.parse.urlsplit(url).path not in ("", "/"):
            continue
        return canonicalize_url(absolute)
    return _safe_canonical(url)


def _safe_canonical(url: str) -> str | None:
    """``url`` normalised, or None when it is not an http(s) URL."""
    if urllib.parse.urlsplit(url).scheme in ("http", "https"):
        return canonicalize_url(url)
    return None


def _base_url(tree: lxml.html.HtmlElement, url: str) -> str:
    """The URL relative links resolve against (<base href> wins)."""
    bases = tree.xpath("//base/@href")
    return urllib.parse.urljoin(url, bases[0].strip()) if bases else url


def _language(tree: lxml.html.HtmlElement, detected: str | None) -> str | None:
    """Primary language subtag the page declares (html lang, content-language, og:locale)."""
    declared = [
        tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang"),
        *tree.xpath('//meta[translate(@http-equiv, "CONTENT-LANGUAGE", "content-language")'
                    '="content-language"]/@content'),
        *tree.xpath('//meta[@property="og:locale"]/@content'),
        detected,
    ]
    for value in declared:
        if value and value.strip():
            primary = re.split(r"[-_,\s]", value.strip())[0].lower()
            if primary.isalpha() and 2 <= len(primary) <= 3:
                return primary
    return None


def _authors(raw: str | None) -> tuple[str, ...]:
    """Author names from the extractor's '; '-joined string, de-duplicated in order."""
    if not raw:
        return ()
    names = (_clean(n) for n in _AUTHOR_SPLIT.split(raw))
    return tuple(dict.fromkeys(n for n in names if n))


def _partial_date(raw: str | None) -> str | None:
    """YYYY[-MM[-DD]] prefix of a date string, or None."""
    if not raw:
        return None
    match = re.match(r"\d{4}(?:-\d{2}(?:-\d{2})?)?", raw.strip())
    return match.group(0) if match else None


def _site_name(raw: str | None, url: str) -> str | None:
    """Site name, unless the extractor only echoed the host name."""
    name = _clean(raw)
    netloc = urllib.parse.urlsplit(url).netloc.lower()
    if not name or name.lower() in (netloc, netloc.removeprefix("www.")):
        return None
    return name


def _strip_leading_title(text: str, title: str | None) -> str:
    """Text without a first line that merely repeats the title."""
    text = text.strip()
    if title:
        first, _, rest = text.partition("\n")
        if first.strip().casefold() == title.casefold():
            return rest.strip()
    return text


def _clean(value: str | None) -> str | None:
    """Whitespace-collapsed text, or None when empty."""
    if not value:
        return None
    cleaned = " ".join(value.split())
    return cleaned or None

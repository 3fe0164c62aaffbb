"""Read an uploaded file (.txt, .md, .html, .pdf) into text and metadata, refusing anything else."""

from __future__ import annotations

import dataclasses
import io
import itertools
import logging
import re
from pathlib import PurePath
from typing import TYPE_CHECKING, Literal

from knowledge.sources.encoding import decode_bytes
from knowledge.sources.errors import ExtractionError, UploadError
from knowledge.sources.extract import check_markup_size, extract_here
from knowledge.sources.sandbox import ExtractionLimits, run_limited
from knowledge.sources.sniff import is_pdf, looks_like_markup, sniff_binary
from knowledge.sources.units import human_size
from knowledge.text.dates import byline_date
from knowledge.text.html import html_to_text
from knowledge.text.remote import plain_line

if TYPE_CHECKING:
    import pypdf

log = logging.getLogger(__name__)

FileType = Literal["txt", "md", "html", "pdf"]
EXTENSIONS: dict[str, FileType] = {
    ".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md", ".html": "html",
    ".htm": "html", ".xhtml": "html", ".pdf": "pdf",
}
SUPPORTED_HINT = "send .txt, .md, .html or .pdf"
_MAX_TITLE_CHARS = 150
_ATX_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_SETEXT_UNDERLINE = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_PDF_JUNK_TITLES = re.compile(r"^(untitled|microsoft word - .*|document\d*|.*\.(docx?|pdf|odt))$",
                              re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SENTENCE_END = re.compile(r"[.!?:;…][\"'”’)\]]*$")
_BYLINE_WITHIN = 5  # paragraphs from the top


def shown(name: str) -> str:
    """A file name as messages quote it: the uploader's text on one plain line (the bot
    escapes it for Discord)."""
    return plain_line(name, limit=100)


@dataclasses.dataclass(frozen=True, slots=True)
class UploadedDocument:
    """Text and metadata read from an uploaded file; ``warnings`` are worth showing the user."""

    filename: str
    file_type: FileType
    title: str | None
    authors: tuple[str, ...]
    published: str | None  # "YYYY-MM-DD", "YYYY-MM" or "YYYY" (fits PartialDate.parse)
    text: str
    language: str | None = None
    canonical_url: str | None = None  # only an HTML file's own <link rel=canonical>
    warnings: tuple[str, ...] = ()


def read_upload(filename: str, data: bytes, max_bytes: int, *,
                limits: ExtractionLimits | None = None) -> UploadedDocument:
    """Read an upload; raise UploadError for unsupported, oversized, empty or unreadable files.

    PDF and HTML are parsed in a sandbox worker within ``limits`` (ExtractionError at a limit).
    Blocks the calling thread: call it through a worker thread from async code.
    """
    limits = limits or ExtractionLimits()
    name = PurePath(filename).name or "upload"
    if len(data) > max_bytes:
        raise UploadError(f"refused: the file is larger than {human_size(max_bytes)}")
    if not data.strip():
        raise UploadError(f"{shown(name)} is empty")
    file_type = _file_type(name, data)
    if file_type == "pdf":
        return run_limited(read_pdf_here, name, data, limits.pdf_max_pages,
                           limits.max_text_chars, limits=limits, what="PDF")
    decoded = decode_bytes(data, markup=file_type == "html")
    warnings: tuple[str, ...] = ()
    if decoded.guessed:
        # INFO: the user sees this in the result (``warnings``); the operator needs it with -v.
        log.info("upload %s is not UTF-8; read as %s", name, decoded.encoding)
        warnings = (f"{shown(name)} is not UTF-8; it was read as {_encoding_label(decoded.encoding)}, "
                    "so a few characters may be wrong",)
    text = _CONTROL.sub("", decoded.text)
    if file_type != "html" and len(text) > limits.max_text_chars:
        raise UploadError(f"refused: {shown(name)} holds too much text (over "
                          f"{limits.max_text_chars:,} characters)")
    if file_type == "html":
        check_markup_size(text, limits, what="file")
        return run_limited(read_html_here, name, text, warnings, limits.max_text_chars,
                           limits=limits, what="file")
    if file_type == "md":
        return _read_markdown(name, text, warnings)
    body = _normalise_newlines(text)
    return UploadedDocument(name, "txt", _first_short_line(body), (), None, body,
                            warnings=warnings)


def _file_type(name: str, data: bytes) -> FileType:
    """The file's type from its extension, checked against what its bytes really are."""
    suffix = PurePath(name).suffix.lower()
    head = data[:8192]
    if suffix and suffix not in EXTENSIONS:
        raise UploadError(f"unsupported file type: {suffix} ({SUPPORTED_HINT})")
    binary = sniff_binary(head)
    if suffix == ".pdf" or (not suffix and is_pdf(head)):
        if not is_pdf(head):
            raise UploadError(f"{shown(name)} is not a real PDF ({SUPPORTED_HINT})")
        return "pdf"
    if binary:
        what = f"this {suffix} file holds {binary} data" if suffix else f"binary data ({binary})"
        raise UploadError(f"unsupported file type: {what} ({SUPPORTED_HINT})")
    if is_pdf(head):
        raise UploadError(f"{shown(name)} is a PDF: rename it to .pdf and add it again")
    if suffix:
        return EXTENSIONS[suffix]
    return "html" if looks_like_markup(head) else "txt"


def read_html_here(name: str, html: str, warnings: tuple[str, ...], max_text_chars: int
                   ) -> UploadedDocument:
    """An HTML file through the same extractor as fetched pages (inside a sandbox worker)."""
    article = extract_here(html, "", max_text_chars)
    text = article.text or html_to_text(html)
    if not text:
        raise UploadError(f"no text found in {shown(name)}")
    return UploadedDocument(name, "html", article.title, article.authors, article.published, text,
                            article.language, article.canonical_url, warnings)


def _read_markdown(name: str, text: str, warnings: tuple[str, ...]) -> UploadedDocument:
    """Markdown: YAML-style front matter for metadata, else the first heading for the title."""
    text = _normalise_newlines(text)
    meta: dict[str, str] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        meta = _front_matter(match.group(1))
        text = text[match.end():].strip()
    if not text:
        raise UploadError(f"no text found in {shown(name)}")
    title = meta.get("title") or _markdown_heading(text) or _first_short_line(text)
    authors = _split_names(meta.get("authors") or meta.get("author") or "")
    published = _partial_date(meta.get("date") or meta.get("published") or "")
    return UploadedDocument(name, "md", title, authors, published, text,
                            meta.get("lang") or meta.get("language"), None, warnings)


def read_pdf_here(name: str, data: bytes, max_pages: int, max_chars: int) -> UploadedDocument:
    """Text of every page plus the document info (title, author, creation date).

    Runs inside a sandbox worker. Refuses PDFs over ``max_pages`` pages before reading a page,
    and stops reading as soon as the text passes ``max_chars`` (pages can share one content
    stream, so a tiny file can hold any amount of text).
    """
    # Imported here, in the sandbox worker: a process that only answers questions never pays.
    import pypdf
    import pypdf.errors

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UploadError(f"refused: {shown(name)} is password-protected")
        count = len(reader.pages)
        if count > max_pages:
            raise ExtractionError(f"refused: {shown(name)} has {count:,} pages (the limit is "
                                  f"{max_pages:,})")
        pages: list[list[str]] = []
        total = 0
        for page in reader.pages:
            raw = page.extract_text() or ""
            total += len(raw)
            if total > max_chars:
                raise ExtractionError(f"refused: {shown(name)} holds too much text (over "
                                      f"{max_chars:,} characters)")
            pages.append(_pdf_paragraphs(_CONTROL.sub("", raw), _pdf_gaps(name, page)))
        info = reader.metadata
    except (UploadError, ExtractionError):
        raise
    except pypdf.errors.LimitReachedError as exc:
        log.warning("PDF %s hit a pypdf limit: %s", name, exc)
        raise ExtractionError(f"this PDF is too complex to extract ({shown(name)} is over pypdf's "
                              "own limits)") from None
    # pypdf reports damaged files through many exception types; all mean "cannot read it".
    except (pypdf.errors.PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError,
            RecursionError, OSError, NotImplementedError) as exc:
        # INFO: the user is told (UploadError); the operator sees why with -v / LOG_LEVEL=INFO.
        log.info("could not read PDF %s: %s: %s", name, type(exc).__name__, exc)
        raise UploadError(f"could not read {shown(name)}: the PDF looks damaged") from None
    paragraphs = _join_pages(pages)
    if not paragraphs:
        raise UploadError(f"no text found in {shown(name)} (scanned pages are not supported)")
    text = "\n\n".join(paragraphs)
    title: str | None = _pdf_field(info, "/Title")
    if title and _PDF_JUNK_TITLES.match(title):
        title = None
    # A date printed under the title is when the piece appeared; the file's creation date is
    # only when this PDF was made.
    return UploadedDocument(
        name, "pdf", title or _first_short_line(text), _split_names(_pdf_field(info, "/Author")),
        _byline_date(paragraphs) or _pdf_date(_pdf_field(info, "/CreationDate")), text,
    )


def _pdf_gaps(name: str, page: pypdf.PageObject) -> frozenset[str]:
    """Lines of a page that a vertical gap follows (paragraph ends), keyed by ``_line_key``.

    pypdf's layout mode shows those gaps as blank lines, but it lays text out row by row, which
    interleaves the columns of a two-column page; so the text itself comes from pypdf's default
    mode (content order) and layout mode only says where paragraphs end.
    """
    import pypdf.errors

    try:
        layout = page.extract_text(extraction_mode="layout")
    except pypdf.errors.LimitReachedError:
        raise
    except (pypdf.errors.PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError,
            ZeroDivisionError, NotImplementedError) as exc:
        # The page's text is still read; only its paragraph ends are guessed from the text.
        log.info("PDF %s: no layout for a page (%s: %s)", name, type(exc).__name__, exc)
        return frozenset()
    lines = [_line_key(line) for line in layout.splitlines()]
    return frozenset(line for line, after in itertools.pairwise(lines) if line and not after)


def _line_key(line: str) -> str:
    """A line without any whitespace: the two extraction modes space words differently."""
    return "".join(line.split())


def _pdf_paragraphs(raw: str, gaps: frozenset[str]) -> list[str]:
    """One page's hard-wrapped lines joined into paragraphs.

    A paragraph ends at a blank line, at a line a vertical gap follows (``gaps``), or at a short
    line that ends a sentence before a line that starts one; other lines are wrapped text.
    """
    lines = [" ".join(line.split()) for line in raw.splitlines()]
    longest = max((len(line) for line in lines), default=0)
    paragraphs: list[str] = []
    current = ""
    previous = ""
    for line in lines:
        if not line:
            ended = True
        else:
            ended = bool(current) and (
                _line_key(previous) in gaps
                or (_SENTENCE_END.search(previous) is not None and not line[0].islower()
                    and len(previous) < 0.7 * longest))
        if ended and current:
            paragraphs.append(current)
            current = ""
        if line:
            current = _join_wrapped(current, line) if current else line
        previous = line
    if current:
        paragraphs.append(current)
    return paragraphs


def _join_pages(pages: list[list[str]]) -> list[str]:
    """Every page's paragraphs; a sentence running on to the next page is one paragraph."""
    paragraphs: list[str] = []
    for page in pages:
        if (paragraphs and page and not _SENTENCE_END.search(paragraphs[-1])
                and page[0][0].islower()):
            paragraphs[-1] = _join_wrapped(paragraphs[-1], page[0])
            page = page[1:]
        paragraphs.extend(page)
    return paragraphs


def _join_wrapped(before: str, after: str) -> str:
    """Two parts of a wrapped line: "on the is-" + "lands" is "on the islands"."""
    if before.endswith("-") and before[-2:-1].isalpha() and after[:1].islower():
        return before[:-1] + after
    return f"{before} {after}"


def _byline_date(paragraphs: list[str]) -> str | None:
    """The date ending a "By Kenji Watanabe, 10 February 2020" line near the top, if any."""
    for paragraph in paragraphs[:_BYLINE_WITHIN]:
        published = byline_date(paragraph)
        if published is not None:
            return published.iso
    return None


def _pdf_field(info: pypdf.DocumentInformation | None, key: str) -> str:
    """One document-info string, or "" when missing or not text."""
    if info is None:
        return ""
    value = info.get(key)
    return " ".join(str(value).split()) if isinstance(value, str) else ""


def _pdf_date(raw: str) -> str | None:
    """'D:20170430120000Z' -> '2017-04-30'."""
    match = re.match(r"(?:D:)?(\d{4})(\d{2})?(\d{2})?", raw)
    if not match:
        return None
    return "-".join(p for p in match.groups() if p)


def _front_matter(block: str) -> dict[str, str]:
    """Simple ``key: value`` pairs (and ``- item`` lists) from a front-matter block."""
    meta: dict[str, str] = {}
    key: str | None = None
    for line in block.splitlines():
        item = re.match(r"^\s+-\s+(.+)$", line) or re.match(r"^-\s+(.+)$", line)
        if item and key:
            meta[key] = "; ".join(filter(None, [meta.get(key), _unquote(item.group(1))]))
            continue
        pair = re.match(r"^([A-Za-z_][\w-]*)\s*:\s*(.*)$", line)
        if pair:
            key = pair.group(1).lower()
            value = _unquote(pair.group(2))
            if value.startswith("[") and value.endswith("]"):
                value = "; ".join(_unquote(v) for v in value[1:-1].split(","))
            meta[key] = value
    return {k: v for k, v in meta.items() if v}


def _unquote(value: str) -> str:
    """A front-matter scalar without surrounding quotes."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1].strip()
    return value


def _split_names(raw: str) -> tuple[str, ...]:
    """Names separated by ';', ',' or ' and '."""
    names = (" ".join(n.split()) for n in re.split(r"\s*(?:;|,|\band\b|&)\s*", raw))
    return tuple(dict.fromkeys(n for n in names if n))


def _partial_date(raw: str) -> str | None:
    """YYYY[-MM[-DD]] prefix of a date, or None."""
    match = re.match(r"\d{4}(?:-\d{2}(?:-\d{2})?)?", raw.strip())
    return match.group(0) if match else None


def _markdown_heading(text: str) -> str | None:
    """The first Markdown heading (ATX ``# Title`` or setext underlined)."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        atx = _ATX_HEADING.match(line)
        if atx:
            return _strip_inline_markdown(atx.group(1))
        if (line.strip() and index + 1 < len(lines) and _SETEXT_UNDERLINE.match(lines[index + 1])
                and lines[index + 1].strip().startswith("=")):
            return _strip_inline_markdown(line)
    return None


def _strip_inline_markdown(text: str) -> str:
    """'**Bold** [link](url)' -> 'Bold link'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return " ".join(re.sub(r"[*_`]+", "", text).split())


def _first_short_line(text: str) -> str | None:
    """The first non-empty line, when it is short enough to be a title."""
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            return line if len(line) <= _MAX_TITLE_CHARS else None
    return None


def _normalise_newlines(text: str) -> str:
    """Unix newlines, no trailing spaces, at most one blank line in a row."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _encoding_label(encoding: str) -> str:
    """A reader-friendly encoding name."""
    return {"cp1252": "Windows-1252", "latin-1": "Latin-1"}.get(encoding, encoding)

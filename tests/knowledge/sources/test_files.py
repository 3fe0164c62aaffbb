"""read_upload(): the supported file types, their metadata, and every refusal."""

from __future__ import annotations

import codecs
import io
import logging

import pypdf
import pytest
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from knowledge.errors import BadInput
from knowledge.sources import UploadError, read_upload
from tests.fakes.web_server import FIXTURES

UPLOADS = FIXTURES / "uploads"
LIMIT = 1024 * 1024


def upload(name: str) -> bytes:
    """Bytes of an upload fixture."""
    return (UPLOADS / name).read_bytes()


def pdf_bytes(writer: pypdf.PdfWriter) -> bytes:
    """A PdfWriter's output as bytes."""
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def text_pdf(*pages: list[str], leading: int = 14) -> bytes:
    """A real PDF that sets each line of each page in Helvetica 11 at its own position, as word
    processors do; "" is a paragraph gap (vertical space, no text)."""
    writer = pypdf.PdfWriter()
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                             NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica"),
                             NameObject("/Encoding"): NameObject("/WinAnsiEncoding")})
    for lines in pages:
        page = writer.add_blank_page(width=612, height=792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
        operators, y = ["BT /F1 11 Tf"], 720
        for line in lines:
            if line:
                escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
                operators.append(f"1 0 0 1 72 {y} Tm ({escaped}) Tj")
            y -= leading
        operators.append("ET")
        stream = DecodedStreamObject()
        stream.set_data("\n".join(operators).encode("cp1252"))
        page.replace_contents(stream)
    return pdf_bytes(writer)


WRAPPED_REPORT = [
    "Kuril Talks Stall Again", "",
    "By Kenji Watanabe, 2020-02-10", "",
    "Tokyo read the new constitutional amendment on Iturup and Kunashir",
    "as a sign that Moscow will not discuss sovereignty at all. Officials",
    "in the Foreign Ministry said the joint economic activity on the is-",
    "lands would continue regardless.", "",
    "Few in Tokyo expect a treaty soon. The next round of talks, now set",
    "for the spring, is expected to deal with fishing quotas and visas.",
]


def test_plain_text() -> None:
    """A .txt file is read as is; its first short line is the title."""
    doc = read_upload("note.txt", upload("note.txt"), LIMIT)
    assert doc.file_type == "txt"
    assert doc.title == "Notes on the Vladivostok meeting"
    assert "eight-point plan" in doc.text
    assert doc.authors == () and doc.published is None and doc.warnings == ()


def test_markdown_front_matter() -> None:
    """Front matter gives title, authors and date, and is not part of the text."""
    doc = read_upload("brief.md", upload("brief.md"), LIMIT)
    assert doc.file_type == "md"
    assert doc.title == "Why the 2+2 Format Matters"
    assert doc.authors == ("Tomas Lindqvist", "Mira Kovalenko")
    assert doc.published == "2017-03-22"
    assert doc.text.startswith("# Why the 2+2 Format Matters (draft)")
    assert "author:" not in doc.text


def test_markdown_heading_is_the_title() -> None:
    """Without front matter the first heading is the title (.markdown works too)."""
    doc = read_upload("notes.markdown", upload("notes.markdown"), LIMIT)
    assert doc.title == "Summit notes"


def test_markdown_setext_heading() -> None:
    """An underlined heading counts as well."""
    data = b"Osaka and After\n===============\n\nThe meeting was short.\n"
    assert read_upload("osaka.md", data, LIMIT).title == "Osaka and After"


def test_html_file_uses_the_article_extractor() -> None:
    """An .html upload is extracted like a fetched page: body kept, furniture dropped."""
    doc = read_upload("after-nagato.html", (FIXTURES / "article.html").read_bytes(), LIMIT)
    assert doc.file_type == "html"
    assert doc.title == "After Nagato: What the Summit Did and Did Not Settle"
    assert doc.authors == ("Mira Kovalenko",)
    assert doc.published == "2016-12-20"
    assert doc.language == "en"
    assert doc.canonical_url == "https://analysis.example.org/commentary/after-nagato"
    assert "legal regime itself" in doc.text and "Donate" not in doc.text


def test_short_html_falls_back_to_visible_text() -> None:
    """A tiny HTML file with no 'article' still gives its visible text."""
    data = b"<html><head><title>Memo</title></head><body><p>Talks resume in May.</p></body></html>"
    doc = read_upload("memo.htm", data, LIMIT)
    assert doc.title == "Memo"
    assert doc.text == "Talks resume in May."


def test_pdf_text_and_info() -> None:
    """A PDF gives its page text and the title, author and date of its document info."""
    doc = read_upload("report.pdf", (FIXTURES / "report.pdf").read_bytes(), LIMIT)
    assert doc.file_type == "pdf"
    assert doc.title == "Russia and Japan after the Moscow Summit"
    assert doc.authors == ("Mira Kovalenko",)
    assert doc.published == "2017-04-30"
    assert "first concrete step toward joint economic activity" in doc.text


def test_pdf_wrapped_lines_are_joined_into_paragraphs() -> None:
    """Hard-wrapped lines are one paragraph (a hyphenated word break joined); paragraphs end
    at the gaps between them; a sentence running on to the next page stays one paragraph."""
    doc = read_upload("report.pdf", text_pdf(WRAPPED_REPORT, [
        "but none of that was", "on the agenda in Moscow."]), LIMIT)
    assert doc.title == "Kuril Talks Stall Again"
    assert doc.text.split("\n\n") == [
        "Kuril Talks Stall Again",
        "By Kenji Watanabe, 2020-02-10",
        "Tokyo read the new constitutional amendment on Iturup and Kunashir as a sign that "
        "Moscow will not discuss sovereignty at all. Officials in the Foreign Ministry said the "
        "joint economic activity on the islands would continue regardless.",
        "Few in Tokyo expect a treaty soon. The next round of talks, now set for the spring, is "
        "expected to deal with fishing quotas and visas.",
        "but none of that was on the agenda in Moscow.",
    ]


@pytest.mark.parametrize(("byline", "published"), [
    ("By Kenji Watanabe, 2020-02-10", "2020-02-10"),
    ("By Kenji Watanabe, 10 February 2020", "2020-02-10"),
    ("By Kenji Watanabe and Mira Kovalenko, Feb. 10, 2020", "2020-02-10"),
    ("By Kenji Watanabe, February 2020", "2020-02"),
    ("By Kenji Watanabe, Senior Fellow", None),
])
def test_pdf_byline_date_is_the_publication_date(byline: str, published: str | None) -> None:
    """A date after the byline's names dates an undated PDF; a role is not a date."""
    lines = [byline if line.startswith("By ") else line for line in WRAPPED_REPORT]
    assert read_upload("report.pdf", text_pdf(lines), LIMIT).published == published


def test_pdf_byline_date_wins_over_the_file_creation_date() -> None:
    """The printed date is when the piece appeared; the PDF's CreationDate is when it was made."""
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(text_pdf(WRAPPED_REPORT)))
    writer.add_metadata({"/CreationDate": "D:20230105120000Z"})
    assert read_upload("report.pdf", pdf_bytes(writer), LIMIT).published == "2020-02-10"


def test_cp1252_text_is_read_with_a_warning() -> None:
    """Text that is not UTF-8 is read as Windows-1252 and the user is told."""
    doc = read_upload("legacy-cp1252.txt", upload("legacy-cp1252.txt"), LIMIT)
    assert doc.text.startswith("Café diplomacy: naïve hopes for a \u201cgrand bargain\u201d")
    assert doc.warnings == ("legacy-cp1252.txt is not UTF-8; it was read as Windows-1252, "
                            "so a few characters may be wrong",)


def test_latin1_warning_is_for_the_user_not_a_warning_log(caplog: pytest.LogCaptureFixture
                                                          ) -> None:
    """The user gets the encoding warning in the result; the operator's log has it at INFO only
    (a WARNING would print it a second time on the CLI)."""
    with caplog.at_level(logging.INFO, logger="knowledge.sources.files"):
        doc = read_upload("latin1.txt", "Café notes\nna\u00efve r\u00e9sum\u00e9".encode("latin-1"),
                          LIMIT)
    assert doc.text == "Café notes\nnaïve résumé" and len(doc.warnings) == 1
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.INFO, "upload latin1.txt is not UTF-8; read as cp1252")]


def test_utf8_bom_is_dropped_without_warning() -> None:
    """A UTF-8 BOM is not part of the text and is not a problem."""
    doc = read_upload("bom.txt", codecs.BOM_UTF8 + "Résumé\nbody".encode(), LIMIT)
    assert doc.title == "Résumé" and doc.warnings == ()


def test_utf16_text() -> None:
    """UTF-16 with a BOM (Windows Notepad) is decoded, not taken for binary."""
    doc = read_upload("notepad.txt", "Summit notes\nline two".encode("utf-16"), LIMIT)
    assert doc.title == "Summit notes"


def test_windows_newlines_are_normalised() -> None:
    """CRLF line ends and runs of blank lines are tidied."""
    doc = read_upload("crlf.txt", b"Title\r\n\r\n\r\n\r\nBody line\r\n", LIMIT)
    assert doc.text == "Title\n\nBody line"


@pytest.mark.parametrize(("data", "file_type"), [
    (b"Plain notes\nwithout a name", "txt"),
    (b"<!DOCTYPE html><html><head><title>T</title></head><body><p>Hi there.</p></body></html>",
     "html"),
])
def test_file_without_extension_is_sniffed(data: bytes, file_type: str) -> None:
    """Without an extension the content decides between text and HTML."""
    assert read_upload("upload", data, LIMIT).file_type == file_type


def test_pdf_without_extension_is_read() -> None:
    """PDF bytes without an extension are recognised by their magic number."""
    assert read_upload("scan", (FIXTURES / "report.pdf").read_bytes(), LIMIT).file_type == "pdf"


def test_long_first_line_is_not_a_title() -> None:
    """A paragraph-long first line is not used as a title."""
    assert read_upload("a.txt", b"word " * 100, LIMIT).title is None


@pytest.mark.parametrize(("name", "data", "message"), [
    ("brief.docx", b"PK\x03\x04" + b"\x00" * 64,
     "unsupported file type: .docx (send .txt, .md, .html or .pdf)"),
    ("slides.pptx", b"anything",
     "unsupported file type: .pptx (send .txt, .md, .html or .pdf)"),
    ("photo.txt", (FIXTURES / "image.png").read_bytes(),
     "unsupported file type: this .txt file holds image/png data (send .txt, .md, .html or .pdf)"),
    ("notes.md", b"# Title\x00\x00\x01\x02binary",
     "unsupported file type: this .md file holds application/octet-stream data "
     "(send .txt, .md, .html or .pdf)"),
    ("archive", b"\x1f\x8b\x08\x00" + b"\x00" * 32,
     "unsupported file type: binary data (application/gzip) (send .txt, .md, .html or .pdf)"),
    ("report.pdf", b"<html>not a pdf</html>",
     "report.pdf is not a real PDF (send .txt, .md, .html or .pdf)"),
    ("report.txt", (FIXTURES / "report.pdf").read_bytes(),
     "report.txt is a PDF: rename it to .pdf and add it again"),
    ("empty.txt", b"", "empty.txt is empty"),
    ("blank.md", b" \n\t\n", "blank.md is empty"),
    ("only-front-matter.md", b"---\ntitle: x\n---\n", "no text found in only-front-matter.md"),
])
def test_refusals(name: str, data: bytes, message: str) -> None:
    """Unsupported, disguised, empty and mislabelled files are refused with a short message."""
    with pytest.raises(UploadError) as caught:
        read_upload(name, data, LIMIT)
    assert caught.value.message == message


def test_too_large_is_refused() -> None:
    """A file over the limit is refused before it is parsed, and the limit is named."""
    with pytest.raises(UploadError) as caught:
        read_upload("big.txt", b"a" * 2_000_001, 2_000_000)
    assert caught.value.message == "refused: the file is larger than 2 MB"


def test_upload_errors_are_bad_input() -> None:
    """UploadError is BadInput, so the bot answers it like any malformed request."""
    with pytest.raises(BadInput):
        read_upload("x.exe", b"MZ\x90\x00", LIMIT)


def test_path_in_filename_is_ignored() -> None:
    """Only the base name of a client-supplied filename is used."""
    assert read_upload("../../etc/note.txt", b"Hello", LIMIT).filename == "note.txt"


def test_password_protected_pdf_is_refused() -> None:
    """An encrypted PDF that needs a password is refused, not misread."""
    writer = pypdf.PdfWriter(clone_from=io.BytesIO((FIXTURES / "report.pdf").read_bytes()))
    writer.encrypt(user_password="secret", owner_password="owner")
    with pytest.raises(UploadError) as caught:
        read_upload("locked.pdf", pdf_bytes(writer), LIMIT)
    assert caught.value.message == "refused: locked.pdf is password-protected"


def test_pdf_encrypted_without_password_is_read() -> None:
    """A PDF encrypted with an empty user password (print restrictions only) is readable."""
    writer = pypdf.PdfWriter(clone_from=io.BytesIO((FIXTURES / "report.pdf").read_bytes()))
    writer.encrypt(user_password="", owner_password="owner")
    doc = read_upload("restricted.pdf", pdf_bytes(writer), LIMIT)
    assert "survey mission" in doc.text


def test_pdf_without_text_is_refused() -> None:
    """A PDF of blank (or scanned) pages has no text to index."""
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=612, height=792)
    with pytest.raises(UploadError) as caught:
        read_upload("scan.pdf", pdf_bytes(writer), LIMIT)
    assert caught.value.message == "no text found in scan.pdf (scanned pages are not supported)"


def test_damaged_pdf_is_refused() -> None:
    """A truncated PDF gives a clear message instead of a parser traceback."""
    data = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R"
    with pytest.raises(UploadError) as caught:
        read_upload("broken.pdf", data, LIMIT)
    assert caught.value.message == "could not read broken.pdf: the PDF looks damaged"


@pytest.mark.parametrize("name", ["dump.txt", "dump.md"])
def test_a_text_file_with_too_much_text_is_refused(name: str) -> None:
    """Text and Markdown obey the same text limit as HTML and PDF (EXTRACT_MAX_TEXT_CHARS)."""
    from knowledge.sources.sandbox import ExtractionLimits

    limits = ExtractionLimits(max_text_chars=10_000)
    data = ("# A dump\n\n" + "the summit negotiators talked " * 400).encode()
    with pytest.raises(UploadError, match=r"holds too much text \(over 10,000 characters\)"):
        read_upload(name, data, LIMIT, limits=limits)
    assert read_upload(name, data[:9000], LIMIT, limits=limits).text

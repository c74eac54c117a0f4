"""Binary formats, turned into text while what they inflate to is bounded: PDF (page by page)
and DOCX."""

from __future__ import annotations

import io
import re
import zipfile

from allin.errors import TooLarge
from allin.rag.limits import (
    RATIO_FLOOR_BYTES,
    DocumentLimits,
    check_chars,
    check_inflation,
    check_pages,
    too_large,
)
from allin.rag.markup import add_paragraphs, markdown_document
from allin.rag.parsed import CorruptDocument, ParsedDocument, SectionBuilder
from allin.storage.text import strip_nul


def parse_pdf(
    data: bytes, limits: DocumentLimits | None = None, name: str = "the PDF"
) -> ParsedDocument:
    """The text layer page by page. Pages are counted before any is read, and each page's
    decoded content streams are added up before its text is extracted: a page tree that repeats
    one page, or a few kilobytes of Flate inflating to megabytes of drawing operators, is refused
    before the slow part."""
    from pypdf import PdfReader, apply_configuration, get_configuration
    from pypdf.errors import LimitReachedError, PdfReadError

    limits = limits or DocumentLimits()
    # pypdf's own limits (75 MB a stream, 100,000 pages) are far above ours: bring them down so
    # that it stops decoding or walking the page tree as soon as ours are exceeded.
    most = limits.uncompressed_bytes + 1
    configuration = get_configuration().with_overwrites(
        zlib_maximum_output_length=most,
        lzw_maximum_output_length=most,
        run_length_maximum_output_length=most,
        brotli_maximum_output_length=most,
        jbig2_maximum_output_length=most,
        array_based_stream_maximum_output_length=most,
        page_tree_maximum_entries=2 * limits.pages + 100,
    )
    pages: list[str] = []
    try:
        with apply_configuration(configuration):
            reader = PdfReader(io.BytesIO(data))
            check_pages(name, len(reader.pages), limits)
            inflated = chars = 0
            for page in reader.pages:
                contents = page.get_contents()
                inflated += len(contents.get_data()) if contents is not None else 0
                check_inflation(name, inflated, len(data), limits)
                pages.append(page.extract_text() or "")
                chars += len(pages[-1])
                check_chars(name, chars, limits)
            metadata = reader.metadata
    except LimitReachedError as exc:
        raise _pdf_limit(name, exc, limits) from None
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise CorruptDocument(f"cannot read the PDF: {exc}") from None
    builder = SectionBuilder()
    text = ""
    for number, page_text in enumerate(pages, 1):
        builder.page(number)
        start = len(text)
        text += strip_nul(page_text).replace("\r\n", "\n").strip() + "\n\n"
        add_paragraphs(builder, text, start, len(text))
    title = strip_nul(metadata.title) if metadata and metadata.title else None
    return ParsedDocument(text, builder.sections, title)


def _pdf_limit(name: str, exc: Exception, limits: DocumentLimits) -> TooLarge:
    """pypdf's refusal (a limit we lowered, or one of its own) as ours, naming our setting."""
    if "page" in str(exc).lower():
        what = f"more than {limits.pages:,} pages (pypdf: {exc})"
        return too_large(name, what, limits.pages, "pages", "max_document_pages")
    return too_large(
        name,
        f"pypdf: {exc}",
        limits.uncompressed_bytes,
        "uncompressed bytes",
        "max_document_uncompressed_bytes",
    )


def _check_zip(name: str, data: bytes, limits: DocumentLimits) -> None:
    """Refuse an archive by its members' declared sizes, before anything is inflated. A member
    cannot inflate past its declared size: `zipfile` stops there (and fails on the CRC)."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise CorruptDocument(f"cannot read the DOCX: {exc}") from None
    for member in members:
        if member.file_size > RATIO_FLOOR_BYTES:
            check_inflation(
                f"{name} ({member.filename})", member.file_size, member.compress_size, limits
            )
    check_inflation(name, sum(member.file_size for member in members), len(data), limits)


def parse_docx(
    data: bytes, limits: DocumentLimits | None = None, name: str = "the DOCX"
) -> ParsedDocument:
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    limits = limits or DocumentLimits()
    _check_zip(name, data, limits)
    try:
        document = Document(io.BytesIO(data))
    except (PackageNotFoundError, ValueError, KeyError) as exc:
        raise CorruptDocument(f"cannot read the DOCX: {exc}") from None
    parts = []
    chars = 0
    for paragraph in document.paragraphs:
        words = paragraph.text.strip()
        if not words:
            continue
        chars += len(words) + 2
        check_chars(name, chars, limits)
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        heading = re.match(r"Heading (\d)", style)
        if style == "Title" or heading:
            # The title is the top level; "Heading 1" sits under it.
            depth = int(heading.group(1)) + 1 if heading else 1
            parts.append(f"{'#' * min(depth, 6)} {words}")
        else:
            parts.append(words)
    return markdown_document("\n\n".join(parts) + "\n")

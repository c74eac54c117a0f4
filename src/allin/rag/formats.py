"""Format detection and parsers: Markdown, reStructuredText, plain text, source code, HTML, PDF and
DOCX become a `ParsedDocument`.

Text formats keep their raw text (markup included) so that chunks are verbatim slices of the file;
binary formats (PDF, DOCX) and HTML are first turned into text, PDFs page by page.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from allin.errors import BadRequest, TooLarge
from allin.rag.limits import (
    RATIO_FLOOR_BYTES,
    DocumentLimits,
    check_chars,
    check_inflation,
    check_pages,
    too_large,
)
from allin.rag.parsed import ParsedDocument, SectionBuilder
from allin.storage.text import strip_nul


class UnsupportedFormat(BadRequest):
    """The file's type is not one we can read."""


class CorruptDocument(BadRequest):
    """The file claims a format but cannot be read as it."""


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    mime: str
    parse: Callable[[bytes], ParsedDocument]


# --- text helpers ---------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    # A NUL early on means a binary file; a stray one later is dropped (Postgres cannot store it).
    if b"\x00" in data[:8192]:
        raise CorruptDocument("the file looks binary, not text")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            return strip_nul(text).replace("\r\n", "\n").replace("\r", "\n")
        except UnicodeDecodeError:
            continue
    raise CorruptDocument("the file is not valid UTF-8 text")


_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def _paragraphs(builder: SectionBuilder, text: str, start: int, end: int) -> None:
    """Blocks for the blank-line separated paragraphs of `text[start:end]`."""
    position = start
    for separator in _BLANK_LINE.finditer(text, start, end):
        _trimmed_block(builder, text, position, separator.start())
        position = separator.end()
    _trimmed_block(builder, text, position, end)


def _trimmed_block(builder: SectionBuilder, text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    builder.block(start, end)


def _lines(text: str) -> list[tuple[int, str]]:
    """(offset, line without its newline) for every line."""
    out, offset = [], 0
    for line in text.split("\n"):
        out.append((offset, line))
        offset += len(line) + 1
    return out


# --- Markdown -------------------------------------------------------------------------------------

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")


def parse_markdown(data: bytes) -> ParsedDocument:
    return markdown_document(_decode(data))


def markdown_document(text: str) -> ParsedDocument:
    builder = SectionBuilder()
    lines = _lines(text)
    title: str | None = None
    prose_start: int | None = None

    def flush(until: int) -> None:
        nonlocal prose_start
        if prose_start is not None:
            _paragraphs(builder, text, prose_start, until)
            prose_start = None

    i = 0
    while i < len(lines):
        offset, line = lines[i]
        if fence := _FENCE.match(line):
            flush(offset)
            marker = fence.group(1)
            j = i + 1
            while j < len(lines) and not lines[j][1].lstrip().startswith(marker):
                j += 1
            last = min(j, len(lines) - 1)
            builder.block(offset, lines[last][0] + len(lines[last][1]), "code")
            i = last + 1
            continue
        heading = _ATX.match(line)
        level = len(heading.group(1)) if heading else 0
        name = heading.group(2) if heading else ""
        underline = lines[i + 1][1] if i + 1 < len(lines) else ""
        starts_paragraph = i == 0 or not lines[i - 1][1].strip()
        if not heading and line.strip() and starts_paragraph and _SETEXT.match(underline):
            level, name = (1 if underline.strip()[0] == "=" else 2), line
        if level:
            flush(offset)
            builder.heading(level, name)
            title = title or name.strip()
            span_end = offset + len(line) if heading else lines[i + 1][0] + len(underline)
            builder.block(offset, span_end, "heading")
            i += 1 if heading else 2
            continue
        if prose_start is None and line.strip():
            prose_start = offset
        i += 1
    flush(len(text))
    return ParsedDocument(text, builder.sections, title)


# --- reStructuredText -----------------------------------------------------------------------------

_ADORNMENT = re.compile(r"^([=\-`:'\"~^_*+#<>.])\1{2,}\s*$")
_CODE_DIRECTIVE = re.compile(r"^\s*\.\. (code-block|sourcecode|code|literalinclude)::")
_LITERAL_INTRO = re.compile(r"::\s*$")
# API entries (`.. py:data:: SECRET_KEY`, `.. function:: url_for`) name what the text below
# documents: they become the innermost heading so chunks cite them.
_OBJECT_DIRECTIVE = re.compile(
    r"^\.\. (?:py:)?(?:data|function|class|method|attribute|decorator|exception|module)::\s*(\S.*)$"
)


def parse_rst(data: bytes) -> ParsedDocument:
    text = _decode(data)
    builder = SectionBuilder()
    lines = _lines(text)
    styles: list[tuple[str, bool]] = []  # adornment styles in order of first use = heading levels
    title: str | None = None
    prose_start: int | None = None
    literal_next = False
    level = 0

    def flush(until: int) -> None:
        nonlocal prose_start
        if prose_start is not None:
            _paragraphs(builder, text, prose_start, until)
            prose_start = None

    def indented_block(i: int) -> int:
        """Index just past the indented block that starts after line i (blank lines allowed)."""
        j = i + 1
        while j < len(lines) and not lines[j][1].strip():
            j += 1
        base = len(lines[i][1]) - len(lines[i][1].lstrip())
        end = j
        while j < len(lines):
            line = lines[j][1]
            if line.strip() and len(line) - len(line.lstrip()) <= base:
                break
            j += 1
            if line.strip():
                end = j
        return end

    i = 0
    while i < len(lines):
        offset, line = lines[i]
        next_line = lines[i + 1][1] if i + 1 < len(lines) else ""
        after = lines[i + 2][1] if i + 2 < len(lines) else ""
        overline = bool(_ADORNMENT.match(line)) and bool(next_line.strip())
        if overline and _ADORNMENT.match(after) and after.strip()[0] == line.strip()[0]:
            style, name, consumed = (line.strip()[0], True), next_line, 3
        elif (
            line.strip()
            and not line.startswith((" ", "\t"))
            and _ADORNMENT.match(next_line)
            and len(next_line.rstrip()) >= len(line.rstrip()) - 1
        ):
            style, name, consumed = (next_line.strip()[0], False), line, 2
        else:
            consumed = 0
        if consumed:
            flush(offset)
            if style not in styles:
                styles.append(style)
            level = styles.index(style) + 1
            builder.heading(level, name)
            title = title or name.strip()
            last = lines[i + consumed - 1]
            builder.block(offset, last[0] + len(last[1]), "heading")
            i += consumed
            literal_next = False
            continue
        if entry := _OBJECT_DIRECTIVE.match(line):
            flush(offset)
            builder.heading(level + 1, entry.group(1))
        if _CODE_DIRECTIVE.match(line) or (literal_next and line.strip()):
            if literal_next and line.startswith((" ", "\t")):
                # The indented block after a paragraph ending in "::" is a literal (code) block.
                flush(offset)
                end = indented_block(i - 1)
            else:
                flush(offset)
                end = indented_block(i)
            last = lines[end - 1]
            builder.block(offset, last[0] + len(last[1]), "code")
            i = end
            literal_next = False
            continue
        if line.strip():
            if prose_start is None:
                prose_start = offset
            literal_next = bool(_LITERAL_INTRO.search(line))
        elif literal_next:
            flush(offset)
        i += 1
    flush(len(text))
    return ParsedDocument(text, builder.sections, title)


# --- plain text and source code -------------------------------------------------------------------


def parse_text(data: bytes) -> ParsedDocument:
    text = _decode(data)
    builder = SectionBuilder()
    _paragraphs(builder, text, 0, len(text))
    return ParsedDocument(text, builder.sections)


# A top-level definition in most languages: it starts a section named after its first line.
_DEFINITION = re.compile(
    r"^(?:export\s+)?(?:public\s+|private\s+|static\s+|async\s+|pub\s+)*"
    r"(def|class|fn|func|function|interface|struct|enum|impl|trait|type|module|package)\b"
)


def parse_code(data: bytes) -> ParsedDocument:
    """Sections at top-level definitions; blank-line separated blocks inside them, kept as code."""
    text = _decode(data)
    builder = SectionBuilder()
    start = 0
    for offset, line in _lines(text):
        if _DEFINITION.match(line) and offset > start:
            _code_blocks(builder, text, start, offset)
            start = offset
        if _DEFINITION.match(line):
            builder.heading(1, line.strip().rstrip("{:").strip())
    _code_blocks(builder, text, start, len(text))
    return ParsedDocument(text, builder.sections)


def _code_blocks(builder: SectionBuilder, text: str, start: int, end: int) -> None:
    position = start
    for separator in _BLANK_LINE.finditer(text, start, end):
        if separator.start() > position:
            builder.block(position, separator.start(), "code")
        position = separator.end()
    while end > position and text[end - 1].isspace():
        end -= 1
    builder.block(position, end, "code")


# --- HTML, PDF, DOCX: converted to text first -----------------------------------------------------


def parse_html(data: bytes) -> ParsedDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(data), "html.parser")
    for hidden in soup(["script", "style", "noscript", "template", "nav", "footer"]):
        hidden.decompose()
    parts: list[str] = []
    for element in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "td"]):
        if element.find_parent(["pre", "li", "td"]) is not None and element.name != "li":
            continue
        if element.name == "pre":
            parts.append(f"```\n{element.get_text().strip(chr(10))}\n```")
            continue
        words = " ".join(element.get_text(" ").split())
        if not words:
            continue
        if element.name.startswith("h"):
            parts.append(f"{'#' * int(element.name[1])} {words}")
        else:
            parts.append(f"- {words}" if element.name == "li" else words)
    if not parts:
        text = " ".join(soup.get_text(" ").split())
        parts = [text] if text else []
    document = markdown_document("\n\n".join(parts) + "\n")
    title = soup.title.get_text().strip() if soup.title else None
    return ParsedDocument(document.text, document.sections, title or document.title)


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
        _paragraphs(builder, text, start, len(text))
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


# --- detection ------------------------------------------------------------------------------------

MARKDOWN = Format("markdown", "text/markdown", parse_markdown)
RST = Format("rst", "text/x-rst", parse_rst)
TEXT = Format("text", "text/plain", parse_text)
CODE = Format("code", "text/x-source", parse_code)
HTML = Format("html", "text/html", parse_html)
PDF = Format("pdf", "application/pdf", parse_pdf)
DOCX = Format(
    "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", parse_docx
)

_BY_SUFFIX: dict[str, Format] = {
    **dict.fromkeys((".md", ".markdown", ".mdx"), MARKDOWN),
    **dict.fromkeys((".rst", ".rest"), RST),
    **dict.fromkeys((".txt", ".text", ".log", ".csv", ".cfg", ".ini", ".toml"), TEXT),
    **dict.fromkeys((".yaml", ".yml", ".json", ".sql", ".sh", ".bash", ".env"), TEXT),
    **dict.fromkeys(
        (
            ".py",
            ".js",
            ".mjs",
            ".ts",
            ".tsx",
            ".jsx",
            ".go",
            ".rs",
            ".java",
            ".kt",
            ".rb",
            ".php",
            ".c",
            ".h",
            ".cc",
            ".cpp",
            ".hpp",
            ".cs",
            ".swift",
            ".scala",
            ".lua",
            ".r",
        ),
        CODE,
    ),
    **dict.fromkeys((".html", ".htm", ".xhtml"), HTML),
    ".pdf": PDF,
    ".docx": DOCX,
}
_BY_NAME = {"makefile": CODE, "dockerfile": CODE, "readme": TEXT, "license": TEXT}

SUPPORTED_SUFFIXES = frozenset(_BY_SUFFIX)


def detect_format(name: str, data: bytes) -> Format:
    """The format of a file from its name, checked against its first bytes for binary formats."""
    path = PurePosixPath(name.replace("\\", "/"))
    found = _BY_SUFFIX.get(path.suffix.lower()) or _BY_NAME.get(path.name.lower())
    if data.startswith(b"%PDF-"):
        return PDF
    if found is None:
        raise UnsupportedFormat(
            f"{path.name}: unsupported file type; supported: {', '.join(sorted(_BY_SUFFIX))}"
        )
    if found is PDF:
        raise CorruptDocument(f"{path.name}: not a PDF (no %PDF- header)")
    if found is DOCX and not data.startswith(b"PK"):
        raise CorruptDocument(f"{path.name}: not a DOCX (not a zip archive)")
    return found


def parse(
    name: str, data: bytes, limits: DocumentLimits | None = None
) -> tuple[Format, ParsedDocument]:
    """Detect and parse, within `limits`: what a binary format inflates to is bounded while it is
    read; every format's text, once read."""
    limits = limits or DocumentLimits()
    document_format = detect_format(name, data)
    if document_format is PDF:
        document = parse_pdf(data, limits, name)
    elif document_format is DOCX:
        document = parse_docx(data, limits, name)
    else:
        document = document_format.parse(data)
    check_chars(name, len(document.text), limits)
    return document_format, document

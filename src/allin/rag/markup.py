"""Text formats and HTML: Markdown, reStructuredText, plain text and source code keep their raw
text (markup included), so that chunks are verbatim slices of the file; HTML is first turned into
Markdown."""

from __future__ import annotations

import re

from allin.rag.parsed import CorruptDocument, ParsedDocument, SectionBuilder
from allin.storage.text import strip_nul

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


def add_paragraphs(builder: SectionBuilder, text: str, start: int, end: int) -> None:
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
            add_paragraphs(builder, text, prose_start, until)
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
            add_paragraphs(builder, text, prose_start, until)
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
    add_paragraphs(builder, text, 0, len(text))
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


# --- HTML: converted to Markdown first ------------------------------------------------------------


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

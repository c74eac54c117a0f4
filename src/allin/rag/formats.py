"""Format detection: a file's format from its name and first bytes, and `parse`, which turns it
into a `ParsedDocument` within the document limits (parsers: `markup` for text formats and HTML,
`binary_formats` for PDF and DOCX)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from allin.errors import BadRequest
from allin.rag.binary_formats import parse_docx, parse_pdf
from allin.rag.limits import DocumentLimits, check_chars
from allin.rag.markup import parse_code, parse_html, parse_markdown, parse_rst, parse_text
from allin.rag.parsed import CorruptDocument, ParsedDocument

__all__ = ["CorruptDocument", "Format", "UnsupportedFormat", "detect_format", "parse"]


class UnsupportedFormat(BadRequest):
    """The file's type is not one we can read."""


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    mime: str
    parse: Callable[[bytes], ParsedDocument]


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

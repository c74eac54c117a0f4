"""What one uploaded document may cost to read: the 20 MB upload limit bounds only the compressed
file, so a few kilobytes of DOCX or PDF can still inflate to gigabytes, thousands of pages or
hours of parsing. Each bound here is a setting; a document over one is refused as `too_large`
with a message naming the setting.
"""

from __future__ import annotations

from dataclasses import dataclass

from allin.errors import TooLarge

# A member or stream smaller than this is never refused for its compression ratio: small,
# repetitive XML parts (styles, numbering) legitimately compress very well.
RATIO_FLOOR_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    uncompressed_bytes: int = 64 * 1024 * 1024
    compression_ratio: int = 100
    pages: int = 2000
    chars: int = 2_000_000
    chunks: int = 2000
    parse_timeout_s: float = 60.0
    parser_memory_bytes: int = 1024 * 1024 * 1024


def too_large(name: str, what: str, limit: int | float, unit: str, setting: str) -> TooLarge:
    """The refusal for one bound: `name: <what>; the limit is <limit> <unit> (ALLIN_<SETTING>)`."""
    shown = f"{limit:,}" if isinstance(limit, int) else f"{limit:g}"
    return TooLarge(f"{name}: {what}; the limit is {shown} {unit} (ALLIN_{setting.upper()})")


def check_inflation(name: str, inflated: int, compressed: int, limits: DocumentLimits) -> None:
    """Refuse `inflated` bytes decoded from `compressed` ones: too many, or too many per byte."""
    if inflated > limits.uncompressed_bytes:
        raise too_large(
            name,
            f"it inflates to at least {inflated:,} bytes",
            limits.uncompressed_bytes,
            "uncompressed bytes",
            "max_document_uncompressed_bytes",
        )
    ratio = inflated / max(compressed, 1)
    if inflated > RATIO_FLOOR_BYTES and ratio > limits.compression_ratio:
        raise too_large(
            name,
            f"{compressed:,} bytes inflate to {inflated:,} ({ratio:,.0f} times)",
            limits.compression_ratio,
            "times",
            "max_document_compression_ratio",
        )


def check_pages(name: str, pages: int, limits: DocumentLimits) -> None:
    if pages > limits.pages:
        raise too_large(name, f"{pages:,} pages", limits.pages, "pages", "max_document_pages")


def check_chars(name: str, chars: int, limits: DocumentLimits) -> None:
    if chars > limits.chars:
        raise too_large(
            name,
            f"more than {chars:,} characters of text",
            limits.chars,
            "characters",
            "max_document_chars",
        )


def check_chunks(name: str, chunks: int, limits: DocumentLimits) -> None:
    if chunks > limits.chunks:
        raise too_large(name, f"{chunks:,} chunks", limits.chunks, "chunks", "max_document_chunks")

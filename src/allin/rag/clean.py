"""Passages without the markup that carries no meaning (reST roles, link targets, heading markers
and underlines): `readable` for people and models, `document_embedding_text` for the embedder.
The stored chunk keeps its raw text, so quoted phrases are still found verbatim in it."""

from __future__ import annotations

import re

_RST_ROLE = re.compile(r":[\w:+-]+:`~?([^`<]*?)(?:\s*<[^>]*>)?`")
_RST_LITERAL = re.compile(r"``([^`]+)``")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_ADORNMENT_LINE = re.compile(r"^\s*([=\-`:'\"~^_*+#<>.])\1{2,}\s*$", re.MULTILINE)
_DIRECTIVE = re.compile(r"^\s*\.\. [\w:-]+::\s*", re.MULTILINE)
_ATX_MARKER = re.compile(r"^ {0,3}#{1,6}[ \t]+", re.MULTILINE)
_SPACES = re.compile(r"[ \t]+")
_BLANKS = re.compile(r"\n{3,}")
_FENCED_CODE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[ \t]*$", re.MULTILINE | re.DOTALL)


def _role_text(match: re.Match[str]) -> str:
    """:class:`~flask.Flask` reads as `Flask`; without the tilde, as the full name."""
    target = match.group(1)
    return f"`{target.rsplit('.', 1)[-1] if '~' in match.group(0) else target}`"


def readable(text: str) -> str:
    """A passage as a person (or a model) reads it: markup out, line breaks and indentation kept.
    Fenced code blocks stay as written: their fence lines look like reST underlines, and their
    code is not markup."""
    pieces: list[str] = []
    start = 0
    for block in _FENCED_CODE.finditer(text):
        pieces += [_without_markup(text[start : block.start()]), block.group(0)]
        start = block.end()
    pieces.append(_without_markup(text[start:]))
    return _BLANKS.sub("\n\n", "".join(pieces)).strip()


def _without_markup(text: str) -> str:
    text = _RST_ROLE.sub(_role_text, text)
    text = _RST_LITERAL.sub(r"`\1`", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _ADORNMENT_LINE.sub("", text)
    text = _DIRECTIVE.sub("", text)
    return _ATX_MARKER.sub("", text)


def clean_markup(text: str) -> str:
    return _SPACES.sub(" ", readable(text).replace("`", ""))


def document_embedding_text(document_name: str, heading: str | None, content: str) -> str:
    """A document chunk as the embedder reads it: its context first, the document's path as words
    then its heading path (`handbook › paid time off › Time Off › Carry-over`), then the text.
    The path names what a chunk is about when its own words do not (a section on "the bank of
    27 days" under `paid-time-off.md`). The model reads at most 256 tokens, so a header costs a
    few of them, not a second pass."""
    context = " › ".join(part for part in (_path_words(document_name), heading) if part)
    return f"{context}\n{clean_markup(content)}"


_EXTENSION = re.compile(r"\.[A-Za-z0-9]+$")


def _path_words(document_name: str) -> str:
    parts = _EXTENSION.sub("", document_name).split("/")
    return " › ".join(" ".join(re.split(r"[-_]+", part)).strip() for part in parts if part)

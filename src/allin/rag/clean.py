"""Passages without the markup that carries no meaning (reST roles, link targets, heading markers
and underlines): `readable` for people and models, `embedding_text` for the embedder. The stored
chunk keeps its raw text, so quoted phrases are still found verbatim in it."""

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


def embedding_text(document_name: str, heading: str | None, content: str) -> str:
    where = heading or document_name
    return f"{where}\n{clean_markup(content)}"

"""The text an embedder sees for a chunk: its heading path, then its content with the markup that
carries no meaning (reST roles, link targets, heading underlines) taken out. The stored chunk
keeps its raw text; only the embedding input is cleaned."""

from __future__ import annotations

import re

_RST_ROLE = re.compile(r":[\w:+-]+:`~?([^`<]*?)(?:\s*<[^>]*>)?`")
_RST_LITERAL = re.compile(r"``([^`]+)``")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_ADORNMENT_LINE = re.compile(r"^\s*([=\-`:'\"~^_*+#<>.])\1{2,}\s*$", re.MULTILINE)
_DIRECTIVE = re.compile(r"^\s*\.\. [\w:-]+::\s*", re.MULTILINE)
_SPACES = re.compile(r"[ \t]+")
_BLANKS = re.compile(r"\n{3,}")


def clean_markup(text: str) -> str:
    text = _RST_ROLE.sub(
        lambda m: m.group(1).rsplit(".", 1)[-1] if "~" in m.group(0) else m.group(1), text
    )
    text = _RST_LITERAL.sub(r"\1", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _ADORNMENT_LINE.sub("", text)
    text = _DIRECTIVE.sub("", text)
    text = _SPACES.sub(" ", text)
    return _BLANKS.sub("\n\n", text).strip()


def embedding_text(document_name: str, heading: str | None, content: str) -> str:
    where = heading or document_name
    return f"{where}\n{clean_markup(content)}"

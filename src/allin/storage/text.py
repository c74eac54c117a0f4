"""Text that Postgres can store. NUL (U+0000) is valid in JSON and UTF-8 but not in a Postgres
`text` value, where it fails the query: what a person typed is refused with a clear message, what
a parser pulled out of a file loses its NULs (they carry nothing a reader would miss)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

NUL = "\x00"
NUL_REFUSED = "must not contain NUL (U+0000) characters"


def refuse_nul(value: str) -> str:
    if NUL in value:
        raise ValueError(NUL_REFUSED)
    return value


def strip_nul(text: str) -> str:
    return text.replace(NUL, "")


StorableText = Annotated[str, AfterValidator(refuse_nul)]

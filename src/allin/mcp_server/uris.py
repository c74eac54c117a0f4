"""The `allin://` URIs of what an agent can open: documents, passages and repository files.

The same templates name the MCP resources and are parsed by `read_source`, so a URI from a
search result, an answer's citation or a resource listing opens the same way everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcp.shared.uri_template import UriTemplate

from allin.errors import BadRequest
from allin.rag.citations import CitedSource

DOCUMENT = "allin://documents/{document_id}"
PASSAGE = "allin://passages/{chunk_id}"
# `lines` is "10-42": a citation's line range, shown with the file's other lines left out.
REPOSITORY_FILE = "allin://repositories/{repository_id}/files/{+path}{?commit,lines}"
_TEMPLATES = {
    name: UriTemplate.parse(t)
    for name, t in (("document", DOCUMENT), ("passage", PASSAGE), ("file", REPOSITORY_FILE))
}


@dataclass(frozen=True, slots=True)
class Target:
    kind: str
    values: dict[str, str]


def citation_uri(citation: CitedSource) -> str:
    """Code opens as its file's cited lines at the cited commit; prose as its passage."""
    if citation.repository_id and citation.path:
        values = {"repository_id": citation.repository_id, "path": citation.path}
        if citation.commit:
            values["commit"] = citation.commit
        if citation.start_line and citation.end_line:
            values["lines"] = f"{citation.start_line}-{citation.end_line}"
        return _TEMPLATES["file"].expand(values)
    return _TEMPLATES["passage"].expand({"chunk_id": str(citation.chunk_id)})


def parse(uri: str) -> Target:
    """What `uri` names; a bare number is a passage (a citation's `chunk_id`)."""
    text = uri.strip()
    if text.isdigit():
        return Target("passage", {"chunk_id": text})
    for kind, template in _TEMPLATES.items():
        found = template.match(text)
        if found is not None:
            return Target(kind, {key: str(value) for key, value in found.items()})
    raise BadRequest(
        f"{uri!r} is not a citation: pass a passage's `uri` from search_knowledge or ask_allin "
        f"({PASSAGE}, {DOCUMENT} or allin://repositories/{{id}}/files/{{path}})"
    )


def line_range(lines: str | None) -> tuple[int, int] | None:
    if not lines:
        return None
    start, _, end = lines.partition("-")
    if not (start.isdigit() and (end or start).isdigit()):
        raise BadRequest(f"lines={lines!r}: expected 'start-end', e.g. 10-42")
    first, last = int(start), int(end or start)
    if first < 1 or last < first:
        raise BadRequest(f"lines={lines!r}: lines count from 1 and end after they start")
    return first, last

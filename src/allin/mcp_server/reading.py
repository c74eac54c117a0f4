"""Opening what a citation or resource URI names, with the REST API's visibility rules: a user
reads their own documents and shared ones (someone else's private document does not exist), and
every signed-in user reads the team's repositories."""

from __future__ import annotations

from allin.auth.principal import Principal
from allin.errors import BadRequest
from allin.mcp_server.schemas import Source
from allin.mcp_server.uris import Target, line_range
from allin.services import Services
from allin.storage.blobs import DOCUMENTS

# A whole document read as text: larger ones are cut, with a note, so one call cannot flood the
# agent's context.
MAX_TEXT_CHARS = 200_000


async def read(services: Services, principal: Principal, uri: str, target: Target) -> Source:
    if target.kind == "passage":
        return await _passage(services, principal, uri, target.values["chunk_id"])
    if target.kind == "document":
        document = await services.library.visible(principal, target.values["document_id"])
        return Source(
            uri=uri,
            location=document.name,
            content=await document_text(services, principal, document.id),
        )
    return await _file(services, uri, target.values)


async def document_text(services: Services, principal: Principal, document_id: str) -> str:
    """A document's text: a repository file as it is at its indexed commit, a text upload as
    uploaded, any other format (PDF, DOCX) as its parsed chunks in order."""
    document = await services.library.visible(principal, document_id)
    if document.repository_id is not None:
        code = await services.repositories.read_file(document.repository_id, document.name, None)
        return _bounded(code.content)
    if document.mime.startswith("text/"):
        data = await services.blobs.get(DOCUMENTS, document.storage_path)
        return _bounded(data.decode("utf-8", errors="replace"))
    chunks = await services.documents.chunks_of(document.id)
    return _bounded("\n\n".join(chunk["content"] for chunk in chunks))


async def _passage(services: Services, principal: Principal, uri: str, chunk_id: str) -> Source:
    number = int(chunk_id)
    if not 1 <= number < 2**63:
        raise BadRequest(f"{chunk_id} is not a passage id")
    chunk, document = await services.library.passage(principal, number)
    where = " › ".join(part for part in (document.name, chunk["heading"]) if part)
    return Source(uri=uri, location=where, content=chunk["content"])


async def _file(services: Services, uri: str, values: dict[str, str]) -> Source:
    commit = values.get("commit")
    if commit is not None and not (7 <= len(commit) <= 40 and _is_hex(commit)):
        raise BadRequest(f"commit={commit!r}: expected 7 to 40 hexadecimal digits")
    code = await services.repositories.read_file(values["repository_id"], values["path"], commit)
    lines = code.content.splitlines()
    wanted = line_range(values.get("lines")) or (1, max(len(lines), 1))
    first, last = wanted[0], min(wanted[1], len(lines))
    if first > len(lines):
        raise BadRequest(f"{code.path} has {len(lines)} lines; line {first} does not exist")
    # A whole file comes as it is (its last newline too); a range as its lines.
    span = f":L{first}–L{last}" if values.get("lines") else ""
    text = "\n".join(lines[first - 1 : last]) if span else code.content
    return Source(
        uri=uri,
        location=f"{code.repository} › {code.path}{span} @ {code.commit[:7]}",
        content=_bounded(text),
        language=code.language,
        commit=code.commit,
        start_line=first,
        end_line=last,
        web_url=code.web_url,
    )


def _is_hex(text: str) -> bool:
    return all(char in "0123456789abcdef" for char in text)


def _bounded(text: str) -> str:
    if len(text) <= MAX_TEXT_CHARS:
        return text
    return text[:MAX_TEXT_CHARS] + f"\n… (cut at {MAX_TEXT_CHARS} characters)"

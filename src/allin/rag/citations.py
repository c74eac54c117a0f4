"""What an answer cites: where each numbered passage comes from, how fresh it is and, for a
documentation page, whether the code it names changed since. Built by the retrieval and trust
layers, stored with the answer, sent in the `done` frame and (its `CitedSource` part) by MCP.

Times are written as Python's `isoformat()` (`+00:00`, not pydantic's `Z`): the stored answers
and the frames have always carried them so."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, PlainSerializer

IsoTime = Annotated[datetime, PlainSerializer(datetime.isoformat, when_used="json")]


class CitedSource(BaseModel):
    """Where a passage comes from."""

    n: int = Field(description="The passage's number, as [n] in an answer.")
    document_id: str
    document: str
    title: str | None = None
    heading: str | None = None
    page: int | None = None
    chunk_id: int
    snippet: str
    location: str = Field(
        "", description="'document › heading' or 'repository › path:L10–L42 @ commit'."
    )
    repository_id: str | None = None
    repository: str | None = None
    path: str | None = None
    commit: str | None = None
    start_line: int | None = None
    end_line: int | None = None
    # The cited lines nearest the question, when a long code passage knows them; left out else.
    focus_start_line: int | None = Field(None, exclude_if=lambda line: line is None)
    focus_end_line: int | None = Field(None, exclude_if=lambda line: line is None)


class StaleNote(BaseModel):
    """A cited page names code that changed after the page did (see `trust/staleness.py`)."""

    code_path: str
    names: list[str]
    commits_since: int
    newest_commit: str
    newest_committed_at: IsoTime
    newest_author: str
    # When the page last changed: its newest commit, or an uploaded document's last update.
    doc_committed_at: IsoTime
    summary: str


class Citation(CitedSource):
    updated_at: IsoTime | None = Field(
        None, description="When the cited text last changed: its file's commit, or the upload."
    )
    updated_by: str | None = None
    # Only on a documentation page with warnings; left out otherwise.
    stale: list[StaleNote] | None = Field(None, exclude_if=lambda notes: notes is None)

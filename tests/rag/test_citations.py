"""Citations are typed (`allin.rag.citations`) yet written exactly as the dictionaries they
replaced: the same keys, `null`s kept, `stale` only when there are warnings, times as
`isoformat()`; the `done` frame carries them through unchanged, and MCP keeps its own shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from allin.chat.frames import Done
from allin.mcp_server.schemas import Citation as McpCitation
from allin.rag.citations import Citation, StaleNote
from allin.rag.document_records import Passage
from allin.storage.chat_records import Turn

APRIL = datetime(2024, 4, 15, 12, tzinfo=UTC)

CODE = Passage(
    chunk_id=7,
    document_id="d-7",
    document_name="src/shop/sessions.py",
    document_title=None,
    ord=0,
    content="class CookieSigner:\n    pass",
    heading=None,
    page=None,
    score=0.5,
    similarity=0.6,
    format="python",
    repository_id="r-1",
    repository="shop",
    commit_sha="1a2b3c4d5e6f",
    committed_at=APRIL,
    author_name="Grace Hopper",
    start_line=1,
    end_line=2,
)
UPLOAD = Passage(
    chunk_id=8,
    document_id="d-8",
    document_name="leave.md",
    document_title="Leave",
    ord=0,
    content="You get 25 days.",
    heading="Paid time off",
    page=None,
    score=0.4,
    similarity=0.5,
    document_updated_at=APRIL,
    uploader="ada@example.com",
)
NOTE = StaleNote(
    code_path="src/shop/sessions.py",
    names=["CookieSigner"],
    commits_since=3,
    newest_commit="1a2b3c4d5e6f",
    newest_committed_at=APRIL,
    newest_author="pre-commit-ci[bot]",
    doc_committed_at=datetime(2024, 1, 1, 12, tzinfo=UTC),
    summary="may be out of date: …",
)


def test_a_code_citation_is_written_as_before() -> None:
    assert CODE.citation(1).model_dump(mode="json") == {
        "n": 1,
        "document_id": "d-7",
        "document": "src/shop/sessions.py",
        "title": None,
        "heading": None,
        "page": None,
        "chunk_id": 7,
        "snippet": "class CookieSigner: pass",
        "location": "shop › src/shop/sessions.py:L1–L2 @ 1a2b3c4",
        "repository_id": "r-1",
        "repository": "shop",
        "path": "src/shop/sessions.py",
        "commit": "1a2b3c4d5e6f",
        "start_line": 1,
        "end_line": 2,
        "updated_at": "2024-04-15T12:00:00+00:00",
        "updated_by": "Grace Hopper",
    }


def test_an_uploaded_document_is_cited_with_its_uploader_and_its_warnings() -> None:
    written = UPLOAD.citation(2, stale=[NOTE]).model_dump(mode="json")
    assert (written["updated_at"], written["updated_by"]) == (
        "2024-04-15T12:00:00+00:00",
        "ada@example.com",
    )
    assert written["path"] is None and written["location"] == "leave.md › Paid time off"
    assert written["stale"] == [
        {
            "code_path": "src/shop/sessions.py",
            "names": ["CookieSigner"],
            "commits_since": 3,
            "newest_commit": "1a2b3c4d5e6f",
            "newest_committed_at": "2024-04-15T12:00:00+00:00",
            "newest_author": "pre-commit-ci[bot]",
            "doc_committed_at": "2024-01-01T12:00:00+00:00",
            "summary": "may be out of date: …",
        }
    ]


def test_the_done_frame_sends_stored_citations_unchanged() -> None:
    stored = [UPLOAD.citation(1, stale=[NOTE]).model_dump(mode="json")]
    stored.append(CODE.citation(2).model_dump(mode="json"))
    answer = Turn(
        id=2,
        user_id="u",
        chat_id="c",
        role="assistant",
        content="25 days [1]",
        created_at=APRIL,
        reply_to=1,
        metadata={"citations": stored},
    )
    done = Done.of(answer)
    assert all(isinstance(citation, Citation) for citation in done.citations)
    assert json.loads(done.model_dump_json())["citations"] == stored


def test_mcp_citations_keep_their_fields_and_add_the_uri() -> None:
    cited = McpCitation.of(CODE.citation(1, stale=[NOTE])).model_dump(mode="json")
    assert cited["uri"] == (
        "allin://repositories/r-1/files/src/shop/sessions.py?commit=1a2b3c4d5e6f&lines=1-2"
    )
    assert not {"updated_at", "updated_by", "stale"} & set(cited)
    assert McpCitation.of(UPLOAD.citation(2)).uri == "allin://passages/8"

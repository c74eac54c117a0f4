"""The trust layer over REST: who is likely to know about a topic, a repository's stale-citation
warnings, which repository an uploaded document describes, and the knowledge-gap report
(admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from allin.api.deps import CurrentUser, ServicesDep
from allin.api.documents import DocumentId, RepositoryRef
from allin.api.errors import AUTHENTICATED, ErrorBody, error_responses
from allin.errors import BadRequest, Forbidden
from allin.rag.document_records import Document
from allin.trust.experts import Expert
from allin.trust.gaps import GapReport, GapReporter, parse_since
from allin.trust.wording import stale_summary

router = APIRouter(prefix="/api/v1", tags=["trust"])

_BAD_INPUT: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "bad_request: `detail` says what to fix"}
}

TOPIC_MAX_CHARS = 500


class Experts(BaseModel):
    topic: str
    experts: list[Expert] = Field(
        description="Best first: CODEOWNERS of the most related files, then the people with the "
        "most recent commits to them, then the uploaders of the most related documents. E-mail "
        "addresses come from git and are shown to signed-in users of this deployment only."
    )


class StaleWarning(BaseModel):
    doc_path: str
    code_path: str
    names: list[str] = Field(description="What the page names that lives in `code_path`.")
    commits_since: int
    newest_commit: str
    newest_committed_at: datetime
    newest_author: str
    doc_commit: str
    doc_committed_at: datetime
    summary: str


class StaleWarnings(BaseModel):
    warnings: list[StaleWarning]


class Describes(BaseModel):
    repository_id: RepositoryRef | None = Field(
        description="The repository the document describes, or null for none."
    )


def get_gap_reporter(services: ServicesDep) -> GapReporter:
    return GapReporter(services.trust, services.embedder, services.retriever, services.experts)


@router.get(
    "/experts",
    summary="Who is likely to know about a topic, with the reasons",
    responses={**error_responses(*AUTHENTICATED), **_BAD_INPUT},
)
async def experts(
    principal: CurrentUser,
    services: ServicesDep,
    topic: Annotated[str, Query(min_length=1, max_length=TOPIC_MAX_CHARS)],
) -> Experts:
    cleaned = " ".join(topic.split())
    if not cleaned or "\x00" in cleaned:
        raise BadRequest("topic is empty: say what you want to know about")
    found = await services.knowledge.who_knows(principal.user_id, cleaned)
    return Experts(topic=cleaned, experts=found)


@router.get(
    "/repositories/{repository_id}/stale",
    summary="A repository's documentation pages that name code changed since they were edited",
    responses=error_responses(*AUTHENTICATED, 404),
)
async def stale_warnings(
    repository_id: Annotated[
        str, Path(pattern=r"^[0-9a-f-]{1,64}$", description="The repository's id.")
    ],
    principal: CurrentUser,
    services: ServicesDep,
) -> StaleWarnings:
    await services.repositories.store.get(repository_id)
    rows = await services.trust.stale_links(repository_id=repository_id)
    return StaleWarnings(warnings=[StaleWarning(**row, summary=stale_summary(row)) for row in rows])


@router.put(
    "/documents/{document_id}/describes",
    summary="Say which repository an uploaded document describes (its owner, or an admin for a "
    "shared one): code of it the document names is then watched, and its citations warn when "
    "that code changed after the document's last update",
    responses=error_responses(*AUTHENTICATED, 403, 404, 409),
)
async def describe_repository(
    document_id: DocumentId, body: Describes, principal: CurrentUser, services: ServicesDep
) -> Document:
    return await services.library.describe(principal, document_id, body.repository_id)


@router.get(
    "/gaps",
    summary="The knowledge-gap report: unanswered questions and thumbs-down answers by topic "
    "(admins)",
    responses={**error_responses(*AUTHENTICATED, 403), **_BAD_INPUT},
)
async def gaps(
    principal: CurrentUser,
    reporter: Annotated[GapReporter, Depends(get_gap_reporter)],
    since: Annotated[
        str,
        Query(max_length=40, description="How far back: `30d`, `12h`, `2w` or an ISO date."),
    ] = "30d",
) -> GapReport:
    if not principal.is_admin:
        # Who asked what is another user's business: the report is for admins.
        raise Forbidden("only admins read the knowledge-gap report")
    return await reporter.report(
        parse_since(since), viewer_id=principal.user_id, with_identities=True
    )

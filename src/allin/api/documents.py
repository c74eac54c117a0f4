"""The knowledge base over REST: upload, list, delete, re-index documents; open a cited passage
or the raw file. A user sees their own documents and shared ones; only admins share."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, StringConstraints, ValidationError
from starlette.datastructures import UploadFile

from allin.api.deps import ROW_ID_MAX, CurrentUser, ServicesDep
from allin.api.errors import error_responses
from allin.auth.principal import Principal
from allin.errors import Forbidden, TooLarge
from allin.rag.citations import StaleNote
from allin.rag.document_records import Document, IngestStatus
from allin.rag.ingest import IngestOutcome
from allin.services import Services
from allin.trust.warnings import CitedDocument

# Every route but the signed-link download is behind a token; a document another user owns (and
# did not share) is "not found", and changing a shared one takes an admin.
router = APIRouter(prefix="/api/v1", tags=["documents"], responses=error_responses(422, 503))
_TOKEN = error_responses(401)
_MISSING = error_responses(401, 404)
_CHANGE = error_responses(401, 403, 404)
UPLOAD_PATH = "/api/v1/documents"

DocumentId = Annotated[str, Path(pattern=r"^[0-9a-f-]{1,64}$", description="The document's id.")]
RepositoryRef = Annotated[str, StringConstraints(pattern=r"^[0-9a-f-]{1,64}$")]
# Signed links to raw files stay valid this long.
_LINK_TTL_S = 600


class DocumentList(BaseModel):
    documents: list[Document]


class FileResult(BaseModel):
    name: str
    status: IngestStatus = Field(
        description="`indexed` or `unchanged`: searchable now. `failed` or `cancelled`: see "
        "`error` (a code: `too_large`, `bad_request`, `unavailable`…) and `detail` (why); a "
        "failure the job met is kept on the document too. `queued` or `ingesting`: still going "
        "(the response is then 202); follow `GET /api/v1/documents/{id}` (its `ingest_status` "
        "and `progress`) or cancel it (`POST /api/v1/documents/{id}/cancel`)."
    )
    document: Document | None = None
    error: str | None = None
    detail: str | None = None

    @classmethod
    def of(cls, outcome: IngestOutcome) -> FileResult:
        return cls(
            name=outcome.name,
            status=outcome.status,
            document=outcome.document,
            error=outcome.error_code,
            detail=outcome.error,
        )

    @classmethod
    def of_document(cls, document: Document) -> FileResult:
        """A queued upload's result: as far as its ingestion has gone."""
        return cls(
            name=document.name,
            status=document.ingest_status,
            document=document,
            error=document.error_code,
            detail=document.error,
        )


class UploadResult(BaseModel):
    files: list[FileResult]


class PassageView(BaseModel):
    """A cited passage in full, with the document it is from and how fresh that is."""

    chunk_id: int
    document_id: str
    document: str
    heading: str | None
    page: int | None
    content: str
    updated_at: datetime | None = Field(
        None, description="When the document last changed: its file's commit, or the upload."
    )
    updated_by: str | None = None
    stale: list[StaleNote] = Field(
        default_factory=list,
        description="Code the document names that changed since (a documentation page of a "
        "repository, or an upload describing one); most commits first.",
    )


class Link(BaseModel):
    url: str


@router.get("/documents", summary="Your documents and the shared ones", responses=_TOKEN)
async def list_documents(principal: CurrentUser, services: ServicesDep) -> DocumentList:
    return DocumentList(documents=await services.library.listing(principal))


# The form is described here rather than declared as `File`/`Form` parameters: FastAPI reads
# declared body parameters before any dependency runs, so a caller with no token would have their
# whole upload spooled to disk before being refused. Read in the route, it waits for the token.
_UPLOAD_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["files"],
                    "properties": {
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "One or more files.",
                        },
                        "shared": {
                            "type": "boolean",
                            "default": False,
                            "description": "Team knowledge, visible to all (admins only).",
                        },
                        "describes_repository": {
                            "type": "string",
                            "description": "The id of a repository these documents describe: "
                            "their citations then warn when code of it they name changed "
                            "after the upload.",
                        },
                    },
                }
            }
        },
    }
}


# How long a request waits for its ingestion; by default, ALLIN_UPLOAD_WAIT_S.
Wait = Annotated[
    float | None,
    Query(
        ge=0,
        le=300,
        description="Seconds to wait for the ingestion before answering 202 (0: at once); "
        "by default, the server's ALLIN_UPLOAD_WAIT_S.",
    ),
]
_QUEUED: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "Accepted: some files are still `queued` or `ingesting` (their raw "
        "files are stored; each result's `document` has the id to follow and its `job_id`).",
    }
}


@router.post(
    UPLOAD_PATH.removeprefix("/api/v1"),
    summary="Upload documents (multipart, field `files`); each gets its own result",
    description="Each file's raw bytes are stored and its ingestion queued as a job (at most "
    "ALLIN_INGEST_PER_USER of a user's at once). The request waits for them up to `wait` "
    "seconds: 200 when all are indexed (or unchanged), 207 when some failed, 202 when some are "
    "still going. A file whose name, size or type is refused fails at once, with no document.",
    responses={
        **_QUEUED,
        207: {"description": "Some files failed; see each file's `error`."},
        **error_responses(401, 403, 413),
    },
    openapi_extra=_UPLOAD_FORM,
)
async def upload_documents(
    principal: CurrentUser,
    services: ServicesDep,
    request: Request,
    response: Response,
    wait: Wait = None,
) -> UploadResult:
    async with request.form() as form:
        files = [part for part in form.getlist("files") if isinstance(part, UploadFile)]
        try:
            options = _UploadOptions.model_validate(
                {
                    "shared": form.get("shared", False),
                    "describes_repository": form.get("describes_repository") or None,
                }
            )
        except ValidationError as error:
            raise RequestValidationError(error.errors()) from None
        submitted = await _submit_uploads(principal, services, files, options)
    results = await _settle(services, submitted, _wait_s(services, wait))
    response.status_code = _status_of(results)
    return UploadResult(files=results)


class _UploadOptions(BaseModel):
    shared: bool
    describes_repository: RepositoryRef | None = None


async def _submit_uploads(
    principal: Principal,
    services: Services,
    files: list[UploadFile],
    options: _UploadOptions,
) -> list[Document | IngestOutcome]:
    if not files:
        missing = {"type": "missing", "loc": ("body", "files"), "msg": "Field required"}
        raise RequestValidationError([missing])
    services.library.check_sharing(principal, options.shared)
    limit = services.settings.max_document_bytes
    submitted: list[Document | IngestOutcome] = []
    for upload in files:
        data = await upload.read(limit + 1)
        name = upload.filename or "upload"
        if len(data) > limit:
            error = TooLarge(f"{name}: larger than the {limit}-byte limit")
            submitted.append(
                IngestOutcome(name, "failed", error_code=error.code, error=error.message)
            )
            continue
        submitted.append(
            await services.library.submit(
                principal, name, data, options.shared, options.describes_repository
            )
        )
    return submitted


def _wait_s(services: Services, wait: float | None) -> float:
    return services.settings.upload_wait_s if wait is None else wait


async def _settle(
    services: Services, submitted: list[Document | IngestOutcome], wait_s: float
) -> list[FileResult]:
    """Each file's result once its ingestion ended, or as far as it went in `wait_s`."""
    queued = [item.id for item in submitted if isinstance(item, Document)]
    settled = await services.library.settle(queued, wait_s) if queued else {}
    return [
        FileResult.of_document(settled.get(item.id, item))
        if isinstance(item, Document)
        else FileResult.of(item)
        for item in submitted
    ]


def _status_of(results: list[FileResult]) -> int:
    if any(result.status in ("queued", "ingesting") for result in results):
        return status.HTTP_202_ACCEPTED
    if any(result.status in ("failed", "cancelled") for result in results):
        return status.HTTP_207_MULTI_STATUS
    return status.HTTP_200_OK


@router.get(
    "/documents/{document_id}",
    summary="One document's metadata, and how its latest ingestion goes",
    description="`ingest_status` is `queued` or `ingesting` (with `progress`) while its job "
    "runs, then `indexed`, `unchanged`, `failed` (with `error_code` and `error`) or "
    "`cancelled`; `status` is what is searchable meanwhile (`ready`: a version is).",
    responses=_MISSING,
)
async def get_document(
    document_id: DocumentId, principal: CurrentUser, services: ServicesDep
) -> Document:
    return await services.library.visible(principal, document_id)


@router.delete(
    "/documents/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a document, its chunks and its raw file",
    responses=_CHANGE,
)
async def delete_document(
    document_id: DocumentId, principal: CurrentUser, services: ServicesDep
) -> Response:
    await services.library.delete(principal, document_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/documents/{document_id}/reindex",
    summary="Parse, chunk and embed it again (a job; waits as an upload does)",
    responses={**_QUEUED, **error_responses(401, 403, 404, 409)},
)
async def reindex_document(
    document_id: DocumentId,
    principal: CurrentUser,
    services: ServicesDep,
    response: Response,
    wait: Wait = None,
) -> FileResult:
    queued = await services.library.reindex(principal, document_id)
    [result] = await _settle(services, [queued], _wait_s(services, wait))
    response.status_code = _status_of([result])
    return result


@router.post(
    "/documents/{document_id}/cancel",
    summary="Cancel its queued or running ingestion (a searchable version stays)",
    responses=error_responses(401, 403, 404, 409),
)
async def cancel_ingestion(
    document_id: DocumentId, principal: CurrentUser, services: ServicesDep
) -> Document:
    return await services.library.cancel(principal, document_id)


@router.get(
    "/documents/{document_id}/link",
    summary="A short-lived link to the raw file",
    responses=_MISSING,
)
async def document_link(
    document_id: DocumentId, principal: CurrentUser, services: ServicesDep
) -> Link:
    return Link(url=await services.library.link(principal, document_id, _LINK_TTL_S))


@router.get("/passages/{chunk_id}", summary="A cited passage, in full", responses=_MISSING)
async def get_passage(
    chunk_id: Annotated[int, Path(ge=1, le=ROW_ID_MAX)],
    principal: CurrentUser,
    services: ServicesDep,
) -> PassageView:
    chunk, document = await services.library.passage(principal, chunk_id)
    freshness = await services.trust.freshness(document.id)
    cited = CitedDocument(document.id, document.name, document.repository_id, document.format)
    warnings = await services.stale_warnings.of([cited])
    return PassageView(
        chunk_id=chunk["id"],
        document_id=document.id,
        document=document.name,
        heading=chunk["heading"],
        page=chunk["page"],
        content=chunk["content"],
        updated_at=freshness.updated_at,
        updated_by=freshness.updated_by,
        stale=warnings.get(document.id, []),
    )


@router.get(
    "/blobs/{bucket}/{path:path}",
    summary="A raw file through a signed link (the signature is the credential)",
    response_class=Response,
    responses=error_responses(403, 404),
)
async def signed_blob(
    bucket: str,
    path: str,
    services: ServicesDep,
    expires: Annotated[int, Query()],
    sig: Annotated[str, Query(max_length=128)],
) -> Response:
    blobs = services.blobs
    if not blobs.verify_signature(bucket, path, expires, sig):
        raise Forbidden("this link is invalid or has expired")
    data = await blobs.get(bucket, path)
    media_type = _MEDIA_TYPES.get(path.rsplit(".", 1)[-1].lower(), "text/plain; charset=utf-8")
    headers = {"Cache-Control": "private, max-age=60", "X-Content-Type-Options": "nosniff"}
    return Response(data, media_type=media_type, headers=headers)


# Text formats are served as plain text so the browser shows them rather than rendering HTML from
# an uploaded file on our origin.
_MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "wav": "audio/wav",
}

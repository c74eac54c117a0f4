"""The team's repositories over REST: every signed-in user lists them and reads their indexed
files (the code view behind a citation); admins add, sync, cancel and remove them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import BaseModel, Field

from allin.api.deps import CurrentUser, ServicesDep
from allin.api.errors import AUTHENTICATED, error_responses
from allin.auth.principal import Principal
from allin.errors import Forbidden
from allin.sources.repository_records import Repository
from allin.sources.service import CodeFile, SyncQueued

router = APIRouter(prefix="/api/v1", tags=["repositories"])

_READ = error_responses(*AUTHENTICATED, 404)
_ADMIN = error_responses(*AUTHENTICATED, 403, 404, 409)

RepositoryId = Annotated[
    str, Path(pattern=r"^[0-9a-f-]{1,64}$", description="The repository's id.")
]


class RepositoryList(BaseModel):
    repositories: list[Repository]


class NewRepository(BaseModel):
    location: str = Field(
        max_length=2048,
        description="A path on the server, a file:// URL or an https:// URL (no credentials: "
        "private remotes use the server's ALLIN_GIT_TOKEN).",
    )
    name: str | None = Field(None, max_length=100, description="Defaults to the URL's last part.")
    branch: str | None = Field(None, max_length=200, description="Defaults to the remote's HEAD.")


def _require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("only admins add, sync, cancel or remove repositories")


@router.get(
    "/repositories",
    summary="The team's repositories, with their sync state",
    responses=error_responses(*AUTHENTICATED),
)
async def list_repositories(principal: CurrentUser, services: ServicesDep) -> RepositoryList:
    return RepositoryList(repositories=await services.repositories.store.all())


@router.post(
    "/repositories",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Add a repository (admins); its first sync is queued",
    responses=_ADMIN,
)
async def add_repository(
    body: NewRepository, principal: CurrentUser, services: ServicesDep
) -> SyncQueued:
    _require_admin(principal)
    return await services.repositories.add(principal.user_id, body.location, body.name, body.branch)


@router.get(
    "/repositories/{repository_id}",
    summary="One repository and its last sync's report",
    responses=_READ,
)
async def get_repository(
    repository_id: RepositoryId, principal: CurrentUser, services: ServicesDep
) -> Repository:
    return await services.repositories.store.get(repository_id)


async def _existing_for_admin(
    repository_id: RepositoryId, principal: CurrentUser, services: ServicesDep
) -> str:
    """The id of a repository an admin acts on. It is looked up first: an unknown id is 404 for
    everyone, and only then is a member refused (403)."""
    await services.repositories.store.get(repository_id)
    _require_admin(principal)
    return repository_id


AdminRepositoryId = Annotated[str, Depends(_existing_for_admin)]


@router.post(
    "/repositories/{repository_id}/sync",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Queue a sync to the branch's head (admins)",
    responses=_ADMIN,
)
async def sync_repository(repository_id: AdminRepositoryId, services: ServicesDep) -> SyncQueued:
    return await services.repositories.sync(repository_id)


@router.post(
    "/repositories/{repository_id}/cancel",
    summary="Cancel the queued or running sync (admins); the index stays as it was",
    responses=_ADMIN,
)
async def cancel_sync(repository_id: AdminRepositoryId, services: ServicesDep) -> Repository:
    return await services.repositories.cancel(repository_id)


@router.delete(
    "/repositories/{repository_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a repository and everything indexed from it (admins)",
    responses=_ADMIN,
)
async def remove_repository(repository_id: AdminRepositoryId, services: ServicesDep) -> None:
    await services.repositories.remove(repository_id)


@router.get(
    "/repositories/{repository_id}/file",
    summary="An indexed file's text at a commit (the code view of a citation)",
    responses=_READ,
)
async def read_file(
    repository_id: RepositoryId,
    principal: CurrentUser,
    services: ServicesDep,
    path: Annotated[str, Query(min_length=1, max_length=1024)],
    commit: Annotated[str | None, Query(pattern=r"^[0-9a-f]{7,40}$")] = None,
) -> CodeFile:
    return await services.repositories.read_file(repository_id, path, commit)

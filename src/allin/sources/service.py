"""What can be done with the team's repositories, whoever asks (the API or the CLI): add one and
queue its first sync, sync, cancel, remove, and read an indexed file at a commit."""

from __future__ import annotations

import asyncio
import shutil
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel

from allin.errors import BadRequest
from allin.jobs.queue import JobQueue
from allin.sources.git import check_branch, normalize_url
from allin.sources.languages import language_for
from allin.sources.repository_records import Repository
from allin.sources.sync import Progress, RepositorySync
from allin.storage.repositories import RepositoryStore

# A code view shows files up to this size; larger ones are not indexed anyway.
_MAX_VIEW_BYTES = 2 * 1024 * 1024


class CodeFile(BaseModel):
    repository_id: str
    repository: str
    path: str
    commit: str
    language: str | None
    content: str
    # The same file on the hosting site (GitHub or GitLab), when the remote is one.
    web_url: str | None


class SyncQueued(BaseModel):
    repository: Repository
    job_id: int


class RepositoryService:
    def __init__(self, store: RepositoryStore, sync: RepositorySync, jobs: JobQueue) -> None:
        self.store = store
        self._sync = sync
        self._jobs = jobs

    async def add(
        self, created_by: str, location: str, name: str | None, branch: str | None
    ) -> SyncQueued:
        repository = await self.register(created_by, location, name, branch)
        return await self.sync(repository.id)

    async def register(
        self, created_by: str, location: str, name: str | None, branch: str | None
    ) -> Repository:
        """A repository checked and recorded, not yet synced (its branch defaults to the
        remote's HEAD)."""
        url = normalize_url(location)
        name = check_name(name) if name else default_name(url)
        if branch:
            branch = check_branch(branch)
        else:
            branch = await self._sync.git("default-branch-probe").default_branch(url)
        return await self.store.create(name=name, url=url, branch=branch, created_by=created_by)

    async def sync(self, repository_id: str) -> SyncQueued:
        await self.store.get(repository_id)
        job_id = await self._jobs.defer_sync(repository_id)
        return SyncQueued(repository=await self.store.get(repository_id), job_id=job_id)

    async def sync_now(
        self, repository_id: str, progress: Progress | None = None
    ) -> dict[str, Any]:
        """Sync in this process, outside the queue (tests, and the benchmark of its overhead)."""
        return await self._sync.sync(repository_id, progress=progress)

    async def cancel(self, repository_id: str) -> Repository:
        repository = await self.store.get(repository_id)
        if repository.job_id is None or repository.job_status not in ("todo", "doing"):
            raise BadRequest("no sync of this repository is queued or running")
        await self._jobs.cancel(repository.job_id)
        return await self.store.get(repository_id)

    async def remove(self, repository_id: str) -> None:
        repository = await self.store.get(repository_id)
        if repository.job_id is not None and repository.job_status in ("todo", "doing"):
            await self._jobs.cancel(repository.job_id)
        await self.store.delete(repository_id)
        mirror = self._sync.git(repository_id).git_dir
        await asyncio.to_thread(shutil.rmtree, mirror, ignore_errors=True)

    async def read_file(self, repository_id: str, path: str, commit: str | None) -> CodeFile:
        """An indexed file's text at `commit` (by default, the commit its index is from)."""
        repository = await self.store.get(repository_id)
        indexed = await self.store.file_at(repository_id, path)
        commit = commit or indexed["commit_sha"]
        git = self._sync.git(repository_id)
        if not await git.has_commit_prefix(commit):
            # This process never synced it (another worker did): fetch the mirror first.
            await git.fetch(repository.url, repository.branch)
        data = await git.show(commit, path)
        if len(data) > _MAX_VIEW_BYTES:
            raise BadRequest(f"{path} is too large to show ({len(data)} bytes)")
        full = await git.resolve(commit)
        return CodeFile(
            repository_id=repository_id,
            repository=repository.name,
            path=path,
            commit=full,
            language=language_for(path),
            content=data.decode("utf-8", errors="replace"),
            web_url=web_url(repository.url, full, path),
        )


def web_url(remote: str, commit: str, path: str) -> str | None:
    parts = urlsplit(remote)
    base = remote.removesuffix(".git").rstrip("/")
    if parts.scheme != "https":
        return None
    if parts.hostname == "github.com":
        return f"{base}/blob/{commit}/{path}"
    if parts.hostname == "gitlab.com":
        return f"{base}/-/blob/{commit}/{path}"
    return None


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100 or any(c in name for c in "/\\\x00\n") or name in (".", ".."):
        raise BadRequest(f"invalid repository name {name!r}")
    return name


def default_name(url: str) -> str:
    tail = url.rstrip("/").rsplit("/", 1)[-1]
    return check_name(tail.removesuffix(".git") or "repository")

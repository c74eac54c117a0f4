"""All SQL about repositories and their indexed files.

A repository's live files are documents owned by `repository:<id>` (shared, status `ready`); a
sync prepares changed files as documents owned by `repository:<id>:staging` (not shared, status
`indexing`, so no search sees them) and swaps them in, in one transaction, at the end. Staged
files outlive a failed or killed sync, so a retry re-uses what was already embedded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from allin.errors import Conflict, NotFound
from allin.sources.git import CommitInfo
from allin.sources.repository_records import Repository
from allin.storage.db import Database
from allin.storage.documents import ChunkRow, PieceVectors, insert_chunks


def live_owner(repository_id: str) -> str:
    return f"repository:{repository_id}"


def staging_owner(repository_id: str) -> str:
    return f"repository:{repository_id}:staging"


@dataclass(frozen=True, slots=True)
class IndexedFile:
    document_id: str
    blob_sha: str
    language: str | None  # as `languages.language_for` named it when the file was indexed
    chunking: str | None  # `SourcePolicy.chunking` then; None if indexed before it was kept


@dataclass(frozen=True, slots=True)
class StagedFile:
    path: str
    blob_sha: str
    language: str | None
    mime: str
    data: bytes
    commit: CommitInfo
    chunking: str

    @property
    def format(self) -> str:
        """What `documents.format` records: its language, "text" for anything else."""
        return self.language or "text"


@dataclass(frozen=True, slots=True)
class Move:
    old_path: str
    new_path: str
    commit: CommitInfo


@dataclass(frozen=True, slots=True)
class SyncResult:
    head: CommitInfo
    removed: Sequence[str]
    moves: Sequence[Move]
    # Files kept as they are whose newest commit changed (after history was rewritten).
    recommitted: dict[str, CommitInfo]
    report: dict[str, Any]


class RepositoryStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, *, name: str, url: str, branch: str, created_by: str) -> Repository:
        try:
            async with self._db.pool.connection() as conn:
                cursor = await conn.execute(
                    "insert into repositories (name, url, branch, created_by)"
                    " values (%s, %s, %s, %s) returning *",
                    (name, url, branch, created_by),
                )
                row = await cursor.fetchone()
        except psycopg.errors.UniqueViolation:
            raise Conflict(f"a repository named {name!r} already exists") from None
        assert row is not None
        return Repository(**row)

    async def all(self) -> list[Repository]:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(_WITH_JOB + " order by r.name")
            return [Repository(**row) for row in await cursor.fetchall()]

    async def get(self, repository_id: str) -> Repository:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(_WITH_JOB + " where r.id = %s", (repository_id,))
            row = await cursor.fetchone()
        if row is None:
            raise NotFound(f"repository {repository_id!r} does not exist")
        return Repository(**row)

    async def find(self, name_or_id: str) -> Repository:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                _WITH_JOB + " where r.id = %s or r.name = %s", (name_or_id, name_or_id)
            )
            row = await cursor.fetchone()
        if row is None:
            raise NotFound(f"no repository named {name_or_id!r}")
        return Repository(**row)

    async def delete(self, repository_id: str) -> None:
        """The repository, its files and chunks (cascade), staged ones included."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "delete from documents where owner_id = %s", (staging_owner(repository_id),)
            )
            cursor = await conn.execute(
                "delete from repositories where id = %s returning id", (repository_id,)
            )
            if await cursor.fetchone() is None:
                raise NotFound(f"repository {repository_id!r} does not exist")

    async def set_branch(self, repository_id: str, branch: str) -> None:
        async with self._db.pool.connection() as conn:
            await conn.execute(
                "update repositories set branch = %s, updated_at = now() where id = %s",
                (branch, repository_id),
            )

    async def mark_syncing(self, repository_id: str) -> None:
        await self._update(
            repository_id, "status = 'syncing', error = null, progress = %s", Jsonb({})
        )

    async def set_progress(self, repository_id: str, phase: str, done: int, total: int) -> None:
        progress = Jsonb({"phase": phase, "done": done, "total": total})
        await self._update(repository_id, "progress = %s", progress)

    async def mark_failed(self, repository_id: str, error: str) -> None:
        """The sync failed; the index of `head_commit` stays as it was, searchable."""
        await self._update(repository_id, "status = 'failed', error = %s, progress = null", error)

    async def mark_unchanged(self, repository_id: str, report: dict[str, Any]) -> None:
        await self._update(
            repository_id,
            "status = 'ready', progress = null, synced_at = now(), report = %s",
            Jsonb(report),
        )

    async def _update(self, repository_id: str, assignments: LiteralString, value: Any) -> None:
        statement = sql.SQL("update repositories set {}, updated_at = now() where id = %s")
        async with self._db.pool.connection() as conn:
            await conn.execute(statement.format(sql.SQL(assignments)), (value, repository_id))

    async def live_files(self, repository_id: str) -> dict[str, IndexedFile]:
        return await self._files(live_owner(repository_id))

    async def staged_files(self, repository_id: str) -> dict[str, IndexedFile]:
        return await self._files(staging_owner(repository_id))

    async def _files(self, owner: str) -> dict[str, IndexedFile]:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select f.path, f.document_id, f.blob_sha, f.language, f.chunking"
                " from repository_files f join documents d on d.id = f.document_id"
                " where d.owner_id = %s",
                (owner,),
            )
            return {
                row["path"]: IndexedFile(
                    row["document_id"], row["blob_sha"], row["language"], row["chunking"]
                )
                for row in await cursor.fetchall()
            }

    async def discard_staged(self, repository_id: str, paths: Sequence[str]) -> None:
        async with self._db.pool.connection() as conn:
            await conn.execute(
                "delete from documents where owner_id = %s and name = any(%s)",
                (staging_owner(repository_id), list(paths)),
            )

    async def stage(
        self,
        repository_id: str,
        file: StagedFile,
        embedder: str,
        chunks: Sequence[ChunkRow],
        tokens: Sequence[bytes | None] | None = None,
        pieces: PieceVectors | None = None,
    ) -> None:
        """One changed file, embedded, out of every search's sight until `apply`."""
        owner = staging_owner(repository_id)
        async with self._db.transaction() as conn:
            await conn.execute(
                "delete from documents where owner_id = %s and name = %s", (owner, file.path)
            )
            cursor = await conn.execute(
                """
                insert into documents (owner_id, repository_id, name, shared, title, mime, format,
                                       storage_path, sha256, size_bytes, status, chunk_count)
                values (%s, %s, %s, false, null, %s, %s, %s, %s, %s, 'indexing', %s)
                returning id
                """,
                (
                    owner,
                    repository_id,
                    file.path,
                    file.mime,
                    file.format,
                    f"git:{file.blob_sha}",
                    hashlib.sha256(file.data).hexdigest(),
                    len(file.data),
                    len(chunks),
                ),
            )
            row = await cursor.fetchone()
            assert row is not None
            await insert_chunks(conn, row["id"], embedder, chunks, tokens, pieces)
            await conn.execute(
                """
                insert into repository_files (document_id, repository_id, path, blob_sha, language,
                                              chunking, commit_sha, committed_at, author_name,
                                              author_email)
                values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                """,
                (
                    row["id"],
                    repository_id,
                    file.path,
                    file.blob_sha,
                    file.language,
                    file.chunking,
                    *_commit_values(file.commit),
                ),
            )

    async def apply(self, repository_id: str, result: SyncResult) -> None:
        """Swap the staged files in and move the cursor, all at once: searches see the previous
        commit's index or the new one, never a mix."""
        live, staging = live_owner(repository_id), staging_owner(repository_id)
        async with self._db.transaction() as conn:
            # One sync applies at a time, whichever worker runs it.
            await conn.execute(
                "select 1 from repositories where id = %s for update", (repository_id,)
            )
            await conn.execute(
                "delete from documents where owner_id = %s and (name = any(%s) or name in"
                " (select name from documents where owner_id = %s))",
                (live, list(result.removed), staging),
            )
            for move in result.moves:
                await conn.execute(
                    "update documents set name = %s, updated_at = now()"
                    " where owner_id = %s and name = %s",
                    (move.new_path, live, move.old_path),
                )
                await conn.execute(
                    "update repository_files set path = %s, commit_sha = %s, committed_at = %s,"
                    " author_name = %s, author_email = %s"
                    " where repository_id = %s and path = %s",
                    (move.new_path, *_commit_values(move.commit), repository_id, move.old_path),
                )
            async with conn.cursor() as cursor:
                await cursor.executemany(
                    "update repository_files f set commit_sha = %s, committed_at = %s,"
                    " author_name = %s, author_email = %s from documents d"
                    " where d.id = f.document_id and d.owner_id = %s and f.path = %s",
                    [
                        (*_commit_values(commit), live, path)
                        for path, commit in result.recommitted.items()
                    ],
                )
            await conn.execute(
                "update documents set owner_id = %s, shared = true, status = 'ready',"
                " updated_at = now() where owner_id = %s",
                (live, staging),
            )
            await conn.execute(
                """
                update repositories r set
                    status = 'ready', error = null, progress = null, synced_at = now(),
                    head_commit = %s, head_committed_at = %s, report = %s,
                    file_count = counts.files, chunk_count = counts.chunks, updated_at = now()
                from (select count(*) as files, coalesce(sum(chunk_count), 0) as chunks
                      from documents where owner_id = %s) counts
                where r.id = %s
                """,
                (
                    result.head.sha,
                    result.head.committed_at,
                    Jsonb(result.report),
                    live,
                    repository_id,
                ),
            )

    async def file_at(self, repository_id: str, path: str) -> dict[str, Any]:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select f.* from repository_files f join documents d on d.id = f.document_id"
                " where f.repository_id = %s and f.path = %s and d.status = 'ready'",
                (repository_id, path),
            )
            row = await cursor.fetchone()
        if row is None:
            raise NotFound(f"{path} is not an indexed file of this repository")
        return dict(row)


def _commit_values(commit: CommitInfo) -> tuple[str, datetime, str, str]:
    return commit.sha, commit.committed_at, commit.author_name, commit.author_email


# The latest sync job's id and state come with each repository, from Procrastinate's table.
_WITH_JOB = """
select r.*, j.id as job_id, j.status::text as job_status
from repositories r
left join lateral (
    select id, status from procrastinate_jobs
    where task_name = 'sync_repository' and args ->> 'repository_id' = r.id
    order by id desc limit 1
) j on true
"""

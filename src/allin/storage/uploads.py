"""All SQL about uploads waiting for, or going through, their ingestion job: the document recorded
as queued, its progress, how the job ended, and how busy a user's ingestion lanes are."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from psycopg.types.json import Jsonb

from allin.errors import NotFound
from allin.rag.document_records import Document, IngestStatus
from allin.storage.db import Database
from allin.storage.documents import NewDocument

INGEST_TASK = "ingest_document"


class UploadStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, document: NewDocument) -> Document:
        """The uploaded document, queued for ingestion. A document with a searchable version keeps
        it (and its raw file) until the new one is indexed; one with none shows the new one."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                """
                insert into documents (owner_id, name, shared, title, mime, format, storage_path,
                                       sha256, size_bytes, status, ingest_status)
                values (%(owner_id)s, %(name)s, %(shared)s, %(title)s, %(mime)s, %(format)s,
                        %(storage_path)s, %(sha256)s, %(size_bytes)s, 'indexing', 'queued')
                on conflict (owner_id, name) do update set
                    ingest_status = 'queued', error = null, error_code = null, progress = null,
                    updated_at = now(),
                    status = case when documents.status = 'ready' then 'ready' else 'indexing' end,
                    mime = case when documents.status = 'ready'
                                then documents.mime else excluded.mime end,
                    format = case when documents.status = 'ready'
                                  then documents.format else excluded.format end,
                    storage_path = case when documents.status = 'ready'
                                        then documents.storage_path else excluded.storage_path end,
                    sha256 = case when documents.status = 'ready'
                                  then documents.sha256 else excluded.sha256 end,
                    size_bytes = case when documents.status = 'ready'
                                      then documents.size_bytes else excluded.size_bytes end
                returning *
                """,
                asdict(document),
            )
            row = await cursor.fetchone()
        assert row is not None
        return Document(**row)

    async def queue_again(self, document_id: str) -> Document:
        """The document, queued to be ingested again from its stored raw file."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "update documents set ingest_status = 'queued', error = null, error_code = null,"
                " progress = null, updated_at = now(),"
                " status = case when status = 'ready' then 'ready' else 'indexing' end"
                " where id = %s returning *",
                (document_id,),
            )
            row = await cursor.fetchone()
        if row is None:
            raise NotFound(f"document {document_id!r} does not exist")
        return Document(**row)

    async def set_job(self, document_id: str, job_id: int) -> None:
        async with self._db.pool.connection() as conn:
            await conn.execute(
                "update documents set job_id = %s where id = %s", (job_id, document_id)
            )

    async def started(self, document_id: str) -> Document | None:
        """Mark the ingestion running; None if the document is gone (deleted while queued)."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "update documents set ingest_status = 'ingesting', error = null,"
                " error_code = null, progress = %s, updated_at = now() where id = %s returning *",
                (Jsonb({"phase": "parsing", "done": 0, "total": 1}), document_id),
            )
            row = await cursor.fetchone()
        return Document(**row) if row else None

    async def set_progress(self, document_id: str, phase: str, done: int, total: int) -> None:
        async with self._db.pool.connection() as conn:
            await conn.execute(
                "update documents set progress = %s where id = %s and ingest_status = 'ingesting'",
                (Jsonb({"phase": phase, "done": done, "total": total}), document_id),
            )

    async def finished(
        self,
        document_id: str,
        ingest_status: IngestStatus,
        error_code: str | None = None,
        error: str | None = None,
    ) -> None:
        """How the ingestion ended. A document with nothing indexed whose ingestion failed or was
        cancelled is `failed`; one with a searchable version keeps it."""
        async with self._db.pool.connection() as conn:
            await conn.execute(
                """
                update documents set
                    ingest_status = %(ingest_status)s, error_code = %(error_code)s,
                    error = %(error)s, progress = null, updated_at = now(),
                    status = case when %(ingest_status)s in ('failed', 'cancelled')
                                       and status <> 'ready' then 'failed' else status end
                where id = %(id)s
                """,
                {
                    "ingest_status": ingest_status,
                    "error_code": error_code,
                    "error": error,
                    "id": document_id,
                },
            )

    async def documents(self, document_ids: Sequence[str]) -> dict[str, Document]:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select * from documents where id = any(%s)", (list(document_ids),)
            )
            return {row["id"]: Document(**row) for row in await cursor.fetchall()}

    async def lane_loads(self, owner_id: str, lanes: int) -> list[int]:
        """How many of the user's ingestion jobs wait or run in each of their `lanes` (a lane is
        a Procrastinate lock: its jobs run one at a time, in order)."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select lock, count(*) as jobs from procrastinate_jobs"
                " where task_name = %s and status in ('todo', 'doing') and lock = any(%s)"
                " group by lock",
                (INGEST_TASK, [lane_lock(owner_id, lane) for lane in range(lanes)]),
            )
            counts = {row["lock"]: row["jobs"] for row in await cursor.fetchall()}
        return [counts.get(lane_lock(owner_id, lane), 0) for lane in range(lanes)]


def lane_lock(owner_id: str, lane: int) -> str:
    return f"ingest:{owner_id}:{lane}"

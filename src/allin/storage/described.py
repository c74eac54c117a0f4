"""All SQL of uploaded documents that describe a repository: the link, the documents' text as
their chunks hold it, and their stale-citation warnings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import errors

from allin.errors import NotFound
from allin.rag.document_records import Document
from allin.storage.db import Database
from allin.trust.staleness import CodeChange


@dataclass(frozen=True, slots=True)
class DescribingText:
    """An uploaded document that describes a repository, as its chunks hold it."""

    document_id: str
    repository_id: str
    updated_at: datetime
    text: str


_TEXTS = """
    select d.id as document_id, d.describes_repository as repository_id, d.updated_at,
           coalesce(string_agg(c.content, E'\\n' order by c.ord), '') as text
    from documents d
    left join document_chunks c on c.document_id = d.id
    where {which} and d.repository_id is null and d.describes_repository is not null
    group by d.id
"""


class DescribedStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def set_describes(self, document_id: str, repository_id: str | None) -> Document:
        """Link the document to the repository it describes (None: to none); its warnings go
        with the old link."""
        async with self._db.transaction() as conn:
            try:
                cursor = await conn.execute(
                    "update documents set describes_repository = %s where id = %s returning *",
                    (repository_id, document_id),
                )
            except errors.ForeignKeyViolation:
                raise NotFound(f"repository {repository_id!r} does not exist") from None
            row = await cursor.fetchone()
            if row is None:
                raise NotFound(f"document {document_id!r} does not exist")
            await conn.execute(
                "delete from document_stale_citations where document_id = %s"
                " and repository_id is distinct from %s",
                (document_id, repository_id),
            )
        return Document(**row)

    async def text_of(self, document_id: str) -> DescribingText | None:
        """The document's text, if it describes a repository."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(_TEXTS.format(which="d.id = %s"), (document_id,))
            row = await cursor.fetchone()
        return DescribingText(**row) if row else None

    async def describing(self, repository_id: str) -> list[DescribingText]:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                _TEXTS.format(which="d.describes_repository = %s"), (repository_id,)
            )
            return [DescribingText(**row) for row in await cursor.fetchall()]

    async def replace_links(self, document: DescribingText, changes: Sequence[CodeChange]) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "delete from document_stale_citations where document_id = %s",
                (document.document_id,),
            )
            async with conn.cursor() as cursor:
                await cursor.executemany(
                    "insert into document_stale_citations (document_id, repository_id, code_path,"
                    " names, commits_since, newest_commit, newest_committed_at, newest_author,"
                    " doc_updated_at) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [
                        (
                            document.document_id,
                            document.repository_id,
                            change.code_path,
                            list(change.names),
                            change.commits_since,
                            change.newest.sha,
                            change.newest.committed_at,
                            change.newest.author_name,
                            document.updated_at,
                        )
                        for change in changes
                    ],
                )

    async def stale_links(self, document_ids: Sequence[str]) -> list[dict[str, Any]]:
        """The warnings of these uploaded documents, shaped as a repository page's are (the
        document's update standing for the page's commit); most commits first."""
        if not document_ids:
            return []
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select *, doc_updated_at as doc_committed_at from document_stale_citations"
                " where document_id = any(%s) order by commits_since desc, code_path",
                (list(document_ids),),
            )
            return [dict(row) for row in await cursor.fetchall()]

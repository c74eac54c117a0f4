"""All SQL about documents and their chunks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from allin.errors import NotFound
from allin.rag.abbreviations import defined_abbreviations, plain_words, short_forms
from allin.rag.chunking import Chunk
from allin.rag.definitions import ChunkPart
from allin.rag.document_records import Document, Passage
from allin.rag.hybrid import (
    DEFAULT_FUSION,
    EXPANSIONS_SQL,
    HYBRID_SQL,
    Fusion,
    Scope,
    hybrid_params,
)
from allin.storage.db import Database

ChunkRow = tuple[int, str, str | None, int | None, Sequence[float], dict[str, Any]]
"""A chunk to store: (ord, content, heading, page, embedding, meta)."""

PieceVectors = Sequence[Sequence[Sequence[float]]]
"""Per chunk, the vectors of its pieces in order (none for most): see `chunk_piece_vectors`."""


async def insert_chunks(
    conn: psycopg.AsyncConnection[Any],
    document_id: str,
    embedder: str,
    rows: Sequence[ChunkRow],
    tokens: Sequence[bytes | None] | None = None,
    pieces: PieceVectors | None = None,
) -> None:
    """Insert a document's chunks, with their token vectors (`tokens`, one per row) when the
    embedder gave them, their pieces' vectors (`pieces`, one list per row), and the abbreviations
    they define (replacing the document's)."""
    token_rows = tokens if tokens is not None else [None] * len(rows)
    async with conn.cursor() as insert:
        await insert.executemany(
            "insert into document_chunks (document_id, ord, content, heading, page,"
            " embedder, embedding, meta, tokens)"
            " values (%s, %s, %s, %s, %s, %s, %s::vector, %s, %s)",
            [
                (
                    document_id,
                    ord_,
                    content,
                    heading,
                    page,
                    embedder,
                    list(vector),
                    Jsonb(meta),
                    token_vectors,
                )
                for (ord_, content, heading, page, vector, meta), token_vectors in zip(
                    rows, token_rows, strict=True
                )
            ],
        )
        if pieces:
            await insert.executemany(
                "insert into chunk_piece_vectors (chunk_id, piece, embedding)"
                " select id, %s, %s::vector from document_chunks"
                " where document_id = %s and ord = %s",
                [
                    (piece, list(vector), document_id, row[0])
                    for row, vectors in zip(rows, pieces, strict=True)
                    for piece, vector in enumerate(vectors)
                ],
            )
        await conn.execute(
            "delete from document_abbreviations where document_id = %s", (document_id,)
        )
        defined = defined_abbreviations(row[1] for row in rows)
        if defined:
            await insert.executemany(
                "insert into document_abbreviations (document_id, short, long)"
                " values (%s, %s, %s) on conflict do nothing",
                [(document_id, short, long) for short, long in sorted(defined)],
            )


@dataclass(frozen=True)
class NewDocument:
    owner_id: str
    name: str
    shared: bool
    title: str | None
    mime: str
    format: str
    storage_path: str
    sha256: str
    size_bytes: int


class DocumentStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure_vector_index(self, embedder: str, dimension: int) -> None:
        """The HNSW index for one embedder's vectors (cosine), created once."""
        name = "document_chunks_hnsw_" + re.sub(r"[^a-z0-9]+", "_", embedder.lower())[:40]
        statement = sql.SQL(
            "create index if not exists {name} on document_chunks using hnsw "
            "((embedding::vector({dim})) vector_cosine_ops) where embedder = {embedder}"
        ).format(name=sql.Identifier(name), dim=dimension, embedder=sql.Literal(embedder))
        async with self._db.pool.connection() as conn, conn.transaction():
            # Two workers starting together would otherwise race on the catalog.
            await conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (name,))
            await conn.execute(statement)

    async def any_ready(self, scope: Scope) -> bool:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select exists (select 1 from documents where status = 'ready'"
                " and (owner_id = %s or (%s and shared))) as found",
                (scope.owner_id, scope.include_shared),
            )
            row = await cursor.fetchone()
        return bool(row and row["found"])

    async def find(self, owner_id: str, name: str) -> Document | None:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select * from documents where owner_id = %s and name = %s", (owner_id, name)
            )
            row = await cursor.fetchone()
        return Document(**row) if row else None

    async def get(self, document_id: str) -> Document:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute("select * from documents where id = %s", (document_id,))
            row = await cursor.fetchone()
        if row is None:
            raise NotFound(f"document {document_id!r} does not exist")
        return Document(**row)

    async def visible(self, scope: Scope) -> list[Document]:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                # A repository's files are listed with the repository, not as documents.
                "select * from documents where repository_id is null"
                " and (owner_id = %s or (%s and shared)) order by shared, name",
                (scope.owner_id, scope.include_shared),
            )
            return [Document(**row) for row in await cursor.fetchall()]

    async def save(
        self,
        document: NewDocument,
        embedder: str,
        chunks: Sequence[Chunk],
        vectors: Sequence[Sequence[float]],
        tokens: Sequence[bytes] | None = None,
        *,
        recorded_id: str | None = None,
    ) -> tuple[Document, str | None]:
        """Store a document and its chunks in one transaction, replacing the document of the same
        owner and name if there is one: searches see the old version or the new one, never a mix,
        and a failure anywhere before leaves the old version untouched. With `recorded_id` (an
        upload, recorded before its job ran) that document must still be there: one deleted
        while it was ingested is `NotFound`, not brought back.

        Returns the stored document and the blob path of the version it replaced, if any.
        """
        rows: list[ChunkRow] = [
            (
                chunk.ord,
                chunk.content,
                chunk.heading,
                chunk.page,
                vector,
                {"start": chunk.start, "end": chunk.end, "tokens": chunk.tokens},
            )
            for chunk, vector in zip(chunks, vectors, strict=True)
        ]
        async with self._db.pool.connection() as conn, conn.transaction():
            cursor = await conn.execute(
                "select id, storage_path from documents where owner_id = %s and name = %s"
                " for update",
                (document.owner_id, document.name),
            )
            previous = await cursor.fetchone()
            if recorded_id is not None and (previous is None or previous["id"] != recorded_id):
                raise NotFound(f"{document.name} was deleted while it was being indexed")
            cursor = await conn.execute(
                """
                insert into documents (owner_id, name, shared, title, mime, format, storage_path,
                                       sha256, size_bytes, status, chunk_count)
                values (%(owner_id)s, %(name)s, %(shared)s, %(title)s, %(mime)s, %(format)s,
                        %(storage_path)s, %(sha256)s, %(size_bytes)s, 'ready', %(chunk_count)s)
                on conflict (owner_id, name) do update set
                    shared = excluded.shared, title = excluded.title, mime = excluded.mime,
                    format = excluded.format, storage_path = excluded.storage_path,
                    sha256 = excluded.sha256, size_bytes = excluded.size_bytes,
                    status = 'ready', error = null, chunk_count = excluded.chunk_count,
                    ingest_status = 'indexed', error_code = null, progress = null,
                    updated_at = now()
                returning *
                """,
                {**asdict(document), "chunk_count": len(rows)},
            )
            row = await cursor.fetchone()
            assert row is not None
            await conn.execute("delete from document_chunks where document_id = %s", (row["id"],))
            await insert_chunks(conn, row["id"], embedder, rows, tokens)
        replaced = previous["storage_path"] if previous else None
        return Document(**row), (replaced if replaced != row["storage_path"] else None)

    async def delete(self, document_id: str) -> None:
        async with self._db.pool.connection() as conn:
            await conn.execute("delete from documents where id = %s", (document_id,))

    async def delete_owned(self, owner_id: str) -> list[Document]:
        """Delete every document of `owner_id`; returns them (their blobs go too)."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "delete from documents where owner_id = %s returning *", (owner_id,)
            )
            return [Document(**row) for row in await cursor.fetchall()]

    async def stale(self, embedder: str) -> list[str]:
        """Ids of documents with chunks embedded by another embedder."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select distinct document_id from document_chunks where embedder <> %s",
                (embedder,),
            )
            return [row["document_id"] for row in await cursor.fetchall()]

    async def chunks_of(self, document_id: str) -> list[dict[str, Any]]:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select id, ord, content, heading, page, meta from document_chunks"
                " where document_id = %s order by ord",
                (document_id,),
            )
            return list(await cursor.fetchall())

    async def chunk(self, chunk_id: int) -> dict[str, Any]:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select id, document_id, ord, content, heading, page from document_chunks"
                " where id = %s",
                (chunk_id,),
            )
            row = await cursor.fetchone()
        if row is None:
            raise NotFound(f"passage {chunk_id} does not exist")
        return dict(row)

    async def reembed(
        self,
        document_id: str,
        embedder: str,
        vectors: dict[int, Sequence[float]],
        tokens: dict[int, bytes] | None = None,
        pieces: dict[int, Sequence[Sequence[float]]] | None = None,
    ) -> None:
        """New vectors (and token vectors, or none: the old ones were another embedder's), and
        new vectors for the chunks' pieces."""
        token_of = tokens or {}
        async with (
            self._db.pool.connection() as conn,
            conn.transaction(),
            conn.cursor() as cursor,
        ):
            await cursor.executemany(
                "update document_chunks set embedder = %s, embedding = %s::vector, tokens = %s"
                " where id = %s and document_id = %s",
                [
                    (embedder, list(v), token_of.get(chunk_id), chunk_id, document_id)
                    for chunk_id, v in vectors.items()
                ],
            )
            await cursor.execute(
                "delete from chunk_piece_vectors where chunk_id = any(%s)", (list(vectors),)
            )
            await cursor.executemany(
                "insert into chunk_piece_vectors (chunk_id, piece, embedding)"
                " values (%s, %s, %s::vector)",
                [
                    (chunk_id, piece, list(vector))
                    for chunk_id, piece_vectors in (pieces or {}).items()
                    for piece, vector in enumerate(piece_vectors)
                ],
            )

    async def chunks_at(self, places: Sequence[tuple[str, int]]) -> list[ChunkPart]:
        """The chunks of repository files at these (document, ord) places, those that exist."""
        if not places:
            return []
        documents, ords = zip(*places, strict=True)
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select c.document_id, c.ord, c.content, c.heading,"
                " (c.meta ->> 'start_line')::int as start_line,"
                " (c.meta ->> 'end_line')::int as end_line,"
                " coalesce((c.meta ->> 'tokens')::int, 0) as tokens"
                " from document_chunks c"
                " join unnest(%s::text[], %s::int[]) as wanted(document_id, ord)"
                " on c.document_id = wanted.document_id and c.ord = wanted.ord"
                " where c.meta ? 'start_line'",
                (list(documents), list(ords)),
            )
            return [ChunkPart(**row) for row in await cursor.fetchall()]

    async def chunk_tokens(self, chunk_ids: Sequence[int], embedder: str) -> dict[int, bytes]:
        """The token vectors stored for these chunks by `embedder` (chunks without are left out)."""
        async with self._db.pool.connection() as conn:
            # In binary: ~100 KB a chunk would travel and be parsed as hex text otherwise.
            cursor = await conn.execute(
                "select id, tokens from document_chunks"
                " where id = any(%s) and embedder = %s and tokens is not null",
                (list(chunk_ids), embedder),
                binary=True,
            )
            return {row["id"]: bytes(row["tokens"]) for row in await cursor.fetchall()}

    async def expansions(self, scope: Scope, question: str) -> list[str]:
        """What the abbreviations in `question` stand for, and the abbreviations of the long
        forms in it, as the documents in `scope` define them (`allin.rag.abbreviations`)."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                EXPANSIONS_SQL,
                {
                    "owner": scope.owner_id,
                    "shared": scope.include_shared,
                    "shorts": short_forms(question),
                    "words": plain_words(question),
                },
            )
            rows = await cursor.fetchall()
        return sorted({row["long"] if row["asked_short"] else row["short"] for row in rows})

    async def search(
        self,
        scope: Scope,
        question: str,
        vector: Sequence[float],
        *,
        embedder: str,
        dimension: int,
        k: int,
        candidates: int,
        ef_search: int,
        fusion: Fusion = DEFAULT_FUSION,
    ) -> list[Passage]:
        """Hybrid retrieval: the `candidates` nearest chunks by cosine ∪ the `candidates` best
        full-text matches, fused by reciprocal rank, best `k` first (see `HYBRID_SQL`)."""
        statement = sql.SQL(HYBRID_SQL).format(dim=sql.Literal(dimension))
        params = hybrid_params(
            scope,
            question,
            vector,
            embedder=embedder,
            k=k,
            candidates=candidates,
            ef_search=ef_search,
            fusion=fusion,
        )
        async with self._db.pool.connection() as conn, conn.transaction():
            await conn.execute(
                "select set_config('hnsw.ef_search', %s, true)", (str(params["overfetch"]),)
            )
            cursor = await conn.execute(statement, params)
            return [Passage(**row) for row in await cursor.fetchall()]

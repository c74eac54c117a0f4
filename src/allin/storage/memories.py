"""SQL on mem0's memory table that mem0 itself does not do.

mem0 creates its table (`id uuid, vector, payload jsonb`) and finds a user's memories by
`payload->>'user_id'`. With no index on that expression every search and listing would scan all
users' memories; with it, a search reads only the user's own rows and ranks them exactly (see
`allin.memory.build` for why there is no approximate vector index).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from psycopg import sql

from allin.storage.db import Database


async def index_by_user(db: Database, table: str) -> None:
    index = sql.Identifier(f"{table}_user_idx")
    async with db.pool.connection() as conn:
        await conn.execute(
            sql.SQL("create index if not exists {} on {} ((payload->>'user_id'))").format(
                index, sql.Identifier(table)
            )
        )


async def nearest_memories(
    db: Database, table: str, user_id: str, vector: Sequence[float], limit: int
) -> list[dict[str, Any]]:
    """The user's `limit` memories closest to `vector`, closest first: `id`, `payload` (mem0's:
    the text is `data`, our metadata sits beside it) and `similarity` (cosine, as mem0 scores it).

    One statement on the user's rows through the user index: the same exact ranking mem0's own
    search starts from, without its keyword and entity passes (see `allin.memory.reading`)."""
    # The distance is computed once per row (ordered by its alias), and the vector goes over as
    # pgvector's binary type (the pool registers it), not as an array of floats cast per query.
    statement = sql.SQL(
        "select id::text as id, payload, vector <=> %s as distance"
        " from {} where payload->>'user_id' = %s order by distance limit %s"
    ).format(sql.Identifier(table))
    query = np.asarray(vector, dtype=np.float32)
    async with db.pool.connection() as conn:
        cursor = await conn.execute(statement, (query, user_id, limit))
        rows: list[dict[str, Any]] = await cursor.fetchall()
    return [
        {"id": row["id"], "payload": row["payload"], "similarity": 1.0 - float(row["distance"])}
        for row in rows
    ]

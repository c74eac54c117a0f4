"""SQL on mem0's memory table that mem0 itself does not do.

mem0 creates its table (`id uuid, vector, payload jsonb`) and finds a user's memories by
`payload->>'user_id'`. With no index on that expression every search and listing would scan all
users' memories; with it, a search reads only the user's own rows and ranks them exactly (see
`allin.memory.build` for why there is no approximate vector index).
"""

from __future__ import annotations

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

"""The connection pool and the versioned SQL migrations.

Connections never use server-side prepared statements (`prepare_threshold=None`) so the same code
works behind Supabase's transaction pooler.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg
from pgvector.psycopg import register_vector_async
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from allin.config import Settings
from allin.storage.embedded import start_embedded_postgres

logger = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Any constant works; it only has to be the same in every process migrating this database.
_MIGRATION_LOCK_KEY = 0x616C6C696E

# A connection of the app's pool: autocommit, rows as dicts.
Connection = psycopg.AsyncConnection[Any]


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations() -> list[Migration]:
    folder = resources.files("allin.storage") / "migrations"
    migrations = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            migrations.append(Migration(int(match[1]), entry.name, entry.read_text()))
    migrations.sort(key=lambda m: m.version)
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations share a version: {versions}")
    return migrations


async def migrate(conn: psycopg.AsyncConnection[Any]) -> list[str]:
    """Apply pending migrations in order, each in its own transaction; returns the names applied.

    Refuses to run if an applied migration's file changed: applied migrations are never edited.
    """
    await conn.execute(
        "create table if not exists schema_migrations ("
        " version integer primary key, name text not null, checksum text not null,"
        " applied_at timestamptz not null default now())"
    )
    await conn.execute("select pg_advisory_lock(%s)", (_MIGRATION_LOCK_KEY,))
    try:
        cursor = await conn.execute("select version, name, checksum from schema_migrations")
        applied = {row[0]: (row[1], row[2]) for row in await cursor.fetchall()}
        done = []
        for migration in load_migrations():
            if migration.version in applied:
                name, checksum = applied[migration.version]
                if checksum != migration.checksum:
                    raise MigrationError(
                        f"migration {name} was edited after it was applied; add a new one instead"
                    )
                continue
            async with conn.transaction():
                await conn.execute(migration.sql.encode())
                await conn.execute(
                    "insert into schema_migrations (version, name, checksum) values (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
            logger.info("applied migration %s", migration.name)
            done.append(migration.name)
        await _apply_job_queue_schema(conn)
        return done
    finally:
        await conn.execute("select pg_advisory_unlock(%s)", (_MIGRATION_LOCK_KEY,))


async def _apply_job_queue_schema(conn: psycopg.AsyncConnection[Any]) -> None:
    """Procrastinate's own tables (jobs, workers, locks), created once. Its schema is versioned by
    the pinned `procrastinate` release: upgrading it means applying its migration files too."""
    from procrastinate.schema import SchemaManager

    cursor = await conn.execute("select to_regclass('procrastinate_jobs') is not null")
    row = await cursor.fetchone()
    if row and row[0]:
        return
    async with conn.transaction():
        await conn.execute(SchemaManager.get_schema().encode())
    logger.info("created the job queue's tables (procrastinate)")


class Database:
    """Owns the pool (and the embedded server when there is no `DATABASE_URL`)."""

    def __init__(self, url: str, pool: AsyncConnectionPool[Any], embedded: Any = None) -> None:
        self.url = url
        self.pool = pool
        self._embedded = embedded

    @classmethod
    async def open(cls, settings: Settings, *, run_migrations: bool = True) -> Database:
        embedded = None
        url = settings.database_url
        if url is None:
            embedded = await asyncio.to_thread(start_embedded_postgres, settings.embedded_pg_dir)
            url = str(embedded.get_uri())
        if run_migrations:
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
                await migrate(conn)
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            url,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            kwargs={"autocommit": True, "prepare_threshold": None, "row_factory": dict_row},
            configure=register_vector_async,
            timeout=settings.db_wait_s,
            open=False,
        )
        await pool.open(wait=True, timeout=30)
        return cls(url, pool, embedded)

    @asynccontextmanager
    async def connection(self, within: Connection | None = None) -> AsyncIterator[Connection]:
        """A connection for one statement: `within`, the connection of a caller's transaction,
        when there is one (so the statement is part of it), else one of the pool's."""
        if within is not None:
            yield within
            return
        async with self.pool.connection() as conn:
            yield conn

    @asynccontextmanager
    async def transaction(self, within: Connection | None = None) -> AsyncIterator[Connection]:
        """The unit of work: a connection in a transaction, committed when the block ends and
        rolled back if it raises, for writes of several statements that stand or fall together.

        A repository method takes `within` so that its write can be one step of a caller's larger
        unit (a spoken question and its recording): it then runs in a savepoint of the caller's
        transaction, and nothing is committed until the caller's block ends."""
        async with self.connection(within) as conn, conn.transaction():
            yield conn

    async def ping(self) -> None:
        async with self.pool.connection(timeout=3) as conn:
            await conn.execute("select 1")

    async def close(self) -> None:
        await self.pool.close()
        if self._embedded is not None:
            # Now rather than at interpreter exit: a server stopped by SIGTERM or SIGINT re-raises
            # the signal once the app has shut down, and the process dies without running its
            # exit handlers, leaving the embedded Postgres behind. (The server stops here only if
            # this is the last process using it.)
            await asyncio.to_thread(self._embedded.cleanup)

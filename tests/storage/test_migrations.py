from __future__ import annotations

from typing import Any

import psycopg
import pytest

from allin.storage.db import MigrationError, load_migrations, migrate
from tests.conftest import new_database


@pytest.fixture
async def fresh_db(postgres: Any) -> Any:
    async with await psycopg.AsyncConnection.connect(
        new_database(postgres), autocommit=True
    ) as conn:
        yield conn


def test_migration_files_are_numbered_in_order() -> None:
    versions = [m.version for m in load_migrations()]
    assert versions == sorted(versions)
    assert versions[0] == 1


async def test_migrate_applies_once_and_records(fresh_db: Any) -> None:
    applied = await migrate(fresh_db)
    assert applied == [m.name for m in load_migrations()]
    assert await migrate(fresh_db) == []
    cursor = await fresh_db.execute("select name from schema_migrations order by version")
    assert [row[0] for row in await cursor.fetchall()] == applied


async def test_schema_has_tables_and_indexes_from_design(fresh_db: Any) -> None:
    await migrate(fresh_db)
    cursor = await fresh_db.execute(
        "select column_name from information_schema.columns where table_name = 'chat_turns'"
    )
    columns = {row[0] for row in await cursor.fetchall()}
    assert {"user_id", "chat_id", "role", "content", "created_at", "client_msg_id", "metadata"} <= (
        columns
    )
    cursor = await fresh_db.execute(
        "select indexdef from pg_indexes where tablename in ('chat_turns', 'chats')"
    )
    indexes = " | ".join(row[0] for row in await cursor.fetchall())
    assert (
        "UNIQUE INDEX chat_turns_chat_client_msg ON public.chat_turns"
        " USING btree (user_id, chat_id, client_msg_id)"
    ) in indexes
    assert (
        "chat_turns_user_chat_id ON public.chat_turns USING btree (user_id, chat_id, id)" in indexes
    )
    cursor = await fresh_db.execute("select extname from pg_extension where extname = 'vector'")
    assert await cursor.fetchone() is not None


async def test_an_edited_applied_migration_is_refused(fresh_db: Any) -> None:
    await migrate(fresh_db)
    await fresh_db.execute("update schema_migrations set checksum = 'edited' where version = 1")
    with pytest.raises(MigrationError, match="edited after it was applied"):
        await migrate(fresh_db)

"""The stores the app's services are built with, from settings."""

from __future__ import annotations

import asyncio
from pathlib import Path

from allin.config import Settings
from allin.services import Services
from allin.storage.blobs import DOCUMENTS, LocalBlobStore
from allin.storage.chats import PostgresChatStore
from allin.storage.supabase_blobs import SupabaseBlobStore
from allin.storage.supabase_chats import SupabaseChatStore
from tests.conftest import make_settings
from tests.support.fake_supabase_storage import SERVICE_KEY


async def test_defaults_are_postgres_chats_and_local_files(
    services: Services, settings: Settings, user_id: str
) -> None:
    assert isinstance(services.chats, PostgresChatStore)
    assert isinstance(services.blobs, LocalBlobStore) and services.supabase is None
    await services.blobs.put(DOCUMENTS, f"{user_id}/a.txt", b"hello", "text/plain")
    stored = settings.data_dir / "blobs" / DOCUMENTS / user_id / "a.txt"
    assert await asyncio.to_thread(stored.read_bytes) == b"hello"


async def test_supabase_stores_when_chosen(
    database_url: str, supabase_url: str, tmp_path: Path, user_id: str
) -> None:
    started = await Services.start(
        make_settings(
            database_url=database_url,
            data_dir=tmp_path,
            chat_store="supabase",
            blobs="supabase",
            supabase_url=supabase_url,
            supabase_service_key=SERVICE_KEY,
        )
    )
    try:
        assert isinstance(started.chats, SupabaseChatStore)
        assert isinstance(started.blobs, SupabaseBlobStore)
        turn, _ = await started.chats.append_user_turn(user_id, "c", "m1", "over REST")
        # Same database underneath: the Postgres store sees what went through Supabase's API.
        direct = await PostgresChatStore(started.db).turns_before(user_id, "c", None, 10)
        assert direct == [turn]
        await started.blobs.put(DOCUMENTS, f"{user_id}/a.txt", b"hello", "text/plain")
        assert await started.blobs.get(DOCUMENTS, f"{user_id}/a.txt") == b"hello"
    finally:
        await started.stop()

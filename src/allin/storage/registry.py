"""Which chat store and blob store a deployment uses, from its settings (`ALLIN_CHAT_STORE`,
`ALLIN_BLOBS`); both Supabase-backed stores share one client."""

from __future__ import annotations

import asyncio
import hashlib

from allin.config import BlobBackend, ChatStoreBackend, ConfigError, Settings
from allin.storage.blobs import BlobStore, LocalBlobStore
from allin.storage.chat_store import ChatStore
from allin.storage.chats import PostgresChatStore
from allin.storage.db import Database
from allin.storage.local_secrets import load_or_create_secret
from allin.storage.supabase_blobs import SupabaseBlobStore
from allin.storage.supabase_chats import SupabaseChatStore
from allin.storage.supabase_client import SupabaseConnection


async def open_supabase(settings: Settings) -> SupabaseConnection | None:
    """The Supabase client, when a Supabase-backed store is chosen; None otherwise."""
    if (
        settings.blobs is not BlobBackend.SUPABASE
        and settings.chat_store is not ChatStoreBackend.SUPABASE
    ):
        return None
    if not (settings.supabase_url and settings.supabase_service_key):
        raise ConfigError("a Supabase store needs SUPABASE_URL and SUPABASE_SERVICE_KEY")
    return await SupabaseConnection.open(
        settings.supabase_url, settings.supabase_service_key.get_secret_value()
    )


def build_chat_store(
    settings: Settings, db: Database, supabase: SupabaseConnection | None
) -> ChatStore:
    if settings.chat_store is ChatStoreBackend.SUPABASE:
        assert supabase is not None  # opened by `open_supabase` for this setting
        return SupabaseChatStore(supabase.client)
    return PostgresChatStore(db)


async def build_blob_store(settings: Settings, supabase: SupabaseConnection | None) -> BlobStore:
    if settings.blobs is BlobBackend.SUPABASE:
        assert supabase is not None  # opened by `open_supabase` for this setting
        store = SupabaseBlobStore(supabase.client)
        await store.ensure_buckets()
        return store
    # Its own secret, not the token secret: a leaked signed URL must not help forge tokens.
    secret = await asyncio.to_thread(load_or_create_secret, settings.data_dir / "blob_secret")
    return LocalBlobStore(settings.data_dir / "blobs", secret)


def uploads_queue(settings: Settings) -> str:
    """The job queue of upload ingestions, worked by every worker that reads the same raw files
    and only those: Supabase Storage is read from anywhere, local files only where they are (a
    worker elsewhere, or an app with another data folder, would find no file to ingest)."""
    if settings.blobs is BlobBackend.SUPABASE:
        return "documents"
    folder = str((settings.data_dir / "blobs").resolve())
    return f"documents-{hashlib.sha256(folder.encode()).hexdigest()[:16]}"

"""Builds the memory manager from settings: the one place mem0 is configured.

- Vector store: mem0's `pgvector`, in the app's own Postgres (the same `DATABASE_URL`, or the
  embedded server), through a small pool of our own so that, like the app's, it never uses
  server-side prepared statements (Supabase's transaction pooler would break them).
- Collection: named after the embedder and its dimension, so switching embedder starts a new
  collection instead of mixing vectors from two models.
- No approximate (HNSW) index: every search is scoped to one user, and an index on the user id
  (`storage/memories.py`) makes that an exact ranking of the user's own rows. A global HNSW index
  would instead return the nearest rows of all users and filter them afterwards, so with many
  users a user's own memories would mostly be missed.
- Embedder: the app's, lent to mem0 (`embedding.py`). LLM: the chat's provider, or none offline.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from pathlib import Path
from typing import Any

from psycopg_pool import ConnectionPool

from allin.config import LLMProvider, Settings
from allin.embeddings.base import Embedder
from allin.memory import env
from allin.memory.manager import MemoryManager
from allin.memory.reading import MemoryReader
from allin.storage.db import Database
from allin.storage.memories import index_by_user

logger = logging.getLogger(__name__)

# mem0 runs its blocking queries in worker threads; a few connections serve them.
_POOL_MAX = 4
# Postgres truncates identifiers at 63 bytes; the table name leaves room for index suffixes.
_TABLE_MAX = 48


def collection_name(embedder: Embedder) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", embedder.name.lower()).strip("_")
    name = f"mem0_{slug}_{embedder.dimension}"
    if len(name) > _TABLE_MAX:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[: _TABLE_MAX - 9]}_{digest}"
    return name


def start_memory(settings: Settings, db: Database, embedder: Embedder) -> MemoryManager:
    """The memory manager at once, with mem0 built in the background: importing mem0 and loading
    the embedding model take seconds, and the app answers (health, UI, login) meanwhile. Whatever
    needs memory waits for it (`MemoryManager.ready`)."""
    table = collection_name(embedder)
    pool: ConnectionPool[Any] = ConnectionPool(
        db.url,
        min_size=1,
        max_size=_POOL_MAX,
        kwargs={"prepare_threshold": None},
        timeout=settings.db_wait_s,
        open=False,
    )
    building = asyncio.create_task(_build(settings, db, embedder, table, pool), name="memory")
    building.add_done_callback(_log_failure)
    return MemoryManager(
        building,
        MemoryReader(db, table, embedder),
        extract_with_llm=settings.llm_provider is not LLMProvider.OFFLINE,
        on_close=pool.close,
    )


async def _build(
    settings: Settings, db: Database, embedder: Embedder, table: str, pool: ConnectionPool[Any]
) -> Any:
    # Imported in a worker thread, so that the seconds mem0's import takes hold up no request.
    mem0_dir = await asyncio.to_thread(_import_mem0, settings.data_dir)
    from allin.memory.embedding import Mem0Embedding
    from allin.memory.llm import PLACEHOLDER, attach_llm, llm_config

    await asyncio.to_thread(pool.open, wait=True, timeout=30)
    config = {
        "vector_store": {
            "provider": "pgvector",
            "config": {
                "collection_name": table,
                "embedding_model_dims": embedder.dimension,
                "connection_pool": pool,
                "hnsw": False,
            },
        },
        "embedder": PLACEHOLDER,
        "llm": llm_config(settings),
        "history_db_path": str(mem0_dir / "history.db"),
    }
    memory = await asyncio.to_thread(_from_config, config)
    memory.embedding_model = Mem0Embedding(embedder)
    attach_llm(memory, settings)
    await asyncio.to_thread(memory.vector_store.create_col)
    await index_by_user(db, table)
    # Load the embedding model now: the first turn's memory search has a timeout to keep.
    await embedder.embed_query("warm up")
    return memory


def _import_mem0(data_dir: Path) -> Path:
    mem0_dir = env.prepare(data_dir)
    import allin.memory.embedding
    import allin.memory.llm  # noqa: F401

    return mem0_dir


def _from_config(config: dict[str, Any]) -> Any:
    from mem0 import AsyncMemory

    return AsyncMemory.from_config(config)


def _log_failure(building: asyncio.Task[Any]) -> None:
    if not building.cancelled() and (failure := building.exception()) is not None:
        logger.error("long-term memory could not start", exc_info=failure)

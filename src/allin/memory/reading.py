"""A turn's read of the user's memories: one embedding of the question, one pgvector k-NN query.

mem0 stays the memories' owner and writer (its table, its payloads, its adds, updates and
deletes); only the search on the answer's path is ours. mem0 2.2.1's `search` costs six
thread-pool steps: lemmatize the query, extract its entities, embed it (handed back to the event
loop from a worker thread), a k-NN query, a keyword query, and entity-boost queries, then a
weighted score. On this deployment the extra steps buy nothing:

- Keyword scores: mem0 adds `sigmoid(ts_rank_cd)` to the cosine score, with a midpoint of 5 to 12
  for a rank that is a fraction of 1 on memories a sentence long, so it adds about 0.01 to every
  match and changes no order the tests or `bench/memory.py` can see.
- Entity boosts: they read mem0's entity store, which only LLM extraction fills. Offline, and
  for the facts we add ourselves (`infer=False`), it is empty.
- The threshold gates the cosine similarity in mem0 too, so the same memories pass it.

Without them the search is the k-NN query mem0 starts from, with the question's vector shared
with retrieval (`CoalescingEncoder` embeds a text once per turn), so a turn waits for no thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict

from allin.embeddings.base import Embedder
from allin.memory.memory_records import Memory
from allin.storage.db import Database
from allin.storage.memories import nearest_memories

logger = logging.getLogger(__name__)

# Questions whose embedding was started ahead (`prepare`) and not yet searched with, at most: a
# turn that never searches (asked "what do you know about me", failed first) leaves its entry.
_PREPARED_MAX = 256


class MemoryReader:
    def __init__(self, db: Database, table: str, embedder: Embedder) -> None:
        self._db = db
        self._table = table
        self._embedder = embedder
        self._prepared: OrderedDict[str, asyncio.Task[list[float]]] = OrderedDict()

    def prepare(self, text: str) -> None:
        """Start embedding `text` now, for a search that will come: the turn stores and claims
        its answer meanwhile, so the embedding is (partly) done when the search starts."""
        if text in self._prepared:
            return
        self._prepared[text] = asyncio.create_task(
            self._embedder.embed_query(text), name="embed-question-ahead"
        )
        while len(self._prepared) > _PREPARED_MAX:
            _, dropped = self._prepared.popitem(last=False)
            dropped.cancel()

    async def nearest(
        self, user_id: str, text: str, *, top_k: int, threshold: float
    ) -> list[Memory]:
        """The user's memories closest to `text`, best first, at least `threshold` similar."""
        vector = await self._vector(text)
        rows = await nearest_memories(self._db, self._table, user_id, vector, top_k)
        return [
            Memory.from_payload(row["id"], row["payload"])
            for row in rows
            if row["similarity"] >= threshold
        ]

    async def _vector(self, text: str) -> list[float]:
        ahead = self._prepared.pop(text, None)
        if ahead is not None:
            with contextlib.suppress(Exception):  # embedded ahead or not, the search goes on
                return await ahead
            logger.debug("embedding ahead failed; embedding again", exc_info=True)
        return await self._embedder.embed_query(text)

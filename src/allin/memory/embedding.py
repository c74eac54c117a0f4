"""The app's embedder, lent to mem0 so that memories and documents share one model and one vector
space, and no second model is loaded (or downloaded) for memory.

mem0 calls `embed` synchronously from worker threads (`asyncio.to_thread`); our embedders are async
and bound to the app's event loop (the Gemini client's session lives there), so each call is handed
back to that loop and the worker thread waits for it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, Literal, TypeVar

from mem0.embeddings.base import EmbeddingBase

from allin.embeddings.base import Embedder
from allin.memory.glossary import gloss

Action = Literal["add", "search", "update"]
# A bound on a worker thread's wait; the embedders time out on their own well before this.
_WAIT_S = 120.0

T = TypeVar("T")


class Mem0Embedding(EmbeddingBase):  # type: ignore[misc]  # mem0 ships no type information
    def __init__(self, embedder: Embedder) -> None:
        """Build it on the event loop that owns `embedder`."""
        super().__init__()
        self._embedder = embedder
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self.config.embedding_dims = embedder.dimension

    def embed(self, text: str, memory_action: Action | None = None) -> list[float]:
        if memory_action == "search":
            return self._run(self._embedder.embed_query(gloss(text)))
        (vector,) = self._run(self._embedder.embed_documents([gloss(text)]))
        return vector

    def embed_batch(self, texts: Sequence[str], memory_action: Action = "add") -> list[list[float]]:
        return self._run(self._embedder.embed_documents([gloss(text) for text in texts]))

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        if threading.get_ident() == self._loop_thread:
            work.close()
            # Waiting here would block the very loop that has to do the work.
            raise RuntimeError("mem0 embedded on the event loop's thread; it must use a worker")
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(_WAIT_S)

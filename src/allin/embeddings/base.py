"""The embedder protocol shared by the knowledge base and long-term memory."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from allin.errors import Unavailable


class Embedder(Protocol):
    """Turns text into unit-length vectors of `dimension` floats.

    `name` identifies the model and its dimension (`minilm:all-MiniLM-L6-v2`); it is recorded next
    to every stored vector so that a change of embedder re-indexes instead of mixing vectors.
    """

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    async def warm_up(self) -> None:
        """Get ready (load weights) so the first request is not the slow one."""
        ...

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for passages to be stored, in the order given."""
        ...

    async def embed_query(self, text: str) -> list[float]:
        """The vector of a search query (some models embed queries differently)."""
        ...

    async def aclose(self) -> None: ...


class EmbedderUnavailable(Unavailable):
    """The embedding provider failed or timed out."""

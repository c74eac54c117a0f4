"""The embedder protocol shared by the knowledge base and long-term memory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

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


@dataclass(frozen=True, slots=True)
class Embedded:
    """A text's vector and its token vectors from the same forward pass: `tokens` holds one row
    per token (special tokens left out) of `dimension` int8 values, a unit vector times 127."""

    vector: list[float]
    tokens: bytes


@runtime_checkable
class TokenEmbedder(Embedder, Protocol):
    """An embedder that also gives the token vectors it pooled, for late-interaction reranking
    (`allin.rag.rerank`) at no extra forward pass."""

    async def embed_with_tokens(self, texts: Sequence[str]) -> list[Embedded]: ...


class EmbedderUnavailable(Unavailable):
    """The embedding provider failed or timed out."""

"""Gemini embeddings through the official `google-genai` SDK."""

from __future__ import annotations

import math
from collections.abc import Sequence

from google.genai import types

from allin.config import Settings
from allin.embeddings.base import EmbedderUnavailable
from allin.embeddings.recent import RecentQueries
from allin.providers.google import FAILURES, GoogleProvider

# The API takes at most 100 texts per batch request.
_BATCH = 100


class GeminiEmbedder:
    def __init__(self, model: str, dimension: int, provider: GoogleProvider) -> None:
        self._model = model
        self._dimension = dimension
        self._client = provider.client()
        self.queries = RecentQueries(self._embed_query)

    @classmethod
    def from_settings(cls, settings: Settings) -> GeminiEmbedder:
        provider = GoogleProvider.from_settings(settings, needed_by="Gemini embeddings")
        return cls(settings.gemini_embedding_model, settings.gemini_embedding_dimension, provider)

    @property
    def name(self) -> str:
        return f"gemini:{self._model}@{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    async def warm_up(self) -> None:
        return None

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), _BATCH):
            vectors += await self._embed(texts[start : start + _BATCH], "RETRIEVAL_DOCUMENT")
        return vectors

    async def embed_query(self, text: str) -> list[float]:
        return await self.queries.embed(text)

    async def _embed_query(self, text: str) -> list[float]:
        (vector,) = await self._embed([text], "RETRIEVAL_QUERY")
        return vector

    async def _embed(self, texts: Sequence[str], task: str) -> list[list[float]]:
        config = types.EmbedContentConfig(task_type=task, output_dimensionality=self._dimension)
        try:
            response = await self._client.aio.models.embed_content(
                model=self._model, contents=list(texts), config=config
            )
        except FAILURES as exc:
            raise EmbedderUnavailable(f"Gemini embeddings: {exc}") from exc
        embeddings = response.embeddings or []
        if len(embeddings) != len(texts):
            raise EmbedderUnavailable(
                f"Gemini embeddings: {len(embeddings)} vectors for {len(texts)} texts"
            )
        return [_unit(embedding.values or [], self._dimension) for embedding in embeddings]

    async def aclose(self) -> None:
        self.queries.close()
        await self._client.aio.aclose()


def _unit(values: list[float], dimension: int) -> list[float]:
    """Truncated Gemini vectors are not normalised; cosine search wants them unit length."""
    if len(values) != dimension:
        raise EmbedderUnavailable(
            f"Gemini embeddings: got {len(values)} dimensions, not {dimension}"
        )
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]

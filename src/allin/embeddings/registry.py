"""Maps the `ALLIN_EMBEDDER` setting to an embedder: the one place naming concrete providers."""

from __future__ import annotations

from collections.abc import Callable

from allin.config import EmbedderProvider, Settings
from allin.embeddings.base import Embedder


def _gemini(settings: Settings) -> Embedder:
    from allin.embeddings.gemini import GeminiEmbedder

    return GeminiEmbedder.from_settings(settings)


def _minilm(settings: Settings) -> Embedder:
    from allin.embeddings.minilm import MiniLMEmbedder

    return MiniLMEmbedder()


EMBEDDERS: dict[EmbedderProvider, Callable[[Settings], Embedder]] = {
    EmbedderProvider.GEMINI: _gemini,
    EmbedderProvider.MINILM: _minilm,
}


def build_embedder(settings: Settings) -> Embedder:
    return EMBEDDERS[settings.embedder_provider](settings)

"""Maps the `ALLIN_LLM` setting to a chat-model factory: the one place naming concrete providers.

Providers are imported lazily so that the offline default never loads a network SDK.
"""

from __future__ import annotations

from collections.abc import Callable

from allin.config import LLMProvider, Settings
from allin.embeddings.base import Embedder
from allin.llm.base import ChatModel


def _gemini(settings: Settings, embedder: Embedder | None) -> ChatModel:
    from allin.llm.gemini import GeminiChatModel

    return GeminiChatModel.from_settings(settings)


def _openai(settings: Settings, embedder: Embedder | None) -> ChatModel:
    from allin.llm.openai_compat import OpenAICompatChatModel

    return OpenAICompatChatModel.from_settings(settings)


def _offline(settings: Settings, embedder: Embedder | None) -> ChatModel:
    from allin.llm.offline import OfflineChatModel

    return OfflineChatModel(
        settings.offline_token_delay_ms / 1000, embedder, remembers=settings.memory
    )


CHAT_MODELS: dict[LLMProvider, Callable[[Settings, Embedder | None], ChatModel]] = {
    LLMProvider.GEMINI: _gemini,
    LLMProvider.OPENAI: _openai,
    LLMProvider.OFFLINE: _offline,
}


def build_chat_model(settings: Settings, embedder: Embedder | None = None) -> ChatModel:
    """The configured chat model; `embedder` lets the offline answerer pick which sentences of
    a passage to lead with (the language models need none)."""
    return CHAT_MODELS[settings.llm_provider](settings, embedder)

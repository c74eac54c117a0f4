"""Maps the `ALLIN_LLM` setting to a chat-model factory: the one place naming concrete providers.

Providers are imported lazily so that the offline default never loads a network SDK.
"""

from __future__ import annotations

from collections.abc import Callable

from allin.config import LLMProvider, Settings
from allin.llm.base import ChatModel


def _gemini(settings: Settings) -> ChatModel:
    from allin.llm.gemini import GeminiChatModel

    return GeminiChatModel.from_settings(settings)


def _openai(settings: Settings) -> ChatModel:
    from allin.llm.openai_compat import OpenAICompatChatModel

    return OpenAICompatChatModel.from_settings(settings)


def _offline(settings: Settings) -> ChatModel:
    from allin.llm.offline import OfflineChatModel

    return OfflineChatModel(token_delay_s=settings.offline_token_delay_ms / 1000)


CHAT_MODELS: dict[LLMProvider, Callable[[Settings], ChatModel]] = {
    LLMProvider.GEMINI: _gemini,
    LLMProvider.OPENAI: _openai,
    LLMProvider.OFFLINE: _offline,
}


def build_chat_model(settings: Settings) -> ChatModel:
    return CHAT_MODELS[settings.llm_provider](settings)

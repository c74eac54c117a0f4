"""The language model mem0 extracts memories with: the chat's own provider, or none offline.

mem0 builds its LLM from a provider name and a config dict. Where its providers lack an option we
need (Gemini's base URL; request timeouts and retries on both), the client mem0 built is replaced
with one configured from our settings: mem0's provider code still makes every call.
"""

from __future__ import annotations

from typing import Any

from mem0.llms.base import LLMBase

from allin.config import LLMProvider, Settings
from allin.providers.openai_compat import OpenAICompatProvider

# mem0 must build some LLM and some embedder from its config before we swap in ours (or none). LM
# Studio's provider is a local, keyless one: building it creates an HTTP client and sends nothing.
PLACEHOLDER = {"provider": "lmstudio", "config": {}}


class NoLLM(LLMBase):  # type: ignore[misc]  # mem0 ships no type information
    """Offline: memories come from `allin.memory.extract`, so nothing may ask for an LLM."""

    def __init__(self) -> None:
        super().__init__({"model": "none"})

    def generate_response(self, *args: Any, **kwargs: Any) -> str:
        raise RuntimeError("no language model is configured; memories are extracted offline")


def llm_config(settings: Settings) -> dict[str, Any]:
    """mem0's `llm` config section for the chat's provider."""
    provider = settings.llm_provider
    if provider is LLMProvider.GEMINI:
        assert settings.gemini_api_key is not None  # Settings refuses gemini without a key
        return {
            "provider": "gemini",
            "config": {
                "model": settings.gemini_model,
                "api_key": settings.gemini_api_key.get_secret_value(),
                "temperature": 0.0,
            },
        }
    if provider is LLMProvider.OPENAI:
        openai = OpenAICompatProvider.from_settings(settings)
        return {
            "provider": "openai",
            "config": {
                "model": settings.openai_model,
                "openai_base_url": openai.base_url,
                "api_key": openai.api_key,
                "temperature": 0.0,
            },
        }
    return PLACEHOLDER


def attach_llm(memory: Any, settings: Settings) -> None:
    """Finish what `llm_config` started on a built mem0 `AsyncMemory`."""
    provider = settings.llm_provider
    if provider is LLMProvider.OFFLINE:
        memory.llm = NoLLM()
    elif provider is LLMProvider.OPENAI:
        # Memory is learned in the background: fail within our timeout, don't retry for minutes.
        memory.llm.client = memory.llm.client.with_options(
            timeout=settings.llm_timeout_s, max_retries=0
        )
    else:
        from allin.providers.google import GoogleProvider

        google = GoogleProvider.from_settings(settings, needed_by="the Gemini model")
        memory.llm.client = google.client()

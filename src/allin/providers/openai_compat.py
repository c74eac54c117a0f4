"""Any server that speaks OpenAI's API (Ollama, llama.cpp server, vLLM, OpenAI), through the
official `openai` SDK."""

from __future__ import annotations

from openai import APIConnectionError, APIError, APITimeoutError, AsyncOpenAI

from allin.config import Settings

# Local servers ignore the key, but the SDK refuses to start without one.
NO_KEY = "not-needed"


class OpenAICompatProvider:
    def __init__(self, *, base_url: str, timeout_s: float, api_key: str | None = None) -> None:
        self.base_url = base_url
        self.timeout_s = timeout_s
        self.api_key = api_key or NO_KEY

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAICompatProvider:
        key = settings.openai_api_key
        return cls(
            base_url=settings.openai_base_url,
            timeout_s=settings.llm_timeout_s,
            api_key=key.get_secret_value() if key is not None else None,
        )

    def client(self) -> AsyncOpenAI:
        """A client of its own for each user, which closes it. Retries are off: a turn that fails
        should fail fast and visibly, not stall the chat for minutes."""
        return AsyncOpenAI(
            base_url=self.base_url, api_key=self.api_key, timeout=self.timeout_s, max_retries=0
        )

    @property
    def where(self) -> str:
        return f"OpenAI-compatible server at {self.base_url}"

    def describe(self, exc: APIError) -> str:
        """A failure of the SDK, for the user's `unavailable` error."""
        if isinstance(exc, APITimeoutError):
            return f"no response within {self.timeout_s:g} s"
        # The SDK's own text is a bare "Connection error."; the cause says refused, DNS, TLS...
        if isinstance(exc, APIConnectionError) and exc.__cause__ is not None:
            return f"{exc.message} ({type(exc.__cause__).__name__}: {exc.__cause__})"
        return exc.message

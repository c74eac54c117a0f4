"""Any server that speaks OpenAI's `/v1/chat/completions` (Ollama, llama.cpp server, vLLM, OpenAI),
through the official `openai` SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator

from openai import APIConnectionError, APIError, APITimeoutError, AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam

from allin.config import Settings
from allin.llm.base import Message, ModelUnavailable, Prompt


class OpenAICompatChatModel:
    def __init__(
        self, *, base_url: str, model: str, timeout_s: float, api_key: str | None = None
    ) -> None:
        self._base_url = base_url
        self._model = model
        self._timeout_s = timeout_s
        # Local servers ignore the key, but the SDK refuses to start without one. Retries are off
        # because a turn that fails should fail fast and visibly, not stall the chat for minutes.
        self._client = AsyncOpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout_s, max_retries=0
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAICompatChatModel:
        key = settings.openai_api_key
        return cls(
            base_url=settings.openai_base_url,
            model=settings.openai_model,
            timeout_s=settings.llm_timeout_s,
            api_key=key.get_secret_value() if key is not None else None,
        )

    @property
    def name(self) -> str:
        return f"openai:{self._model}"

    async def stream(self, prompt: Prompt) -> AsyncIterator[str]:
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": prompt.system_text()},
            *(_message(message) for message in prompt.as_messages()),
        ]
        answered = False
        stopped: str | None = None
        try:
            chunks = await self._client.chat.completions.create(
                model=self._model, messages=messages, stream=True
            )
            # Closes the response even when the caller stops reading early.
            async with chunks:
                async for chunk in chunks:
                    # Servers may send choice-less chunks (usage statistics); they carry no text.
                    if not chunk.choices:
                        continue
                    choice = chunk.choices[0]
                    if choice.delta.content:
                        answered = True
                        yield choice.delta.content
                    stopped = choice.finish_reason or stopped
        except APIError as exc:
            raise ModelUnavailable(f"{self._where}: {self._describe(exc)}") from exc
        if not answered:
            raise ModelUnavailable(
                f"{self._where} gave no answer (finish reason: {stopped or 'none given'})"
            )

    async def aclose(self) -> None:
        await self._client.close()

    @property
    def _where(self) -> str:
        return f"OpenAI-compatible server at {self._base_url}"

    def _describe(self, exc: APIError) -> str:
        if isinstance(exc, APITimeoutError):
            return f"no response within {self._timeout_s:g} s"
        # The SDK's own text is a bare "Connection error."; the cause says refused, DNS, TLS...
        if isinstance(exc, APIConnectionError) and exc.__cause__ is not None:
            return f"{exc.message} ({type(exc.__cause__).__name__}: {exc.__cause__})"
        return exc.message


def _message(message: Message) -> ChatCompletionMessageParam:
    if message.role == "assistant":
        return {"role": "assistant", "content": message.content}
    return {"role": "user", "content": message.content}

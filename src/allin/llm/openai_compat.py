"""Any server that speaks OpenAI's `/v1/chat/completions` (Ollama, llama.cpp server, vLLM, OpenAI),
through the official `openai` SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator

from openai import APIError
from openai.types.chat import ChatCompletionMessageParam

from allin.config import Settings
from allin.llm.base import Message, ModelUnavailable, Prompt
from allin.providers.openai_compat import OpenAICompatProvider


class OpenAICompatChatModel:
    def __init__(self, model: str, provider: OpenAICompatProvider) -> None:
        self._model = model
        self._provider = provider
        self._client = provider.client()

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAICompatChatModel:
        return cls(settings.openai_model, OpenAICompatProvider.from_settings(settings))

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
            raise ModelUnavailable(
                f"{self._provider.where}: {self._provider.describe(exc)}"
            ) from exc
        if not answered:
            raise ModelUnavailable(
                f"{self._provider.where} gave no answer (finish reason: {stopped or 'none given'})"
            )

    async def aclose(self) -> None:
        await self._client.close()


def _message(message: Message) -> ChatCompletionMessageParam:
    if message.role == "assistant":
        return {"role": "assistant", "content": message.content}
    return {"role": "user", "content": message.content}

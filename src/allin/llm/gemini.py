"""Google Gemini through the official `google-genai` SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator

from google.genai import types

from allin.config import Settings
from allin.llm.base import ModelUnavailable, Prompt, Role
from allin.providers.google import FAILURES, GoogleProvider

_ROLES: dict[Role, str] = {"user": "user", "assistant": "model"}


class GeminiChatModel:
    def __init__(self, model: str, provider: GoogleProvider) -> None:
        self._model = model
        self._provider = provider
        self._client = provider.client()

    @classmethod
    def from_settings(cls, settings: Settings) -> GeminiChatModel:
        provider = GoogleProvider.from_settings(settings, needed_by="the Gemini model")
        return cls(settings.gemini_model, provider)

    @property
    def name(self) -> str:
        return f"gemini:{self._model}"

    async def stream(self, prompt: Prompt) -> AsyncIterator[str]:
        contents: types.ContentListUnion = [
            types.Content(role=_ROLES[message.role], parts=[types.Part(text=message.content)])
            for message in prompt.as_messages()
        ]
        config = types.GenerateContentConfig(system_instruction=prompt.system_text())
        answered = False
        stopped: str | None = None
        try:
            chunks = await self._client.aio.models.generate_content_stream(
                model=self._model, contents=contents, config=config
            )
            async for chunk in chunks:
                if chunk.text:
                    answered = True
                    yield chunk.text
                stopped = _stop_reason(chunk) or stopped
        except FAILURES as exc:
            raise ModelUnavailable(f"Gemini: {self._provider.describe(exc)}") from exc
        if not answered:
            raise ModelUnavailable(f"Gemini gave no answer ({stopped or 'no reason given'})")

    async def aclose(self) -> None:
        await self._client.aio.aclose()


def _stop_reason(chunk: types.GenerateContentResponse) -> str | None:
    feedback = chunk.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        return f"prompt blocked: {feedback.block_reason.value}"
    if chunk.candidates and chunk.candidates[0].finish_reason is not None:
        return f"finish reason: {chunk.candidates[0].finish_reason.value}"
    return None

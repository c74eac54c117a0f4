"""Google Gemini through the official `google-genai` SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import httpx2
from google import genai
from google.genai import errors, types

from allin.config import ConfigError, Settings
from allin.llm.base import ModelUnavailable, Prompt, Role

_ROLES: dict[Role, str] = {"user": "user", "assistant": "model"}

# The SDK sends through httpx2 unless GOOGLE_GENAI_HTTP_CLIENT=httpx picks httpx, and through
# aiohttp when that is installed (its timeouts are the built-in TimeoutError).
_TIMEOUTS = (httpx.TimeoutException, httpx2.TimeoutException, TimeoutError)
FAILURES = (
    errors.APIError,
    errors.UnknownApiResponseError,
    httpx.HTTPError,
    httpx2.HTTPError,
    TimeoutError,
)


class GeminiChatModel:
    def __init__(
        self, *, api_key: str, model: str, timeout_s: float, base_url: str | None = None
    ) -> None:
        self._model = model
        self._timeout_s = timeout_s
        # vertexai=False so that a stray GOOGLE_GENAI_USE_VERTEXAI cannot send the key elsewhere.
        self._client = genai.Client(
            vertexai=False,
            api_key=api_key,
            http_options=types.HttpOptions(base_url=base_url, timeout=round(timeout_s * 1000)),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> GeminiChatModel:
        if settings.gemini_api_key is None:
            raise ConfigError("the Gemini model needs GEMINI_API_KEY (or GOOGLE_API_KEY)")
        return cls(
            api_key=settings.gemini_api_key.get_secret_value(),
            model=settings.gemini_model,
            timeout_s=settings.llm_timeout_s,
            base_url=settings.gemini_base_url,
        )

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
            raise ModelUnavailable(f"Gemini: {self._describe(exc)}") from exc
        if not answered:
            raise ModelUnavailable(f"Gemini gave no answer ({stopped or 'no reason given'})")

    async def aclose(self) -> None:
        await self._client.aio.aclose()

    def _describe(self, exc: Exception) -> str:
        if isinstance(exc, _TIMEOUTS):
            return f"no response within {self._timeout_s:g} s"
        if isinstance(exc, errors.APIError):
            status = " ".join(str(part) for part in (exc.code, exc.status) if part)
            return f"{status}: {exc.message or exc.details}"
        if isinstance(exc, httpx.HTTPError | httpx2.HTTPError):
            return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return str(exc)


def _stop_reason(chunk: types.GenerateContentResponse) -> str | None:
    feedback = chunk.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        return f"prompt blocked: {feedback.block_reason.value}"
    if chunk.candidates and chunk.candidates[0].finish_reason is not None:
        return f"finish reason: {chunk.candidates[0].finish_reason.value}"
    return None

"""Google's GenAI API (Gemini chat, embeddings, Live voice, mem0's extraction) through the official
`google-genai` SDK."""

from __future__ import annotations

import ssl
from pathlib import Path

import certifi
import httpx
import httpx2
from google import genai
from google.genai import errors, types

from allin.config import ConfigError, Settings

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


class GoogleProvider:
    def __init__(
        self,
        *,
        api_key: str,
        timeout_s: float,
        base_url: str | None = None,
        live_ca_file: Path | str | None = None,
    ) -> None:
        self._api_key = api_key
        self.timeout_s = timeout_s
        self.base_url = base_url
        self._live_ca_file = live_ca_file

    @classmethod
    def from_settings(cls, settings: Settings, *, needed_by: str) -> GoogleProvider:
        if settings.gemini_api_key is None:
            raise ConfigError(f"{needed_by} needs GEMINI_API_KEY (or GOOGLE_API_KEY)")
        return cls(
            api_key=settings.gemini_api_key.get_secret_value(),
            timeout_s=settings.llm_timeout_s,
            base_url=settings.gemini_base_url,
            live_ca_file=settings.gemini_live_ca_file,
        )

    def client(self) -> genai.Client:
        """A client of its own for each user, which closes it."""
        return self._client(types.HttpOptions(base_url=self.base_url, timeout=self._timeout_ms))

    def live_client(self) -> genai.Client:
        """A client for Live sessions: no request timeout (a session lasts as long as the
        conversation), and the CA file, if one is set, trusted for the WebSocket's TLS."""
        # The SDK opens the Live WebSocket with the `ssl` context of `async_client_args`, and the
        # base URL's host with wss (it forces TLS, whatever the scheme).
        extra = {"ssl": self._ssl_context()} if self._live_ca_file else None
        return self._client(types.HttpOptions(base_url=self.base_url, async_client_args=extra))

    def describe(self, exc: BaseException) -> str:
        """A failure of the SDK, for the user's `unavailable` error."""
        if isinstance(exc, _TIMEOUTS):
            return f"no response within {self.timeout_s:g} s"
        if isinstance(exc, errors.APIError):
            status = " ".join(str(part) for part in (exc.code, exc.status) if part)
            return f"{status}: {exc.message or exc.details}"
        if isinstance(exc, httpx.HTTPError | httpx2.HTTPError):
            return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return str(exc)

    @property
    def _timeout_ms(self) -> int:
        return round(self.timeout_s * 1000)

    def _client(self, options: types.HttpOptions) -> genai.Client:
        # vertexai=False so that a stray GOOGLE_GENAI_USE_VERTEXAI cannot send the key elsewhere.
        return genai.Client(vertexai=False, api_key=self._api_key, http_options=options)

    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=certifi.where())
        context.load_verify_locations(cafile=self._live_ca_file)
        return context

"""A stand-in for the Gemini API (generativelanguage.googleapis.com), for tests to script and
inspect.

It serves `POST /{version}/models/{model}:streamGenerateContent?alt=sse` and
`POST /{version}/models/{model}:generateContent` for any API version, speaking the wire format the
`google-genai` SDK parses. A test sets `behaviour` to one of the scripts below, or to a responder
that picks one from the request; every request is kept in `requests`.

The scripts (`Reply`, `Failure`, `Stall`, `Refusal`, `introduce`) are provider-neutral, so the
OpenAI-compatible stand-in uses them too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from allin.llm.offline import identity


def split(text: str, pieces: int) -> list[str]:
    """`text` cut at word boundaries into at most `pieces` chunks whose concatenation is `text`."""
    words = text.split(" ")
    step = max(1, -(-len(words) // pieces))
    groups = [" ".join(words[i : i + step]) for i in range(0, len(words), step)]
    return [group + " " for group in groups[:-1]] + groups[-1:]


@dataclass(frozen=True)
class Reply:
    """Answer `text`, streamed in `pieces` chunks."""

    text: str
    pieces: int = 3

    @property
    def chunks(self) -> list[str]:
        return split(self.text, self.pieces)


@dataclass(frozen=True)
class Failure:
    """Answer with an HTTP error and the provider's JSON error body carrying `message`."""

    status: int
    message: str


@dataclass(frozen=True)
class Stall:
    """Send `first` (nothing at all when empty: not even headers), then go silent for `seconds`."""

    seconds: float
    first: Sequence[str] = ()


@dataclass(frozen=True)
class Refusal:
    """Decline to answer, as safety filters do: a successful response that carries no text."""


Script = Reply | Failure | Stall | Refusal
# Given the system instruction and the last user message, decide how to answer.
Responder = Callable[[str, str], Script]
Behaviour = Script | Responder


def introduce(system: str, user: str) -> Script:
    """Behave like a model that follows its system prompt: say who it is when asked."""
    if "who are you" in user.lower():
        name, maker = identity(system)
        return Reply(f"I'm {name}, made by {maker}.")
    return Reply(f"You said: {user}")


def script_for(behaviour: Behaviour, system: str, user: str) -> Script:
    if isinstance(behaviour, Reply | Failure | Stall | Refusal):
        return behaviour
    return behaviour(system, user)


async def wait_for_disconnect(request: Request, seconds: float) -> None:
    """Sleep up to `seconds`, returning early once the client hangs up so that the server can stop
    promptly at the end of the test. Call it only after the request body has been read."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while (await request.receive())["type"] != "http.disconnect":
                pass


_GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def _error(status: int, message: str) -> JSONResponse:
    body = {
        "error": {
            "code": status,
            "message": message,
            "status": _GOOGLE_STATUS.get(status, "UNKNOWN"),
        }
    }
    return JSONResponse(body, status_code=status)


@dataclass(frozen=True)
class GeminiRequest:
    version: str  # the API version in the path, e.g. "v1beta"
    model: str
    method: str  # "streamGenerateContent" or "generateContent"
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def system(self) -> str:
        parts = self.body.get("systemInstruction", {}).get("parts", [])
        return "".join(part.get("text", "") for part in parts)

    @property
    def turns(self) -> list[tuple[str, str]]:
        """(role, text) for each entry of `contents`, in Gemini's roles ("user", "model")."""
        return [
            (content["role"], "".join(part.get("text", "") for part in content["parts"]))
            for content in self.body.get("contents", [])
        ]

    @property
    def user(self) -> str:
        return next((text for role, text in reversed(self.turns) if role == "user"), "")


def _response(model: str, text: str | None, finish: str | None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"index": 0}
    if text is not None:
        candidate["content"] = {"role": "model", "parts": [{"text": text}]}
    if finish is not None:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "modelVersion": model, "responseId": "fake-response"}


_BLOCKED = {"promptFeedback": {"blockReason": "SAFETY"}, "modelVersion": "fake"}


@dataclass
class FakeGemini:
    api_key: str = "test-gemini-key"
    behaviour: Behaviour = introduce
    requests: list[GeminiRequest] = field(default_factory=list)
    app: Starlette = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.app = Starlette(
            routes=[Route("/{version}/models/{call}", self._handle, methods=["POST"])]
        )

    async def _handle(self, request: Request) -> Response:
        model, _, method = request.path_params["call"].partition(":")
        received = GeminiRequest(
            request.path_params["version"],
            model,
            method,
            dict(request.headers),
            await request.json(),
        )
        self.requests.append(received)
        if method not in ("streamGenerateContent", "generateContent"):
            return _error(404, f"Method {method} not found.")
        if request.headers.get("x-goog-api-key") != self.api_key:
            return _error(400, "API key not valid. Please pass a valid API key.")
        script = script_for(self.behaviour, received.system, received.user)
        if isinstance(script, Failure):
            return _error(script.status, script.message)
        if isinstance(script, Stall) and (method == "generateContent" or not script.first):
            await wait_for_disconnect(request, script.seconds)
            return _error(504, "Deadline expired before operation could complete.")
        if method == "streamGenerateContent":
            return StreamingResponse(self._events(model, script), media_type="text/event-stream")
        if isinstance(script, Reply):
            return JSONResponse(_response(model, script.text, "STOP"))
        return JSONResponse(_BLOCKED)

    @staticmethod
    async def _events(model: str, script: Reply | Stall | Refusal) -> AsyncIterator[str]:
        if isinstance(script, Refusal):
            chunks: list[dict[str, Any]] = [_BLOCKED]
        elif isinstance(script, Reply):
            texts = script.chunks
            chunks = [
                _response(model, text, "STOP" if n == len(texts) - 1 else None)
                for n, text in enumerate(texts)
            ]
        else:
            chunks = [_response(model, text, None) for text in script.first]
        for chunk in chunks:
            # CRLF line ends, as the real API sends them.
            yield f"data: {json.dumps(chunk)}\r\n\r\n"
        if isinstance(script, Stall):
            # Starlette cancels a streaming body when the client disconnects, so a plain sleep ends
            # early on its own.
            await asyncio.sleep(script.seconds)

"""A stand-in for the Gemini API (generativelanguage.googleapis.com), for tests to script and
inspect.

It serves `POST /{version}/models/{model}:streamGenerateContent?alt=sse`,
`POST /{version}/models/{model}:generateContent` and
`POST /{version}/models/{model}:batchEmbedContents` for any API version, speaking the wire format
the `google-genai` SDK parses. Embeddings are word-hashing vectors (texts sharing words are
close), deliberately not unit length, as Gemini's truncated vectors are not. A test sets
`behaviour` to one of the scripts below, or to a responder that picks one from the request; every
request is kept in `requests`.

What it answers is scripted with `tests.support.llm_scripts`.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.llm_scripts import (
    CHUNK_GAP_S,
    Behaviour,
    Failure,
    Refusal,
    Reply,
    Stall,
    introduce,
    script_for,
    wait_for_disconnect,
)

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


def word_hash_vector(text: str, dimension: int) -> list[float]:
    vector = [0.0] * dimension
    for word in text.lower().split():
        vector[zlib.crc32(word.encode()) % dimension] += 3.0
    return vector


_BLOCKED = {"promptFeedback": {"blockReason": "SAFETY"}, "modelVersion": "fake"}


@dataclass
class FakeGemini:
    api_key: str = "test-gemini-key"
    behaviour: Behaviour = introduce
    requests: list[GeminiRequest] = field(default_factory=list)
    # When set, embedding requests fail with this status.
    embedding_failure: Failure | None = None
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
        if method not in ("streamGenerateContent", "generateContent", "batchEmbedContents"):
            return _error(404, f"Method {method} not found.")
        if request.headers.get("x-goog-api-key") != self.api_key:
            return _error(400, "API key not valid. Please pass a valid API key.")
        if method == "batchEmbedContents":
            return self._embeddings(received.body)
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

    def _embeddings(self, body: dict[str, Any]) -> Response:
        if self.embedding_failure is not None:
            return _error(self.embedding_failure.status, self.embedding_failure.message)
        vectors = []
        for item in body["requests"]:
            text = "".join(part.get("text", "") for part in item["content"]["parts"])
            vectors.append(
                {"values": word_hash_vector(text, item.get("outputDimensionality", 768))}
            )
        return JSONResponse({"embeddings": vectors})

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
        for n, chunk in enumerate(chunks):
            if n:
                await asyncio.sleep(CHUNK_GAP_S)
            # CRLF line ends, as the real API sends them.
            yield f"data: {json.dumps(chunk)}\r\n\r\n"
        if isinstance(script, Stall):
            # Starlette cancels a streaming body when the client disconnects, so a plain sleep ends
            # early on its own.
            await asyncio.sleep(script.seconds)

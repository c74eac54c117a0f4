"""A stand-in for an OpenAI-compatible server (Ollama, llama.cpp server, vLLM, OpenAI itself), for
tests to script and inspect.

It serves `POST /v1/chat/completions`, streaming (`"stream": true`: SSE chunks in OpenAI's format,
ending `data: [DONE]`) or not. A test sets `behaviour` to one of the scripts shared with
`fake_gemini`, or to a responder that picks one from the request; every request is kept in
`requests`.
"""

from __future__ import annotations

import asyncio
import json
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


def _error(status: int, message: str) -> JSONResponse:
    kind = "server_error" if status >= 500 else "invalid_request_error"
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return JSONResponse(body, status_code=status)


@dataclass(frozen=True)
class ChatRequest:
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[tuple[str, str]]:
        """(role, content) for each message sent, system message included."""
        return [(message["role"], message["content"]) for message in self.body["messages"]]

    @property
    def system(self) -> str:
        return "\n".join(content for role, content in self.messages if role == "system")

    @property
    def user(self) -> str:
        return next((content for role, content in reversed(self.messages) if role == "user"), "")


def _chunk(model: str, delta: dict[str, str], finish: str | None) -> str:
    chunk = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    return f"data: {json.dumps(chunk)}\n\n"


def _completion(model: str, text: str, finish: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "logprobs": None,
                "finish_reason": finish,
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


@dataclass
class FakeOpenAI:
    # None accepts any key or none, as local servers (Ollama, llama.cpp) do.
    api_key: str | None = None
    behaviour: Behaviour = introduce
    requests: list[ChatRequest] = field(default_factory=list)
    app: Starlette = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.app = Starlette(routes=[Route("/v1/chat/completions", self._handle, methods=["POST"])])

    async def _handle(self, request: Request) -> Response:
        received = ChatRequest(dict(request.headers), await request.json())
        self.requests.append(received)
        if self.api_key is not None and (
            request.headers.get("authorization") != f"Bearer {self.api_key}"
        ):
            return _error(401, "Incorrect API key provided.")
        model = str(received.body["model"])
        streaming = bool(received.body.get("stream"))
        script = script_for(self.behaviour, received.system, received.user)
        if isinstance(script, Failure):
            return _error(script.status, script.message)
        if isinstance(script, Stall) and (not streaming or not script.first):
            await wait_for_disconnect(request, script.seconds)
            return _error(504, "The server took too long to respond.")
        if streaming:
            return StreamingResponse(self._events(model, script), media_type="text/event-stream")
        if isinstance(script, Reply):
            return JSONResponse(_completion(model, script.text, "stop"))
        return JSONResponse(_completion(model, "", "content_filter"))

    @staticmethod
    async def _events(model: str, script: Reply | Stall | Refusal) -> AsyncIterator[str]:
        yield _chunk(model, {"role": "assistant", "content": ""}, None)
        if isinstance(script, Stall):
            for text in script.first:
                yield _chunk(model, {"content": text}, None)
            # Starlette cancels a streaming body when the client disconnects, so a plain sleep ends
            # early on its own.
            await asyncio.sleep(script.seconds)
            return
        if isinstance(script, Reply):
            for n, text in enumerate(script.chunks):
                if n:
                    await asyncio.sleep(CHUNK_GAP_S)
                yield _chunk(model, {"content": text}, None)
        yield _chunk(model, {}, "stop" if isinstance(script, Reply) else "content_filter")
        yield "data: [DONE]\n\n"

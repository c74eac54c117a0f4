"""A small WebSocket client for tests: send frames, collect a turn's frames until `done`/`error`."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection


async def send(socket: ClientConnection, **frame: Any) -> None:
    await socket.send(json.dumps(frame))


# Long enough for any offline answer; a hung server fails the test instead of the whole run.
_FRAME_WAIT_S = 10


async def next_frame(socket: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(_FRAME_WAIT_S):
        return dict(json.loads(await socket.recv()))


async def until_done(socket: ClientConnection) -> list[dict[str, Any]]:
    """Frames up to and including the next `done` or `error`."""
    frames = []
    while True:
        frame = await next_frame(socket)
        frames.append(frame)
        if frame["type"] in ("done", "error"):
            return frames


async def ask(socket: ClientConnection, message_id: str, content: str) -> list[dict[str, Any]]:
    await send(socket, type="message", id=message_id, content=content)
    return await until_done(socket)


async def frames_until(socket: ClientConnection, kind: str, count: int = 1) -> list[dict[str, Any]]:
    """Frames up to and including the `count`-th frame of type `kind`."""
    frames = []
    seen = 0
    while seen < count:
        frame = await next_frame(socket)
        frames.append(frame)
        seen += frame["type"] == kind
    return frames


def answer_text(frames: list[dict[str, Any]], turn_id: int, have: str = "") -> str:
    """The answer's text as a client builds it from token frames after `have`: each token says
    where it starts, so text the client already has is not added twice."""
    text = have
    for frame in frames:
        if frame["type"] == "token" and frame["turn_id"] == turn_id:
            start = frame["offset"]
            assert start <= len(text), f"gap before offset {start}: have {len(text)} chars"
            text = text[:start] + frame["text"] if start + len(frame["text"]) > len(text) else text
    return text

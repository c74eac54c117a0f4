"""`/ws/{user_id}/{chat_id}`: the real-time chat socket (DESIGN "Wire protocol")."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from allin.api.deps import ID_PATTERN, check_owner
from allin.api.ratelimit import RateLimiter
from allin.auth.principal import Principal
from allin.chat.frames import (
    CancelIn,
    ErrorOut,
    MessageIn,
    Pong,
    ResumeIn,
    ServerFrame,
    parse_client_frame,
)
from allin.chat.streams import ChatStream, Follower
from allin.errors import (
    AllinError,
    BadRequest,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthorized,
    as_allin_error,
)
from allin.services import Services

logger = logging.getLogger(__name__)
router = APIRouter()

_VALID_ID = re.compile(ID_PATTERN)
# Browsers cannot set headers on a WebSocket, so a token comes as `?token=` or as the second of
# two subprotocols: `new WebSocket(url, ["bearer", token])`.
_BEARER_SUBPROTOCOL = "bearer"
# JSON escaping can make a frame up to six times longer than the text it carries.
_FRAME_OVERHEAD_FACTOR = 6
# "Try again later": the client read too slowly; it may reconnect and resume.
_CLOSE_TOO_SLOW = 1013


class SocketSink:
    """Sends frames to one socket in order, from a bounded queue: a client that does not read
    is closed (it may resume) instead of making the server hold its frames without limit."""

    def __init__(self, websocket: WebSocket, limit: int) -> None:
        self._websocket = websocket
        self._queue: asyncio.Queue[str] = asyncio.Queue(maxsize=limit)
        self._sender = asyncio.create_task(self._send_queued())
        self.open = True

    async def send(self, frame: ServerFrame) -> None:
        if not self.open:
            return
        try:
            self._queue.put_nowait(frame.model_dump_json())
        except asyncio.QueueFull:
            logger.warning("closing a socket that left %d frames unread", self._queue.qsize())
            self._stop()
            # Not awaited here: the chat's publisher must not wait on this client.
            asyncio.create_task(self._close(_CLOSE_TOO_SLOW))  # noqa: RUF006

    async def send_waiting(self, frame: ServerFrame) -> None:
        if self.open:
            await self._queue.put(frame.model_dump_json())

    async def _send_queued(self) -> None:
        try:
            while True:
                text = await self._queue.get()
                await self._websocket.send_text(text)
        except (WebSocketDisconnect, RuntimeError, OSError):
            self._stop()

    def _stop(self) -> None:
        """Send nothing more; frames still queued are dropped (the client resumes them), which
        also frees a catch-up waiting for room."""
        self.open = False
        self._sender.cancel()
        while not self._queue.empty():
            self._queue.get_nowait()

    async def _close(self, code: int) -> None:
        with contextlib.suppress(RuntimeError, OSError):
            await self._websocket.close(code)

    async def aclose(self) -> None:
        self._stop()
        with contextlib.suppress(asyncio.CancelledError):
            await self._sender


@router.websocket("/ws/{user_id}/{chat_id}")
async def chat_socket(websocket: WebSocket, user_id: str, chat_id: str) -> None:
    services: Services = websocket.app.state.services
    token, subprotocol = _token(websocket)
    await websocket.accept(subprotocol=subprotocol)
    try:
        if not (_VALID_ID.match(user_id) and _VALID_ID.match(chat_id)):
            raise BadRequest("user and chat ids must match " + ID_PATTERN)
        principal = await _authenticate(services, token)
        check_owner(principal, user_id)
    except AllinError as error:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            await websocket.send_text(ErrorOut.of(error).model_dump_json())
            # Close codes in the 4000 range mirror HTTP statuses (4400, 4401, 4403…).
            await websocket.close(4000 + error.status)
        return
    sink = SocketSink(websocket, services.settings.socket_queue_frames)
    follower = Follower(sink, held_limit=services.settings.socket_queue_frames)
    try:
        async with services.streams.following(user_id, chat_id, follower) as stream:
            await _converse(services, websocket, stream, follower, user_id, chat_id)
    finally:
        await sink.aclose()


async def _converse(
    services: Services,
    websocket: WebSocket,
    stream: ChatStream,
    follower: Follower,
    user_id: str,
    chat_id: str,
) -> None:
    """Read the client's frames until it leaves. Live frames wait for its first frame: `resume`
    says what it has seen; anything else means it wants only what comes next."""
    settings = services.settings
    frame_limit = settings.max_message_bytes * _FRAME_OVERHEAD_FACTOR + 1024
    limiter: RateLimiter = websocket.app.state.rate_limiter
    turns: set[asyncio.Task[None]] = set()
    try:
        while True:
            event = await websocket.receive()
            if event["type"] == "websocket.disconnect":
                break
            try:
                frame = _parse(event.get("text"), frame_limit)
                if isinstance(frame, ResumeIn):
                    if follower.started:
                        raise BadRequest("resume must be the first frame on a connection")
                    await stream.resume(follower, frame.last_seq)
                    continue
                await stream.start(follower)
                if isinstance(frame, MessageIn):
                    if not limiter.allow(user_id):
                        refusal = RateLimited(
                            f"more than {settings.rate_limit_per_minute} messages a minute;"
                            " wait a moment"
                        )
                        await follower.reply(ErrorOut.of(refusal, reply_to=frame.id))
                        continue
                    turn = asyncio.create_task(_answer(services, user_id, chat_id, frame, follower))
                    turns.add(turn)
                    turn.add_done_callback(turns.discard)
                elif isinstance(frame, CancelIn):
                    if not await services.interaction.cancel(user_id, chat_id):
                        raise NotFound("no answer is being written in this chat")
                else:
                    await follower.reply(Pong())
            except Exception as exc:
                if not isinstance(exc, AllinError):
                    logger.exception("frame on chat %s failed", chat_id)
                await follower.reply(ErrorOut.of(as_allin_error(exc)))
    except WebSocketDisconnect:
        pass
    finally:
        # Answers keep running (they are owned by `Runs`); only this socket's waiting stops.
        for turn in turns:
            turn.cancel()


def _parse(text: str | None, frame_limit: int) -> MessageIn | ResumeIn | CancelIn | object:
    if text is None:
        raise BadRequest("binary frames carry audio, not supported yet")
    if len(text) > frame_limit:
        raise TooLarge(f"frame is larger than {frame_limit} bytes")
    return parse_client_frame(text)


async def _answer(
    services: Services, user_id: str, chat_id: str, frame: MessageIn, follower: Follower
) -> None:
    try:
        await services.interaction.handle(user_id, chat_id, frame.id, frame.content, follower)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        error = as_allin_error(exc)
        if not isinstance(exc, AllinError):
            logger.exception("message %s in chat %s failed", frame.id, chat_id)
        await follower.reply(ErrorOut.of(error, reply_to=frame.id))


def _token(websocket: WebSocket) -> tuple[str | None, str | None]:
    """The access token, and the subprotocol to accept if it came as one."""
    offered = [p.strip() for p in websocket.headers.get("sec-websocket-protocol", "").split(",")]
    if len(offered) == 2 and offered[0] == _BEARER_SUBPROTOCOL:
        return offered[1], _BEARER_SUBPROTOCOL
    return websocket.query_params.get("token"), None


async def _authenticate(services: Services, token: str | None) -> Principal:
    if not token:
        raise Unauthorized("log in first: pass the access token as ?token= or a subprotocol")
    return await services.tokens.verify(token)

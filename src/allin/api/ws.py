"""`/ws/{user_id}/{chat_id}`: the real-time chat socket (DESIGN "Wire protocol")."""

from __future__ import annotations

import asyncio
import logging
import re

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from allin.api.deps import ID_PATTERN, check_owner
from allin.auth.principal import Principal
from allin.chat.frames import ErrorOut, MessageIn, Pong, ServerFrame, parse_client_frame
from allin.errors import AllinError, BadRequest, TooLarge, Unauthorized, as_allin_error
from allin.services import Services

logger = logging.getLogger(__name__)
router = APIRouter()

_VALID_ID = re.compile(ID_PATTERN)
# Browsers cannot set headers on a WebSocket, so a token comes as `?token=` or as the second of
# two subprotocols: `new WebSocket(url, ["bearer", token])`.
_BEARER_SUBPROTOCOL = "bearer"
# JSON escaping can make a frame up to six times longer than the text it carries.
_FRAME_OVERHEAD_FACTOR = 6


class SocketSink:
    """Sends frames to one socket, one at a time; after the client leaves, frames are dropped."""

    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket
        self._lock = asyncio.Lock()
        self.open = True

    async def send(self, frame: ServerFrame) -> None:
        if not self.open:
            return
        try:
            async with self._lock:
                await self._websocket.send_text(frame.model_dump_json())
        except (WebSocketDisconnect, RuntimeError, OSError):
            self.open = False


@router.websocket("/ws/{user_id}/{chat_id}")
async def chat_socket(websocket: WebSocket, user_id: str, chat_id: str) -> None:
    services: Services = websocket.app.state.services
    token, subprotocol = _token(websocket)
    await websocket.accept(subprotocol=subprotocol)
    sink = SocketSink(websocket)
    try:
        if not (_VALID_ID.match(user_id) and _VALID_ID.match(chat_id)):
            raise BadRequest("user and chat ids must match " + ID_PATTERN)
        principal = await _authenticate(services, token)
        check_owner(principal, user_id)
    except AllinError as error:
        await sink.send(ErrorOut.of(error))
        # Close codes in the 4000 range mirror HTTP statuses (4400, 4401, 4403…).
        await websocket.close(4000 + error.status)
        return
    frame_limit = services.settings.max_message_bytes * _FRAME_OVERHEAD_FACTOR + 1024
    turns: set[asyncio.Task[None]] = set()
    try:
        while True:
            event = await websocket.receive()
            if event["type"] == "websocket.disconnect":
                break
            text = event.get("text")
            if text is None:
                await sink.send(
                    ErrorOut.of(BadRequest("binary frames carry audio, not supported yet"))
                )
                continue
            try:
                if len(text) > frame_limit:
                    raise TooLarge(f"frame is larger than {frame_limit} bytes")
                frame = parse_client_frame(text)
            except AllinError as error:
                await sink.send(ErrorOut.of(error))
                continue
            if isinstance(frame, MessageIn):
                turn = asyncio.create_task(_answer(services, user_id, chat_id, frame, sink))
                turns.add(turn)
                turn.add_done_callback(turns.discard)
            else:
                await sink.send(Pong())
    except WebSocketDisconnect:
        pass
    finally:
        sink.open = False
        # Answers keep running (they are owned by `Runs`); only this socket's waiting stops.
        for turn in turns:
            turn.cancel()


async def _answer(
    services: Services, user_id: str, chat_id: str, frame: MessageIn, sink: SocketSink
) -> None:
    try:
        await services.interaction.handle(user_id, chat_id, frame.id, frame.content, sink)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        error = as_allin_error(exc)
        if not isinstance(exc, AllinError):
            logger.exception("message %s in chat %s failed", frame.id, chat_id)
        await sink.send(ErrorOut.of(error, reply_to=frame.id))


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

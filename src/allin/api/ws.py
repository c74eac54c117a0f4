"""`/ws/{user_id}/{chat_id}`: the real-time chat socket (DESIGN "Wire protocol")."""

from __future__ import annotations

import asyncio
import logging
import re

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from allin.api.deps import ID_PATTERN
from allin.chat.frames import ErrorOut, MessageIn, Pong, ServerFrame, parse_client_frame
from allin.errors import AllinError, BadRequest, TooLarge, as_allin_error
from allin.services import Services

logger = logging.getLogger(__name__)
router = APIRouter()

_VALID_ID = re.compile(ID_PATTERN)
# Close codes in the 4000 range mirror HTTP statuses.
_CLOSE_BAD_REQUEST = 4400
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
    await websocket.accept()
    sink = SocketSink(websocket)
    if not (_VALID_ID.match(user_id) and _VALID_ID.match(chat_id)):
        await sink.send(ErrorOut.of(BadRequest("user and chat ids must match " + ID_PATTERN)))
        await websocket.close(_CLOSE_BAD_REQUEST)
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

"""`/ws/{user_id}/{chat_id}`: the real-time chat socket (DESIGN "Wire protocol")."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from allin.api.deps import check_owner, checked_ids
from allin.auth.principal import Principal
from allin.chat.frames import (
    AudioEndIn,
    AudioStartIn,
    CancelIn,
    ErrorOut,
    MessageIn,
    PingIn,
    Pong,
    ResumeIn,
    ServerFrame,
    parse_client_frame,
    reply_failure,
)
from allin.chat.interaction import TurnRequest
from allin.chat.streams import ChatStream, Follower
from allin.errors import (
    AllinError,
    BadRequest,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthorized,
)
from allin.services import Services
from allin.voice.conversation import VoiceConversation

logger = logging.getLogger(__name__)
router = APIRouter()

# Browsers cannot set headers on a WebSocket, so a token comes as `?token=` or as the second of
# two subprotocols: `new WebSocket(url, ["bearer", token])`.
_BEARER_SUBPROTOCOL = "bearer"
# JSON escaping can make a frame up to six times longer than the text it carries.
_FRAME_OVERHEAD_FACTOR = 6
# "Try again later": the client read too slowly; it may reconnect and resume.
_CLOSE_TOO_SLOW = 1013


class SocketSink:
    """Sends frames (and binary audio frames) to one socket in order, from a bounded queue: a
    client that does not read is closed (it may resume) instead of making the server hold its
    frames without limit."""

    def __init__(self, websocket: WebSocket, limit: int) -> None:
        self._websocket = websocket
        self._queue: asyncio.Queue[str | bytes] = asyncio.Queue(maxsize=limit)
        self._sender = asyncio.create_task(self._send_queued())
        self.open = True

    async def send(self, frame: ServerFrame) -> None:
        self._put(frame.model_dump_json())

    async def send_audio(self, data: bytes) -> None:
        self._put(data)

    def _put(self, data: str | bytes) -> None:
        if not self.open:
            return
        try:
            self._queue.put_nowait(data)
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
                data = await self._queue.get()
                if isinstance(data, bytes):
                    await self._websocket.send_bytes(data)
                else:
                    await self._websocket.send_text(data)
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
        checked_ids(user_id, chat_id)
        principal = await _authenticate(services, token)
        check_owner(principal, user_id)
        # A cap on the user's open sockets, across processes (guard/sockets.py): 4429 past it.
        place = await services.sockets.take_place(user_id)
    except AllinError as error:
        await _refuse(websocket, error)
        return
    assert token is not None
    sink = SocketSink(websocket, services.settings.socket_queue_frames)
    follower = Follower(sink, held_limit=services.settings.socket_queue_frames)
    watch = asyncio.create_task(_watch_session(services, websocket, token))
    try:
        async with services.streams.following(user_id, chat_id, follower) as stream:
            talk = _Talk(services, user_id, chat_id, follower, sink)
            try:
                await _converse(services, websocket, stream, follower, talk)
            finally:
                await talk.aclose()
    finally:
        watch.cancel()
        await sink.aclose()
        await place.release()


class _Talk:
    """The socket's voice conversation, opened on its first recording."""

    def __init__(
        self, services: Services, user_id: str, chat_id: str, follower: Follower, sink: SocketSink
    ) -> None:
        self._services = services
        self.user_id = user_id
        self.chat_id = chat_id
        self._follower = follower
        self._sink = sink
        self._conversation: VoiceConversation | None = None

    def conversation(self) -> VoiceConversation:
        if self._conversation is None:
            voice = self._services.voice
            if voice is None:
                raise BadRequest("voice is turned off on this server (ALLIN_VOICE=off)")
            self._conversation = voice.open(self.user_id, self.chat_id, self._follower, self._sink)
        return self._conversation

    async def stop(self) -> bool:
        return self._conversation is not None and await self._conversation.stop()

    async def aclose(self) -> None:
        if self._conversation is not None:
            await self._conversation.aclose()


async def _converse(
    services: Services,
    websocket: WebSocket,
    stream: ChatStream,
    follower: Follower,
    talk: _Talk,
) -> None:
    """Read the client's frames until it leaves. Live frames wait for its first frame: `resume`
    says what it has seen; anything else means it wants only what comes next."""
    user_id, chat_id = talk.user_id, talk.chat_id
    settings = services.settings
    frame_limit = settings.max_message_bytes * _FRAME_OVERHEAD_FACTOR + 1024
    turns: set[asyncio.Task[None]] = set()
    try:
        while True:
            event = await websocket.receive()
            if event["type"] == "websocket.disconnect":
                break
            try:
                audio = event.get("bytes")
                if audio is not None:
                    await talk.conversation().audio(audio)
                    continue
                frame = _parse(event.get("text"), frame_limit)
                if isinstance(frame, ResumeIn):
                    if follower.started:
                        raise BadRequest("resume must be the first frame on a connection")
                    await stream.resume(follower, frame.last_seq)
                    continue
                await stream.start(follower)
                if isinstance(frame, PingIn | CancelIn):
                    # Per user, across processes (guard/rates.py): an `error` frame past it.
                    await services.rates.control_frame(user_id, frame.type)
                # Per user, across processes (guard/rates.py), shared with MCP calls.
                if (
                    isinstance(frame, MessageIn | AudioStartIn)
                    and (wait := await services.rates.message_wait(user_id)) is not None
                ):
                    refusal = RateLimited(
                        f"more than {settings.rate_limit_per_minute} messages a minute;"
                        " wait a moment",
                        wait,
                    )
                    reply_to = frame.id if isinstance(frame, MessageIn) else None
                    await follower.reply(ErrorOut.of(refusal, reply_to=reply_to))
                    continue
                if isinstance(frame, MessageIn):
                    turn = asyncio.create_task(_answer(services, user_id, chat_id, frame, follower))
                    turns.add(turn)
                    turn.add_done_callback(turns.discard)
                elif isinstance(frame, AudioStartIn):
                    await talk.conversation().begin(frame)
                elif isinstance(frame, AudioEndIn):
                    await talk.conversation().end()
                elif isinstance(frame, CancelIn):
                    spoken = await talk.stop()
                    written = await services.runs.cancel_chat(user_id, chat_id)
                    if not (spoken or written):
                        raise NotFound("no answer is being written or spoken in this chat")
                else:
                    await follower.reply(Pong())
            except Exception as exc:
                await reply_failure(follower, exc, logger, "frame on chat %s failed", chat_id)
    except WebSocketDisconnect:
        pass
    finally:
        # Answers keep running (they are owned by `Runs`); only this socket's waiting stops.
        for turn in turns:
            turn.cancel()


def _parse(text: str | None, frame_limit: int) -> object:
    if text is None:
        raise BadRequest("a frame is text (JSON) or binary (audio)")
    if len(text) > frame_limit:
        raise TooLarge(f"frame is larger than {frame_limit} bytes")
    return parse_client_frame(text)


async def _answer(
    services: Services, user_id: str, chat_id: str, frame: MessageIn, follower: Follower
) -> None:
    try:
        await services.interaction.handle(
            TurnRequest(user_id, chat_id, frame.id, frame.content), follower
        )
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        await reply_failure(
            follower,
            exc,
            logger,
            "message %s in chat %s failed",
            frame.id,
            chat_id,
            reply_to=frame.id,
        )


async def _refuse(websocket: WebSocket, error: AllinError) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        await websocket.send_text(ErrorOut.of(error).model_dump_json())
        # Close codes in the 4000 range mirror HTTP statuses (4400, 4401, 4403…).
        await websocket.close(4000 + error.status)


async def _watch_session(services: Services, websocket: WebSocket, token: str) -> None:
    """Close the socket (4401) once its token stops being valid: logged out, or expired. A
    socket is authenticated once, at its start, and may stay open for days otherwise."""
    while True:
        await asyncio.sleep(services.settings.socket_reauth_s)
        try:
            await services.tokens.verify(token)
        except Unauthorized as error:
            await _refuse(websocket, error)
            return
        except Exception as exc:
            # The database (or the key server) is away: the session may well be fine.
            logger.warning("could not check a socket's token again: %s", exc)


def _token(websocket: WebSocket) -> tuple[str | None, str | None]:
    """The access token, and the subprotocol to accept if it came as one."""
    offered = [p.strip() for p in websocket.headers.get("sec-websocket-protocol", "").split(",")]
    if len(offered) == 2 and offered[0] == _BEARER_SUBPROTOCOL:
        return offered[1], _BEARER_SUBPROTOCOL
    return websocket.query_params.get("token"), None


async def _authenticate(services: Services, token: str | None) -> Principal:
    if not token:
        raise Unauthorized("log in first: pass the access token as ?token= or a subprotocol")
    principal = await services.tokens.verify(token)
    principal.require("ask")
    return principal

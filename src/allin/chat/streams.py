"""Each chat's stream of frames: numbered, fanned out to every socket on the chat, and replayable.

A frame is published once, for the whole chat: `FrameLog.publish` gives it the chat's next `seq`
(ordered across processes by the chat row), and it reaches every `Follower` of the chat — several
tabs see the same answer. Without relaying, this process delivers it directly; with relaying
(`ALLIN_RELAY`, several workers) every process, this one included, delivers what Postgres
notifies, so all of them see one order.

A client that reconnects resumes after the last seq it saw: from this process's buffer of recent
frames when it reaches back that far, otherwise from the database — the turns announced since,
plus the text so far of answers still being written.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol, runtime_checkable

from allin.chat.frames import Ack, Done, ErrorOut, MemoryUpdated, ServerFrame, Token
from allin.storage.chat_records import TurnMark
from allin.storage.chat_store import ChatStore
from allin.storage.frame_log import FrameLog

logger = logging.getLogger(__name__)

# A notification carries at most 8000 bytes; longer token text is read back from `chat_runs`.
_RELAY_TEXT_LIMIT = 2000
_RELAY_MESSAGE_LIMIT = 500

ChatKey = tuple[str, str]


class FrameSink(Protocol):
    """Where frames go. Sending never raises: a sink whose client left drops frames, and the turn
    carries on to be stored."""

    async def send(self, frame: ServerFrame) -> None: ...


@runtime_checkable
class CatchUpSink(FrameSink, Protocol):
    async def send_waiting(self, frame: ServerFrame) -> None:
        """Send a frame of a catch-up, waiting for room rather than counting the client slow:
        the frames a client missed arrive at once, but only its own socket waits for them."""
        ...


class Follower:
    """One client's view of a chat stream: every frame once, in seq order.

    Live frames are held until the client says where it is (`start`), so the frames it missed and
    the live ones join without a gap or a repeat.
    """

    def __init__(self, sink: FrameSink, *, held_limit: int = 4096) -> None:
        self._sink = sink
        self._held: deque[ServerFrame] | None = deque()
        self._held_limit = held_limit
        self._through = 0
        # Set when more frames came than could be held: they are dropped, and the follower
        # catches up from this seq when it starts.
        self.dropped_after: int | None = None

    @property
    def started(self) -> bool:
        return self._held is None

    async def send(self, frame: ServerFrame) -> None:
        """A live frame of the chat."""
        if self._held is not None:
            if self.dropped_after is not None:
                return
            if len(self._held) >= self._held_limit:
                first = self._held[0].seq or 0
                self.dropped_after = first - 1
                self._held.clear()
                return
            self._held.append(frame)
            return
        await self._forward(frame)

    async def reply(self, frame: ServerFrame) -> None:
        """A frame for this client only (a refusal, a stored turn sent again); never replayed."""
        await self._sink.send(frame)

    async def start(self, missed: Sequence[ServerFrame] = (), covered_through: int = 0) -> None:
        """Send `missed` (what the client had not seen, through seq `covered_through`), then the
        held live frames it does not cover, then follow live."""
        if self._held is None:
            return
        self.dropped_after = None
        for frame in missed:
            await self._forward(frame, catching_up=True)
        self._through = max(self._through, covered_through)
        # Frames arriving while these are sent join the queue, so order is kept.
        while self._held:
            await self._forward(self._held.popleft(), catching_up=True)
        self._held = None

    async def _forward(self, frame: ServerFrame, *, catching_up: bool = False) -> None:
        if frame.seq is not None:
            if frame.seq <= self._through:
                return
            self._through = frame.seq
        if catching_up and isinstance(self._sink, CatchUpSink):
            await self._sink.send_waiting(frame)
        else:
            await self._sink.send(frame)


class ChatStream:
    def __init__(
        self, key: ChatKey, log: FrameLog, chats: ChatStore, *, relay: bool, buffer_frames: int
    ) -> None:
        self.key = key
        self._log = log
        self._chats = chats
        self._relay = relay
        self._followers: set[Follower] = set()
        self._buffer: deque[ServerFrame] = deque(maxlen=buffer_frames)
        # Every frame after seq `_floor` is in the buffer; None until the first one arrives.
        self._floor: int | None = None
        self._publishing = asyncio.Lock()
        self.users = 0

    async def publish(
        self,
        frame: ServerFrame,
        *,
        turn_id: int | None = None,
        run: int | None = None,
        failed_turn: int | None = None,
    ) -> int | None:
        """Send `frame` to every follower of the chat under the chat's next seq, and return the
        seq (None if the chat is gone; the frame is dropped). `turn_id` is the turn it announces;
        `run` the question whose answer a token extends (its text is kept); `failed_turn` the
        question an error frame says could not be answered (it is kept on the question, so a
        client that resumes later learns it too); a `memory_updated` frame is kept on its answer
        likewise."""
        text = frame.text if isinstance(frame, Token) else ""
        relay = _relay_payload(frame) if self._relay else None
        mark = None
        if failed_turn is not None and isinstance(frame, ErrorOut):
            mark = TurnMark(failed_turn, "failed", {"code": frame.code, "message": frame.message})
        elif isinstance(frame, MemoryUpdated):
            mark = TurnMark(frame.turn_id, "memory_updated", {"memories": frame.memories})
        async with self._publishing:
            if mark is not None:
                seq = await self._chats.mark_turn(mark, relay)
            else:
                seq = await self._log.publish(
                    *self.key, turn_id=turn_id, run=run, text=text, relay=relay
                )
            if seq is None:
                logger.info("chat %s/%s is gone; frame dropped", *self.key)
                return None
            if not self._relay:
                await self.deliver(numbered(frame, seq))
        return seq

    async def tell(self, frame: ServerFrame) -> None:
        """A passing notice (`busy`) to this process's followers: not numbered, kept or relayed."""
        for follower in list(self._followers):
            await follower.send(frame)

    async def deliver(self, frame: ServerFrame) -> None:
        assert frame.seq is not None
        if self._floor is None:
            self._floor = frame.seq - 1
        if len(self._buffer) == self._buffer.maxlen:
            evicted = self._buffer[0].seq
            assert evicted is not None
            self._floor = evicted
        self._buffer.append(frame)
        for follower in list(self._followers):
            await follower.send(frame)

    def follow(self, follower: Follower) -> None:
        self._followers.add(follower)

    def unfollow(self, follower: Follower) -> None:
        self._followers.discard(follower)

    async def start(self, follower: Follower) -> None:
        """Start a follower that asked for nothing in particular: live frames from when it
        connected (caught up from the tables if it let too many pile up meanwhile)."""
        if follower.started:
            return
        if follower.dropped_after is not None:
            await self.resume(follower, follower.dropped_after)
        else:
            await follower.start()

    async def resume(self, follower: Follower, last_seq: int) -> None:
        """Start `follower` after `last_seq`: the frames it missed, then live ones."""
        if self._floor is not None and last_seq >= self._floor:
            missed = [frame for frame in self._buffer if (frame.seq or 0) > last_seq]
            covered = self._buffer[-1].seq if self._buffer else last_seq
            await follower.start(missed, covered or last_seq)
            return
        missed, covered = await self._from_database(last_seq)
        await follower.start(missed, covered)

    async def _from_database(self, last_seq: int) -> tuple[list[ServerFrame], int]:
        snapshot = await self._log.snapshot_after(*self.key, last_seq)
        frames: list[ServerFrame] = []
        for turn in snapshot.turns:
            if turn.role == "assistant":
                if (turn.seq or 0) > last_seq:
                    frames.append(Done.of(turn))
                learned = turn.metadata.get("memory_updated")
                if learned is not None and learned["seq"] > last_seq:
                    frames.append(MemoryUpdated.of(turn))
                continue
            if (turn.seq or 0) > last_seq:
                frames.append(Ack(turn=turn, seq=turn.seq))
            failed = turn.metadata.get("failed")
            if failed is not None and failed["seq"] > last_seq:
                frames.append(
                    ErrorOut(
                        code=failed["code"],
                        message=failed["message"],
                        reply_to=turn.client_msg_id,
                        seq=failed["seq"],
                    )
                )
        answered = {turn.reply_to for turn in snapshot.turns if turn.role == "assistant"}
        for run in snapshot.runs:
            missed_text = run.partial_seq is not None and run.partial_seq > last_seq
            if missed_text and run.question_id not in answered:
                frames.append(
                    Token(
                        turn_id=run.answer_id,
                        reply_to=run.question_id,
                        text=run.partial,
                        offset=0,
                        seq=run.partial_seq,
                    )
                )
        frames.sort(key=lambda frame: frame.seq or 0)
        return frames, max(snapshot.last_seq, last_seq)


class Streams:
    """The chat streams this process has open: a chat's is kept while a socket follows it or an
    answer is being written to it."""

    def __init__(self, log: FrameLog, chats: ChatStore, *, relay: bool, buffer_frames: int) -> None:
        self.log = log
        self._chats = chats
        self.relay = relay
        self._buffer_frames = buffer_frames
        self._streams: dict[ChatKey, ChatStream] = {}
        # Relayed frames waiting to be delivered, per chat, each chat's drained by a task.
        self._lanes: dict[ChatKey, deque[dict[str, Any]]] = {}
        self._draining: set[asyncio.Task[None]] = set()

    @asynccontextmanager
    async def using(self, user_id: str, chat_id: str) -> AsyncIterator[ChatStream]:
        key = (user_id, chat_id)
        stream = self._streams.get(key)
        if stream is None:
            stream = ChatStream(
                key, self.log, self._chats, relay=self.relay, buffer_frames=self._buffer_frames
            )
            self._streams[key] = stream
        stream.users += 1
        try:
            yield stream
        finally:
            stream.users -= 1
            if stream.users == 0:
                del self._streams[key]

    @asynccontextmanager
    async def following(
        self, user_id: str, chat_id: str, follower: Follower
    ) -> AsyncIterator[ChatStream]:
        async with self.using(user_id, chat_id) as stream:
            stream.follow(follower)
            try:
                yield stream
            finally:
                stream.unfollow(follower)

    def open_stream(self, user_id: str, chat_id: str) -> ChatStream | None:
        return self._streams.get((user_id, chat_id))

    def deliver_relayed(self, payload: dict[str, Any]) -> None:
        """A frame another process (or this one) published, as `allin_publish` notified it.

        Delivered in the order notified within its chat, but chats do not wait for each other:
        an ack read back from the table, or a follower slow to take a frame, holds up only its own
        chat, not every chat of this process."""
        key: ChatKey = (payload["user_id"], payload["chat_id"])
        if key not in self._streams:
            return
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = deque()
            task = asyncio.create_task(self._drain(key, lane), name="relay-lane")
            self._draining.add(task)
            task.add_done_callback(self._draining.discard)
        lane.append(payload)

    async def aclose(self) -> None:
        """Stop delivering relayed frames (the relay has stopped listening)."""
        draining = list(self._draining)
        for task in draining:
            task.cancel()
        await asyncio.gather(*draining, return_exceptions=True)

    async def _drain(self, key: ChatKey, lane: deque[dict[str, Any]]) -> None:
        try:
            while lane:
                payload = lane[0]
                stream = self._streams.get(key)
                try:
                    frame = None if stream is None else await self._frame_from(payload)
                    if stream is not None and frame is not None:
                        await stream.deliver(numbered(frame, int(payload["seq"])))
                except Exception:
                    # One bad notification must not stop the chat's stream.
                    logger.exception("could not deliver relayed frame %.200s", payload)
                lane.popleft()
        finally:
            del self._lanes[key]

    async def _frame_from(self, payload: dict[str, Any]) -> ServerFrame | None:
        kind = payload["type"]
        if kind in ("ack", "done", "memory_updated"):
            turn = await self.log.turn(int(payload["turn_id"]))
            if turn is None:
                return None
            if kind == "memory_updated":
                return MemoryUpdated.of(turn)
            return Ack(turn=turn) if kind == "ack" else Done.of(turn)
        if kind == "token":
            text = payload.get("text")
            if text is None:
                text = await self.log.answer_text(
                    int(payload["reply_to"]),
                    int(payload["turn_id"]),
                    payload["offset"],
                    payload["len"],
                )
            return Token(
                turn_id=payload["turn_id"],
                reply_to=payload["reply_to"],
                text=text,
                offset=payload["offset"],
            )
        if kind == "error":
            return ErrorOut(
                code=payload["code"], message=payload["message"], reply_to=payload.get("reply_to")
            )
        logger.warning("unknown relayed frame %r", kind)
        return None


def numbered(frame: ServerFrame, seq: int) -> ServerFrame:
    """A copy of `frame` as sent under `seq` (with the turn it announces, if any)."""
    if isinstance(frame, Ack | Done):
        return frame.model_copy(
            update={"seq": seq, "turn": frame.turn.model_copy(update={"seq": seq})}
        )
    return frame.model_copy(update={"seq": seq})


def _relay_payload(frame: ServerFrame) -> dict[str, Any]:
    """The frame in a notification's few bytes: turns by id, long token text read back."""
    if isinstance(frame, Ack | Done):
        return {"type": frame.type, "turn_id": frame.turn.id}
    if isinstance(frame, MemoryUpdated):
        # The memories are read back from the answer, where they are kept.
        return {"type": frame.type, "turn_id": frame.turn_id}
    if isinstance(frame, Token):
        payload: dict[str, Any] = {
            "type": "token",
            "turn_id": frame.turn_id,
            "reply_to": frame.reply_to,
            "offset": frame.offset,
            "len": len(frame.text),
        }
        if len(frame.text) <= _RELAY_TEXT_LIMIT:
            payload["text"] = frame.text
        return payload
    if isinstance(frame, ErrorOut):
        return {
            "type": "error",
            "code": frame.code,
            "message": frame.message[:_RELAY_MESSAGE_LIMIT],
            "reply_to": frame.reply_to,
        }
    raise TypeError(f"{frame.type} frames are not published")

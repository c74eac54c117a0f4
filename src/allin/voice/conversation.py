"""What the chat socket asks of a voice engine, whichever it is (offline speech models, Live)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from allin.chat.frames import AudioStartIn, Done, ErrorOut, ServerFrame, Token, reply_failure
from allin.chat.interaction import InteractionManager, TurnRequest
from allin.chat.runs import Runs
from allin.chat.streams import Follower, FrameSink, Streams
from allin.config import Settings
from allin.llm.base import ChatModel
from allin.storage.chat_records import Turn
from allin.storage.chat_store import ChatStore
from allin.voice.archive import VoiceArchive

logger = logging.getLogger(__name__)

# About a quarter of a second of answer audio per binary frame.
AUDIO_FRAME_SECONDS = 0.25


@dataclass(frozen=True, slots=True)
class VoiceApp:
    """The parts of the app every voice engine answers through, built once (`Services`)."""

    settings: Settings
    archive: VoiceArchive
    chats: ChatStore
    interaction: InteractionManager
    streams: Streams
    runs: Runs


class AudioSink(FrameSink, Protocol):
    """A socket: frames, and binary audio frames, in one order."""

    async def send_audio(self, data: bytes) -> None: ...


class VoiceConversation(Protocol):
    """One socket's voice: recordings in, spoken answers out. Errors are `AllinError`s, which the
    socket turns into `error` frames; a failure after `end` is sent as one by the engine."""

    async def begin(self, start: AudioStartIn) -> None:
        """A recording starts; an answer still being spoken stops (barge-in)."""
        ...

    async def audio(self, chunk: bytes) -> None: ...

    async def end(self) -> None:
        """The recording is complete: it is answered in the background."""
        ...

    async def stop(self) -> bool:
        """Stop the answer being spoken (`cancel`); whether one was."""
        ...

    async def aclose(self) -> None:
        """The socket is gone: a recording in progress is dropped, a turn already asked is still
        answered and stored."""
        ...


class VoiceEngine(Protocol):
    @property
    def name(self) -> str: ...

    def open(
        self, user_id: str, chat_id: str, follower: Follower, sink: AudioSink
    ) -> VoiceConversation: ...

    async def warm_up(self) -> None: ...

    async def aclose(self) -> None: ...


def audio_frames(pcm: bytes, sample_rate: int) -> list[bytes]:
    size = int(sample_rate * AUDIO_FRAME_SECONDS) * 2
    return [pcm[start : start + size] for start in range(0, len(pcm), size)]


class AnswerTap:
    """Follows a chat for one question: its answer's tokens as they stream, then its `done` (or
    the `error` that ended it). Being a follower of the chat rather than a hook in the turn
    pipeline, it sees the answer wherever it is written (another worker, through the relay)."""

    def __init__(self, question: Turn) -> None:
        self._question = question
        self._frames: asyncio.Queue[Token | Done | ErrorOut] = asyncio.Queue()

    async def send(self, frame: ServerFrame) -> None:
        if (
            (isinstance(frame, Token) and frame.reply_to == self._question.id)
            or (isinstance(frame, Done) and frame.turn.reply_to == self._question.id)
            or (isinstance(frame, ErrorOut) and frame.reply_to == self._question.client_msg_id)
        ):
            self._frames.put_nowait(frame)

    async def frames(self) -> AsyncIterator[Token | Done | ErrorOut]:
        """Until the answer's `done` or `error`."""
        while True:
            frame = await self._frames.get()
            yield frame
            if not isinstance(frame, Token):
                return


async def spoken_turn(
    app: VoiceApp,
    user_id: str,
    chat_id: str,
    follower: Follower,
    *,
    ask: Callable[[], Awaitable[Turn | None]],
    speak: Callable[[AnswerTap], Coroutine[Any, Any, None]],
    on_speaking: Callable[[asyncio.Task[None]], object] = lambda task: None,
    model: ChatModel | None = None,
    with_context: bool = True,
) -> Turn | None:
    """One spoken turn, whichever engine hears and speaks it; run detached from the socket, like a
    text turn, so a client that leaves still gets it stored:

    1. `ask()`: the question heard, stored with its recording (None: nothing to answer, and the
       client was told why)
    2. the question is answered through the turn pipeline (the `ack`, `token` and `done` frames
       every tab sees), `model` being the engine's own when it writes the answer itself
    3. meanwhile `speak()` says the answer to this socket as its frames arrive (`on_speaking`
       gets its task, so that a barge-in can stop it)

    Returns the question once its turn is over, or None if it was never asked or the app is
    stopping."""
    try:
        question = await ask()
    except Exception as exc:
        await reply_failure(follower, exc, logger, "spoken turn in chat %s failed", chat_id)
        return None
    if question is None:
        return None
    tap = AnswerTap(question)
    listener = Follower(tap)
    async with app.streams.following(user_id, chat_id, listener):
        await listener.start()
        speaking = asyncio.create_task(speak(tap))
        on_speaking(speaking)
        try:
            request = TurnRequest(
                user_id,
                chat_id,
                question.client_msg_id or "",
                question.content,
                model=model,
                with_context=with_context,
            )
            await app.interaction.handle(request, follower)
            # Frames may still be on their way (relayed between workers).
            await asyncio.wait_for(asyncio.shield(speaking), app.settings.llm_stall_timeout_s)
        except TimeoutError:
            speaking.cancel()
        except asyncio.CancelledError:
            # The app is stopping (the answer itself is stored by the pipeline).
            speaking.cancel()
            return None
        except Exception as exc:
            speaking.cancel()
            await reply_failure(follower, exc, logger, "spoken answer in chat %s failed", chat_id)
    return question

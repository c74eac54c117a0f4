"""The answer assembly of the Live bridge (`voice/live.py`): what Live heard and said for one
question becomes a stored question, an answer written through the turn pipeline, and its audio
played to the socket and stored (steps 2–4 of the bridge's docstring)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from allin.chat.frames import AudioEndOut, AudioStartOut, Done, ErrorOut, Transcript
from allin.chat.streams import Follower
from allin.llm.base import ContextBlock, Prompt
from allin.storage.chat_records import Turn
from allin.voice.conversation import AnswerTap, AudioSink, VoiceApp, audio_frames, spoken_turn
from allin.voice.live_config import OUTPUT_RATE, context_text
from allin.voice.recording import ACCEPTED_RATE

logger = logging.getLogger(__name__)


@dataclass
class Utterance:
    """What the user has said since the last question was taken: sent upstream as it comes, and
    sent again to a new session if the connection drops before Live answers."""

    pcm: bytearray = field(default_factory=bytearray)
    text: str = ""
    ended: bool = False
    # How much of `pcm` the current session has.
    sent: int = 0


class Answer:
    """One model turn of Live, from its first output to `turn_complete`: its text for the turn
    pipeline and its audio for the socket, each through a queue (None ends them)."""

    def __init__(self, utterance: Utterance | None) -> None:
        # None: an answer to nothing this conversation keeps (a recording that was refused), to
        # be received and dropped.
        self.utterance = utterance
        self.question = utterance.text if utterance else ""
        self.text: asyncio.Queue[str | Exception | None] = asyncio.Queue()
        self.audio: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.sample_rate = OUTPUT_RATE
        self.turn: asyncio.Task[None] | None = None
        self.stopped = utterance is None
        self.over = False

    def add_text(self, text: str) -> None:
        if not self.over:
            self.text.put_nowait(text)

    def add_audio(self, pcm: bytes, sample_rate: int) -> None:
        if not self.over:
            self.sample_rate = sample_rate
            self.audio.put_nowait(pcm)

    def end(self, failure: Exception | None = None, *, stopped: bool = False) -> None:
        if self.over:
            return
        self.over = True
        self.stopped = self.stopped or stopped
        self.text.put_nowait(failure)
        self.audio.put_nowait(None)


class LiveAnswerModel:
    """A `ChatModel` for one turn: the pipeline's prompt is not needed (the Live session has the
    conversation); the answer is what Live says, as its output transcription streams."""

    def __init__(self, name: str, answer: Answer) -> None:
        self._name = name
        self._answer = answer

    @property
    def name(self) -> str:
        return self._name

    async def stream(self, prompt: Prompt) -> AsyncIterator[str]:
        while True:
            item = await self._answer.text.get()
            if item is None:
                return
            if isinstance(item, Exception):
                raise item
            yield item

    async def aclose(self) -> None:
        return None


class LiveTurns:
    """The spoken turns of one conversation. `asked` runs once a question is stored (the session's
    handle can be kept for its chat from then on); `tell` gives the session text for the turns
    that follow."""

    def __init__(
        self,
        app: VoiceApp,
        user_id: str,
        chat_id: str,
        follower: Follower,
        sink: AudioSink,
        *,
        engine: str,
        asked: Callable[[], Awaitable[None]],
        tell: Callable[[str], Awaitable[None]],
    ) -> None:
        self._app = app
        self._user_id = user_id
        self._chat_id = chat_id
        self._follower = follower
        self._sink = sink
        self._engine = engine
        self._asked = asked
        self._tell = tell

    def start(self, answer: Answer) -> asyncio.Task[None]:
        """Answer in the background, detached from the socket (like a text turn)."""
        return self._app.runs.detach(self._turn(answer), name=f"live-turn-{self._chat_id}")

    async def _turn(self, answer: Answer) -> None:
        context: asyncio.Task[tuple[ContextBlock, ...]] | None = None

        async def ask() -> Turn:
            nonlocal context
            try:
                question = await self._ask(answer)
            except Exception:
                answer.stopped = True
                raise
            await self._asked()
            context = asyncio.create_task(self._app.interaction.context_for(question))
            return question

        question = await spoken_turn(
            self._app,
            self._user_id,
            self._chat_id,
            self._follower,
            ask=ask,
            speak=lambda tap: self._speak(answer, tap),
            model=LiveAnswerModel(f"gemini:{self._engine}", answer),
            with_context=False,
        )
        if context is None:
            return
        if question is None:
            context.cancel()
            return
        await self._tell_context(question, context)

    async def _ask(self, answer: Answer) -> Turn:
        """The question Live heard, stored with its recording (as offline does)."""
        text = answer.question.strip()
        await self._sink.send(Transcript(text=text, final=True))
        pcm = bytes(answer.utterance.pcm) if answer.utterance else b""
        self._app.interaction.check_message(text)
        return await self._app.archive.ask(
            self._user_id, self._chat_id, text, pcm, ACCEPTED_RATE, self._engine
        )

    async def _speak(self, answer: Answer, tap: AnswerTap) -> None:
        """Live's audio for this answer to the socket, once the answer has an id (its first
        token), then stored with the answer when the turn is complete."""
        frames = tap.frames()
        first = await anext(frames)
        if isinstance(first, ErrorOut):
            return
        done = first.turn if isinstance(first, Done) else None
        answer_id = first.turn.id if isinstance(first, Done) else first.turn_id
        spoken = await self._play(answer, answer_id)
        while done is None:
            frame = await anext(frames)
            if isinstance(frame, ErrorOut):
                return
            if isinstance(frame, Done):
                done = frame.turn
        if spoken and "status" not in done.metadata:
            await asyncio.shield(self._keep_answer(done, spoken, answer.sample_rate))

    async def _play(self, answer: Answer, answer_id: int) -> bytes:
        """Forward the answer's audio as it comes; what was played, or b"" if it was stopped."""
        spoken = bytearray()
        started = False
        try:
            while (chunk := await answer.audio.get()) is not None and not answer.stopped:
                if not started:
                    started = True
                    await self._sink.send(
                        AudioStartOut(sample_rate=answer.sample_rate, turn_id=answer_id)
                    )
                for piece in audio_frames(chunk, answer.sample_rate):
                    await self._sink.send_audio(piece)
                spoken += chunk
        except asyncio.CancelledError:
            answer.stopped = True
            raise
        finally:
            if started:
                await self._sink.send(AudioEndOut(turn_id=answer_id, stopped=answer.stopped))
        return b"" if answer.stopped else bytes(spoken)

    async def _keep_answer(self, answer: Turn, pcm: bytes, sample_rate: int) -> None:
        try:
            await self._app.archive.keep(answer, pcm, sample_rate, self._engine)
        except Exception:
            logger.exception("could not store the spoken answer %s", answer.id)

    async def _tell_context(
        self, question: Turn, context: Awaitable[tuple[ContextBlock, ...]]
    ) -> None:
        """Give the session what the context sources found for `question`, for the turns that
        follow (see the bridge's docstring)."""
        try:
            blocks = await context
        except Exception:
            logger.exception("context for turn %s failed", question.id)
            return
        text = context_text(question.content, blocks)
        if text:
            await self._tell(text)

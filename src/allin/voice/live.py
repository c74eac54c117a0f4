"""Voice through the Gemini Live API (`ALLIN_VOICE=live`), bridged with the official SDK.

One upstream Live session per socket conversation, opened on its first recording (resuming the
chat's stored session-resumption handle, if one is still valid) and closed when the socket is
gone and what was asked is answered. The client's pcm16 audio (checked by `Microphone`, as
offline) is forwarded as it comes, and Live answers in its own voice, which is forwarded too. A
spoken turn:

1. while the user speaks: Live's input transcription → interim `transcript` frames
2. when Live starts answering, what it heard is the question: the final `transcript`; the
   recording, the question (`chat_turns`) and their link (`voice_turns`) are stored as offline
3. the answer goes through the normal turn pipeline with a per-turn model that streams Live's
   output transcription (`ack`, `token` and `done` frames, storage, resumption, memory learning)
4. meanwhile Live's audio (24 kHz) goes to this socket (`audio_start`, binary frames,
   `audio_end`) and is stored with the answer once the turn is complete

The session stays useful across reconnections (`live_link.py`): the newest resumption handle is
kept, and a dropped connection resends the unanswered recording; only a reconnection that fails
is reported (`unavailable`).

Context, and its limitation: Live answers aloud the moment the user stops speaking, before a
lookup based on the transcript could finish, so the memories and passages for a question cannot
reach the answer to that same question. They are given one step late instead: the system
instruction at connection carries the context for the chat's latest question, and after each
turn the context found for its question is added to the session (`send_client_content` with
`turn_complete=False`) for the turns that follow. The answer's `done` frame therefore has no
citations. A fresh session (no valid handle) is also given the chat's recent turns, so a
conversation typed before is not forgotten; text turns typed while the session is open are not
sent to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from google import genai
from google.genai import types
from google.genai.live import AsyncSession

from allin.chat.frames import AudioStartIn, ErrorOut, Transcript
from allin.chat.streams import Follower
from allin.errors import AllinError, BadRequest, Unavailable
from allin.llm.base import ContextBlock, ModelUnavailable
from allin.storage.chat_records import Turn
from allin.voice.conversation import AudioSink, VoiceApp
from allin.voice.live_answer import Answer, LiveTurns, Utterance
from allin.voice.live_config import FAILURES, INPUT_MIME, audio_parts, describe, live_client
from allin.voice.live_link import LiveLink
from allin.voice.recording import Microphone

logger = logging.getLogger(__name__)

# Audio is replayed to a new session in pieces of at most this many bytes (2 s at 16 kHz).
_REPLAY_PIECE = 64 * 1024


class LiveVoice:
    def __init__(self, app: VoiceApp, client: genai.Client | None = None) -> None:
        self.app = app
        self.client = client or live_client(app.settings)
        self.model = app.settings.gemini_live_model
        self._open: set[LiveConversation] = set()

    @property
    def name(self) -> str:
        return f"live ({self.model})"

    def open(
        self, user_id: str, chat_id: str, follower: Follower, sink: AudioSink
    ) -> LiveConversation:
        conversation = LiveConversation(
            self.app,
            self.client,
            self.model,
            user_id,
            chat_id,
            follower,
            sink,
            forget=self._open.discard,
        )
        self._open.add(conversation)
        return conversation

    async def warm_up(self) -> None:
        """Nothing to load: the model runs at Google."""
        return None

    async def aclose(self) -> None:
        for conversation in list(self._open):
            await conversation.shut()
        await self.client.aio.aclose()


class LiveConversation:
    """One socket's side of the bridge: its recordings go up the link as Live hears them, and
    what Live says comes back as spoken turns (`LiveTurns`)."""

    def __init__(
        self,
        app: VoiceApp,
        client: genai.Client,
        model: str,
        user_id: str,
        chat_id: str,
        follower: Follower,
        sink: AudioSink,
        *,
        forget: Callable[[LiveConversation], None],
    ) -> None:
        self._settings = app.settings
        self._interaction = app.interaction
        self._runs = app.runs
        self._chats = app.chats
        self._user_id = user_id
        self._chat_id = chat_id
        self._follower = follower
        self._sink = sink
        self._forget = forget
        self._link = LiveLink(
            client, model, app.settings, app.archive.store, user_id, chat_id, owner=self
        )
        # `voice_turns` records the model as having heard and spoken the turns.
        self._turns = LiveTurns(
            app,
            user_id,
            chat_id,
            follower,
            sink,
            engine=model,
            asked=self._link.keep_handle,
            tell=self._tell,
        )
        self._microphone = Microphone(app.settings.voice_max_seconds)
        self._utterance: Utterance | None = None
        self._answer: Answer | None = None
        self._no_answer: asyncio.Task[None] | None = None
        # The socket is gone: end the session once the question asked is answered.
        self._closing = False

    # The socket's side (VoiceConversation).

    async def begin(self, start: AudioStartIn) -> None:
        self._microphone.start(start)
        await self.stop()
        if self._utterance is None:
            self._utterance = Utterance()
        # Speaking again before Live answered: it is all one question.
        self._utterance.ended = False
        self._cancel_no_answer()
        self._link.connect()

    async def audio(self, chunk: bytes) -> None:
        try:
            recording = self._microphone.add(chunk)
        except AllinError:
            await self._drop_utterance()
            raise
        if recording is None:
            return
        utterance = self._utterance
        if utterance is not None:
            utterance.pcm += chunk
            await self._flush(utterance)

    async def end(self) -> None:
        try:
            finished = self._microphone.finish()
        except AllinError:
            await self._drop_utterance()
            raise
        if finished is None:
            return
        utterance = self._utterance
        if utterance is None:
            return
        utterance.ended = True
        await self._flush(utterance)

    async def stop(self) -> bool:
        answer = self._answer
        if answer is None or answer.stopped:
            return False
        # Cancel first: an answer ended while it is being written is stored as cancelled. The
        # rest of Live's model turn is still received, and dropped.
        await self._runs.cancel_chat(self._user_id, self._chat_id)
        answer.end(stopped=True)
        return True

    async def aclose(self) -> None:
        if self._microphone.recording is not None:
            self._microphone.drop()
            await self._drop_utterance()
        self._closing = True
        await self._close_if_done()

    async def shut(self) -> None:
        """The app is stopping: end the session now."""
        self._closing = True
        await self._stop_link()

    # The link's side (LinkOwner).

    def quiet(self) -> bool:
        return (
            self._microphone.recording is None and self._utterance is None and self._answer is None
        )

    def done(self) -> bool:
        return self._closing and self.quiet()

    async def context_at_connection(self) -> tuple[list[Turn], tuple[ContextBlock, ...]]:
        settings = self._settings
        history = await self._chats.turns_before(
            self._user_id, self._chat_id, None, max(settings.history_turns, 2)
        )
        latest = next((turn for turn in reversed(history) if turn.role == "user"), None)
        blocks = await self._interaction.context_for(latest) if latest else ()
        return history[-settings.history_turns :] if settings.history_turns else [], blocks

    async def attached(self, session: AsyncSession) -> None:
        utterance = self._utterance
        if utterance is not None:
            # Whatever the last session heard of it is lost with that session.
            utterance.sent = 0
            await self._send_audio(session, utterance)

    async def on_content(self, content: types.LiveServerContent) -> None:
        heard = content.input_transcription
        if heard is not None and heard.text:
            await self._on_heard(heard.text)
        said = content.output_transcription
        audio = audio_parts(content.model_turn)
        if (said is not None and said.text) or audio:
            answer = self._answer or self._start_answer()
            for pcm, rate in audio:
                answer.add_audio(pcm, rate)
            if said is not None and said.text:
                answer.add_text(said.text)
        if content.interrupted and self._answer is not None:
            # Live stopped answering because the user talked over it.
            await self.stop()
            self._answer = None
        if content.turn_complete and self._answer is not None:
            await self._complete(self._answer)

    def session_ended(self) -> None:
        answer = self._answer
        if answer is not None and not self.done():
            # Live loses the answer it was giving; the pipeline reports it as failed.
            self._answer = None
            answer.end(ModelUnavailable("the Gemini Live connection ended mid-answer"))

    async def lost(self, exc: BaseException | None) -> None:
        """The user is told, and the next recording tries again."""
        answer, self._answer = self._answer, None
        if answer is not None:
            answer.end(ModelUnavailable("the Gemini Live connection ended mid-answer"))
        self._utterance = None
        self._cancel_no_answer()
        await self._follower.reply(
            ErrorOut.of(Unavailable(f"Gemini Live is unavailable: {describe(exc)}"))
        )

    def link_over(self) -> None:
        if self._closing:
            self._forget(self)

    # What Live hears and says.

    async def _on_heard(self, text: str) -> None:
        answer = self._answer
        if answer is not None and answer.turn is None and answer.utterance is not None:
            # Live started answering before it said what it heard.
            answer.question += text
            self._start_turn(answer)
            return
        utterance = self._utterance
        if utterance is None:
            return  # late words of a question already taken
        utterance.text += text
        await self._sink.send(Transcript(text=utterance.text.strip(), final=False))

    def _start_answer(self) -> Answer:
        self._cancel_no_answer()
        utterance = self._utterance
        # Audio still coming (Live answered a pause) belongs to the next question.
        self._utterance = Utterance() if self._microphone.recording is not None else None
        answer = Answer(utterance)
        self._answer = answer
        self._link.turn_began()
        self._start_turn(answer)
        return answer

    def _start_turn(self, answer: Answer) -> None:
        if answer.turn is None and not answer.stopped and answer.question.strip():
            answer.turn = self._turns.start(answer)

    async def _complete(self, answer: Answer) -> None:
        self._answer = None
        answer.end()
        if answer.turn is None and not answer.stopped:
            # Live answered without saying what it heard: nothing to store it as.
            await self._sink.send(Transcript(text="", final=True))
            await self._follower.reply(
                ErrorOut.of(BadRequest("no speech was heard in the recording; nothing was stored"))
            )

    # What goes up to Live.

    async def _flush(self, utterance: Utterance) -> None:
        async def send(session: AsyncSession) -> None:
            if utterance is self._utterance:
                await self._send_audio(session, utterance)

        await self._link.send(send)

    async def _send_audio(self, session: AsyncSession, utterance: Utterance) -> None:
        """Send what the session does not have of `utterance` (whole samples), then the end of
        the stream if the user has stopped. A failed send is not an error here: the session is
        ending, and the next one is sent everything again."""
        whole = len(utterance.pcm) - len(utterance.pcm) % 2
        try:
            while utterance.sent < whole:
                piece = bytes(
                    utterance.pcm[utterance.sent : min(whole, utterance.sent + _REPLAY_PIECE)]
                )
                utterance.sent += len(piece)
                await session.send_realtime_input(
                    audio=types.Blob(data=piece, mime_type=INPUT_MIME)
                )
            if utterance.ended:
                await session.send_realtime_input(audio_stream_end=True)
                # Counted from when Live has it all, not from when the user stopped.
                self._cancel_no_answer()
                self._no_answer = asyncio.create_task(self._expect_answer(utterance))
        except FAILURES as exc:
            logger.info("audio for chat %s not sent to Gemini Live: %s", self._chat_id, exc)

    async def _tell(self, text: str) -> None:
        """Text for the session to keep in mind; a session opened later gets it in its system
        instruction instead."""

        async def send(session: AsyncSession) -> None:
            try:
                await session.send_client_content(
                    turns=types.Content(role="user", parts=[types.Part(text=text)]),
                    turn_complete=False,
                )
            except FAILURES as exc:
                logger.info("context for chat %s not sent to Gemini Live: %s", self._chat_id, exc)

        await self._link.send(send)

    async def _drop_utterance(self) -> None:
        """A refused recording: whatever Live answers to it is dropped."""
        utterance = self._utterance
        self._utterance = None
        self._cancel_no_answer()
        if utterance is not None and not utterance.ended:
            utterance.ended = True

            async def send(session: AsyncSession) -> None:
                with contextlib.suppress(*FAILURES):
                    await session.send_realtime_input(audio_stream_end=True)

            await self._link.send(send)

    async def _expect_answer(self, utterance: Utterance) -> None:
        """Live's voice-activity detection gives no answer to silence: after as long as any model
        may stay silent, say so instead of leaving the user waiting."""
        await asyncio.sleep(self._settings.llm_stall_timeout_s)
        if self._utterance is not utterance:
            return
        self._utterance = None
        text = utterance.text.strip()
        await self._sink.send(Transcript(text=text, final=True))
        error: AllinError = (
            Unavailable("Gemini Live did not answer the recording; nothing was stored")
            if text
            else BadRequest("no speech was heard in the recording; nothing was stored")
        )
        await self._follower.reply(ErrorOut.of(error))
        await self._close_if_done()

    def _cancel_no_answer(self) -> None:
        if self._no_answer is not None and self._no_answer is not asyncio.current_task():
            self._no_answer.cancel()
        self._no_answer = None

    async def _close_if_done(self) -> None:
        if self.done():
            await self._stop_link()

    async def _stop_link(self) -> None:
        await self._link.stop()
        self._forget(self)

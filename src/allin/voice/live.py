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

The session stays useful across reconnections: every resumption handle Live sends is kept
(`voice_sessions`); when Live says `goAway` the session is reconnected with the newest handle at
the next quiet moment (no recording, question or answer in progress), and when the connection
drops it is reconnected at once, sending the unanswered recording again. An answer cut off by a
dropped connection fails like any answer whose model failed; only a reconnection that fails is
reported (`unavailable`).

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
import ssl
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field

import certifi
from google import genai
from google.genai import errors, types
from google.genai.live import AsyncSession
from websockets.exceptions import ConnectionClosed, WebSocketException

from allin.chat.frames import AudioEndOut, AudioStartIn, AudioStartOut, Done, ErrorOut, Transcript
from allin.chat.prompt import build_prompt
from allin.chat.streams import Follower
from allin.config import ConfigError, Settings
from allin.errors import AllinError, BadRequest, Unavailable, as_allin_error
from allin.llm.base import ContextBlock, ModelUnavailable, Prompt
from allin.storage.records import Turn
from allin.voice.conversation import AnswerTap, AudioSink, VoiceApp, audio_frames
from allin.voice.recording import ACCEPTED_RATE, Microphone

logger = logging.getLogger(__name__)

INPUT_MIME = f"audio/pcm;rate={ACCEPTED_RATE}"
# What Live speaks in, unless a chunk's mime type says otherwise.
OUTPUT_RATE = 24000
# A failed connection is tried this many times in a row before the user is told.
CONNECT_ATTEMPTS = 3
_RETRY_PAUSE_S = 0.5
# Audio is replayed to a new session in pieces of at most this many bytes (2 s at 16 kHz).
_REPLAY_PIECE = 64 * 1024
# How long a session about to end waits for the handle of its last turn.
_LINGER_S = 2.0
# The SDK raises its own errors for a refused or closed connection, the websockets ones for a
# failed handshake, OSError (ssl.SSLError included) for the network.
FAILURES = (errors.APIError, WebSocketException, OSError, TimeoutError)
_ABNORMAL_CLOSURE = 1006


def live_client(settings: Settings) -> genai.Client:
    if settings.gemini_api_key is None:
        raise ConfigError("ALLIN_VOICE=live needs GEMINI_API_KEY (or GOOGLE_API_KEY)")
    # The SDK opens the Live WebSocket with the `ssl` context of `async_client_args`, and the
    # base URL's host with wss (it forces TLS, whatever the scheme).
    extra = {"ssl": _ssl_context(settings)} if settings.gemini_live_ca_file else None
    return genai.Client(
        vertexai=False,
        api_key=settings.gemini_api_key.get_secret_value(),
        http_options=types.HttpOptions(base_url=settings.gemini_base_url, async_client_args=extra),
    )


def _ssl_context(settings: Settings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=certifi.where())
    context.load_verify_locations(cafile=settings.gemini_live_ca_file)
    return context


class LiveVoice:
    def __init__(self, app: VoiceApp, client: genai.Client | None = None) -> None:
        self.app = app
        self.client = client or live_client(app.settings)
        self.model = app.settings.gemini_live_model
        self._open: set[LiveConversation] = set()

    @property
    def name(self) -> str:
        return f"live ({self.model})"

    @property
    def engine(self) -> str:
        """What `voice_turns` records as having heard and spoken the turns."""
        return self.model

    def open(
        self, user_id: str, chat_id: str, follower: Follower, sink: AudioSink
    ) -> LiveConversation:
        conversation = LiveConversation(self, user_id, chat_id, follower, sink)
        self._open.add(conversation)
        return conversation

    def forget(self, conversation: LiveConversation) -> None:
        self._open.discard(conversation)

    async def warm_up(self) -> None:
        """Nothing to load: the model runs at Google."""
        return None

    async def aclose(self) -> None:
        for conversation in list(self._open):
            await conversation.shut()
        await self.client.aio.aclose()


@dataclass
class _Utterance:
    """What the user has said since the last question was taken: sent upstream as it comes, and
    sent again to a new session if the connection drops before Live answers."""

    pcm: bytearray = field(default_factory=bytearray)
    text: str = ""
    ended: bool = False
    # How much of `pcm` the current session has.
    sent: int = 0


class _Answer:
    """One model turn of Live, from its first output to `turn_complete`: its text for the turn
    pipeline and its audio for the socket, each through a queue (None ends them)."""

    def __init__(self, utterance: _Utterance | None) -> None:
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

    def __init__(self, name: str, answer: _Answer) -> None:
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


class LiveConversation:
    def __init__(
        self, voice: LiveVoice, user_id: str, chat_id: str, follower: Follower, sink: AudioSink
    ) -> None:
        self._voice = voice
        self._user_id = user_id
        self._chat_id = chat_id
        self._follower = follower
        self._sink = sink
        self._microphone = Microphone(voice.app.settings.voice_max_seconds)
        self._utterance: _Utterance | None = None
        self._answer: _Answer | None = None
        self._no_answer: asyncio.Task[None] | None = None
        self._link: asyncio.Task[None] | None = None
        self._session: AsyncSession | None = None
        # Sends to the session one at a time, so a replay after reconnecting and new audio
        # keep their order.
        self._sending = asyncio.Lock()
        # Live said `goAway`: reconnect at the next quiet moment.
        self._leaving = False
        # The socket is gone: end the session once the question asked is answered.
        self._closing = False
        # The newest handle Live sent, and whether no turn began since (or since connecting).
        self._handle: str | None = None
        self._handle_current = True

    # The socket's side (VoiceConversation).

    async def begin(self, start: AudioStartIn) -> None:
        self._microphone.start(start)
        await self.stop()
        if self._utterance is None:
            self._utterance = _Utterance()
        # Speaking again before Live answered: it is all one question.
        self._utterance.ended = False
        self._cancel_no_answer()
        self._connect()

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
        await self._voice.app.interaction.cancel(self._user_id, self._chat_id)
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

    # The upstream side.

    def _connect(self) -> None:
        if self._link is None or self._link.done():
            self._link = asyncio.create_task(self._keep_linked(), name=f"live-{self._chat_id}")

    async def _keep_linked(self) -> None:
        """Keep a session open until the conversation is over, reconnecting as needed."""
        failures = 0
        resume = True
        try:
            while not self._done():
                error: BaseException | None = None
                try:
                    worked = await self._session_once(resume=resume)
                except FAILURES as exc:
                    worked, error = False, exc
                    logger.warning(
                        "Gemini Live connection for chat %s failed: %s", self._chat_id, exc
                    )
                except Exception as exc:
                    # The database, most likely (the handle, the context): tried again too.
                    worked, error = False, exc
                    logger.exception("Gemini Live session for chat %s failed", self._chat_id)
                if worked:
                    failures, resume = 0, True
                    continue
                failures += 1
                # Start afresh only when Live itself may have turned the handle down: a network
                # or database failure says nothing against it, and a fresh session forgets the
                # conversation's audio.
                resume = not _may_have_refused_the_handle(error)
                if failures >= CONNECT_ATTEMPTS:
                    await self._lost(error)
                    return
                await asyncio.sleep(_RETRY_PAUSE_S * failures)
        finally:
            self._session = None
            if self._closing:
                self._voice.forget(self)

    async def _session_once(self, *, resume: bool) -> bool:
        """One session, from connecting until it ends; whether Live said anything in it (one that
        closes at once counts as a failure). Raises if it could not connect."""
        voice = self._voice
        if not resume:
            self._handle = None
        store = voice.app.recorder.store
        handle = self._handle or (
            await store.live_handle(self._user_id, self._chat_id) if resume else None
        )
        history, blocks = await self._context_at_connection()
        config = _config(voice.app.settings, handle, blocks)
        async with contextlib.AsyncExitStack() as stack:
            connecting = voice.client.aio.live.connect(model=voice.model, config=config)
            session = await asyncio.wait_for(
                stack.enter_async_context(connecting), voice.app.settings.llm_timeout_s
            )
            await self._attach(session, [] if handle else history)
            try:
                worked = await self._receive(session)
            finally:
                self._session = None
        answer = self._answer
        if answer is not None and not self._done():
            # Live loses the answer it was giving; the pipeline reports it as failed.
            self._answer = None
            answer.end(ModelUnavailable("the Gemini Live connection ended mid-answer"))
        return worked

    async def _context_at_connection(self) -> tuple[list[Turn], tuple[ContextBlock, ...]]:
        settings = self._voice.app.settings
        history = await self._voice.app.chats.turns_before(
            self._user_id, self._chat_id, None, max(settings.history_turns, 2)
        )
        latest = next((turn for turn in reversed(history) if turn.role == "user"), None)
        blocks = await self._voice.app.interaction.context_for(latest) if latest else ()
        return history[-settings.history_turns :] if settings.history_turns else [], blocks

    async def _attach(self, session: AsyncSession, history: list[Turn]) -> None:
        async with self._sending:
            self._session = session
            self._leaving = False
            if history:
                await session.send_client_content(
                    turns=[_content(turn) for turn in history], turn_complete=False
                )
            utterance = self._utterance
            if utterance is not None:
                # Whatever the last session heard of it is lost with that session.
                utterance.sent = 0
                await self._send_audio(session, utterance)

    async def _receive(self, session: AsyncSession) -> bool:
        """Handle Live's messages until the session should end or ends by itself; whether there
        were any."""
        heard = False
        try:
            async with asyncio.timeout(None) as linger:
                while True:
                    async for message in session.receive():
                        heard = True
                        await self._on_message(message)
                        if not ((self._leaving or self._closing) and self._quiet()):
                            continue
                        if self._handle_current:
                            return heard
                        # Live sends the handle for a turn just after it: wait for it a little,
                        # or the next session would resume from before that turn.
                        if linger.when() is None:
                            linger.reschedule(asyncio.get_running_loop().time() + _LINGER_S)
        except FAILURES as exc:
            if not isinstance(exc, TimeoutError):
                logger.info("Gemini Live session for chat %s ended: %s", self._chat_id, exc)
        return heard

    async def _on_message(self, message: types.LiveServerMessage) -> None:
        update = message.session_resumption_update
        if update is not None and update.resumable and update.new_handle:
            await self._keep_handle(update.new_handle)
            self._handle_current = True
        if message.go_away is not None:
            logger.info(
                "Gemini Live asks chat %s to reconnect (%s left)",
                self._chat_id,
                message.go_away.time_left,
            )
            self._leaving = True
        content = message.server_content
        if content is not None:
            await self._on_content(content)

    async def _on_content(self, content: types.LiveServerContent) -> None:
        heard = content.input_transcription
        if heard is not None and heard.text:
            await self._on_heard(heard.text)
        said = content.output_transcription
        audio = _audio_parts(content.model_turn)
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

    def _start_answer(self) -> _Answer:
        self._cancel_no_answer()
        utterance = self._utterance
        # Audio still coming (Live answered a pause) belongs to the next question.
        self._utterance = _Utterance() if self._microphone.recording is not None else None
        answer = _Answer(utterance)
        self._answer = answer
        self._handle_current = False
        self._start_turn(answer)
        return answer

    def _start_turn(self, answer: _Answer) -> None:
        if answer.turn is None and not answer.stopped and answer.question.strip():
            answer.turn = self._voice.app.runs.detach(
                self._turn(answer), name=f"live-turn-{self._chat_id}"
            )

    async def _complete(self, answer: _Answer) -> None:
        self._answer = None
        answer.end()
        if answer.turn is None and not answer.stopped:
            # Live answered without saying what it heard: nothing to store it as.
            await self._sink.send(Transcript(text="", final=True))
            await self._follower.reply(
                ErrorOut.of(BadRequest("no speech was heard in the recording; nothing was stored"))
            )

    async def _keep_handle(self, handle: str) -> None:
        """Keep `handle` as the chat's newest. A chat's first handle can come before its first
        question is stored, when there is no chat to keep it for yet: `_turn` keeps it again."""
        self._handle = handle
        store = self._voice.app.recorder.store
        try:
            # Shielded: a session ending at this moment must not lose the handle it ends with.
            await asyncio.shield(store.keep_live_handle(self._user_id, self._chat_id, handle))
        except Exception:
            logger.exception("could not keep the Live handle of chat %s", self._chat_id)

    async def _flush(self, utterance: _Utterance) -> None:
        async with self._sending:
            session = self._session
            if session is not None and utterance is self._utterance:
                await self._send_audio(session, utterance)

    async def _send_audio(self, session: AsyncSession, utterance: _Utterance) -> None:
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

    async def _drop_utterance(self) -> None:
        """A refused recording: whatever Live answers to it is dropped."""
        utterance = self._utterance
        self._utterance = None
        self._cancel_no_answer()
        if utterance is not None and not utterance.ended:
            utterance.ended = True
            async with self._sending:
                if self._session is not None:
                    with contextlib.suppress(*FAILURES):
                        await self._session.send_realtime_input(audio_stream_end=True)

    async def _expect_answer(self, utterance: _Utterance) -> None:
        """Live's voice-activity detection gives no answer to silence: after as long as any model
        may stay silent, say so instead of leaving the user waiting."""
        await asyncio.sleep(self._voice.app.settings.llm_stall_timeout_s)
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

    async def _lost(self, exc: BaseException | None) -> None:
        """Live could not be reached again: the user is told, and the next recording tries."""
        answer, self._answer = self._answer, None
        if answer is not None:
            answer.end(ModelUnavailable("the Gemini Live connection ended mid-answer"))
        self._utterance = None
        self._cancel_no_answer()
        await self._follower.reply(
            ErrorOut.of(Unavailable(f"Gemini Live is unavailable: {_describe(exc)}"))
        )

    def _quiet(self) -> bool:
        """No recording, unanswered question or answer in progress: a session may end now."""
        return (
            self._microphone.recording is None and self._utterance is None and self._answer is None
        )

    def _done(self) -> bool:
        return self._closing and self._quiet()

    async def _close_if_done(self) -> None:
        if self._done():
            await self._stop_link()

    async def _stop_link(self) -> None:
        link = self._link
        if link is not None and link is not asyncio.current_task():
            link.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await link
        self._voice.forget(self)

    # One spoken turn, detached from the socket (like a text turn).

    async def _turn(self, answer: _Answer) -> None:
        voice = self._voice
        try:
            question = await self._ask(answer)
        except Exception as exc:
            if not isinstance(exc, AllinError):
                logger.exception("spoken turn in chat %s failed", self._chat_id)
            answer.stopped = True
            await self._follower.reply(ErrorOut.of(as_allin_error(exc)))
            return
        if self._handle is not None:
            await self._keep_handle(self._handle)
        context = asyncio.create_task(voice.app.interaction.context_for(question))
        tap = AnswerTap(question)
        listener = Follower(tap)
        async with voice.app.streams.following(self._user_id, self._chat_id, listener):
            await listener.start()
            speaking = asyncio.create_task(self._speak(answer, tap))
            try:
                await voice.app.interaction.handle(
                    self._user_id,
                    self._chat_id,
                    question.client_msg_id or "",
                    question.content,
                    self._follower,
                    model=LiveAnswerModel(f"gemini:{voice.model}", answer),
                    with_context=False,
                )
                stall_s = voice.app.settings.llm_stall_timeout_s
                await asyncio.wait_for(asyncio.shield(speaking), stall_s)
            except TimeoutError:
                speaking.cancel()
            except asyncio.CancelledError:
                # Shutting down (the answer itself is stored by the pipeline).
                speaking.cancel()
                context.cancel()
                return
            except Exception as exc:
                speaking.cancel()
                await self._follower.reply(ErrorOut.of(as_allin_error(exc)))
        await self._tell_context(question, context)

    async def _ask(self, answer: _Answer) -> Turn:
        """The question Live heard, stored with its recording (as offline does)."""
        voice = self._voice
        text = answer.question.strip()
        await self._sink.send(Transcript(text=text, final=True))
        pcm = bytes(answer.utterance.pcm) if answer.utterance else b""
        voice.app.interaction.check_message(text)
        return await voice.app.recorder.ask(
            self._user_id, self._chat_id, text, pcm, ACCEPTED_RATE, voice.engine
        )

    async def _speak(self, answer: _Answer, tap: AnswerTap) -> None:
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

    async def _play(self, answer: _Answer, answer_id: int) -> bytes:
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
            await self._voice.app.recorder.keep(answer, pcm, sample_rate, self._voice.engine)
        except Exception:
            logger.exception("could not store the spoken answer %s", answer.id)

    async def _tell_context(
        self, question: Turn, context: Awaitable[tuple[ContextBlock, ...]]
    ) -> None:
        """Give the session what the context sources found for `question`, for the turns that
        follow (see the module's docstring)."""
        try:
            blocks = await context
        except Exception:
            logger.exception("context for turn %s failed", question.id)
            return
        text = _context_text(question.content, blocks)
        if not text:
            return
        async with self._sending:
            session = self._session
            if session is None:
                return  # the next session's system instruction has it
            try:
                await session.send_client_content(
                    turns=types.Content(role="user", parts=[types.Part(text=text)]),
                    turn_complete=False,
                )
            except FAILURES as exc:
                logger.info("context for chat %s not sent to Gemini Live: %s", self._chat_id, exc)


def _config(
    settings: Settings, handle: str | None, blocks: tuple[ContextBlock, ...]
) -> types.LiveConnectConfig:
    speech = (
        types.SpeechConfig(
            voice_config=types.VoiceConfig(
                prebuilt_voice_config=types.PrebuiltVoiceConfig(
                    voice_name=settings.gemini_live_voice
                )
            )
        )
        if settings.gemini_live_voice
        else None
    )
    return types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO],
        system_instruction=build_prompt("", [], _found(blocks)).system_text(),
        input_audio_transcription=types.AudioTranscriptionConfig(),
        output_audio_transcription=types.AudioTranscriptionConfig(),
        # Without it, an audio session ends after about 15 minutes.
        context_window_compression=types.ContextWindowCompressionConfig(
            sliding_window=types.SlidingWindow()
        ),
        # Given even with no handle: it is what makes Live send handles at all.
        session_resumption=types.SessionResumptionConfig(handle=handle),
        speech_config=speech,
    )


def _found(blocks: tuple[ContextBlock, ...]) -> tuple[ContextBlock, ...]:
    """Only blocks with something in them: that nothing matched one question says nothing about
    the next one."""
    return tuple(block for block in blocks if block.items)


def _context_text(question: str, blocks: tuple[ContextBlock, ...]) -> str:
    found = _found(blocks)
    if not found:
        return ""
    rendered = "\n\n".join(block.render() for block in found)
    return (
        f"(Context found for the question {question!r}, for this and the following turns;"
        f" not a new question.)\n\n{rendered}"
    )


def _content(turn: Turn) -> types.Content:
    return types.Content(
        role="user" if turn.role == "user" else "model", parts=[types.Part(text=turn.content)]
    )


def _audio_parts(turn: types.Content | None) -> list[tuple[bytes, int]]:
    if turn is None or not turn.parts:
        return []
    found = []
    for part in turn.parts:
        blob = part.inline_data
        if blob is not None and blob.data and (blob.mime_type or "").startswith("audio/pcm"):
            found.append((blob.data, _rate(blob.mime_type or "")))
    return found


def _rate(mime_type: str) -> int:
    for parameter in mime_type.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name == "rate" and value.isdigit():
            return int(value)
    return OUTPUT_RATE


def _may_have_refused_the_handle(error: BaseException | None) -> bool:
    """Whether a failed attempt may be Live refusing the session it was asked to resume: Live
    closed it (while setting it up, or at once after), rather than the network, the HTTP handshake
    or our own database failing before it began. `None`: the session closed without a word."""
    if error is None:
        return True
    # The SDK turns a close during setup into an APIError with the close code; 1006 means no
    # close frame came at all, which is the network, not Live.
    if isinstance(error, errors.APIError):
        return error.code != _ABNORMAL_CLOSURE
    return isinstance(error, ConnectionClosed) and error.rcvd is not None


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, errors.APIError):
        return " ".join(str(part) for part in (exc.code, exc.message or exc.status) if part)
    if exc is None:
        return "the connection kept closing"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__

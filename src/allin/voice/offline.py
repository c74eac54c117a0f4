"""Voice with no network: voice-activity detection, speech-to-text, the normal text turn, then
text-to-speech sentence by sentence, so the answer is heard while it is still being written.

A spoken turn, once the recording ends (it runs detached from the socket, like a text turn, so a
client that leaves still gets it stored):
1. no speech in the recording (VAD) → an empty final `transcript` and a `bad_request` error;
   nothing is stored
2. transcribe it → the final `transcript`
3. store the recording (blob), the question (`chat_turns`) and their link (`voice_turns`)
4. answer it through the turn pipeline (the `ack`, `token` and `done` frames every tab sees)
5. meanwhile, speak each complete sentence of the answer to this socket (`audio_start`, binary
   frames, `audio_end`) and store the spoken answer once it is complete
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from allin.chat.frames import AudioEndOut, AudioStartIn, AudioStartOut, Done, ErrorOut, Transcript
from allin.chat.streams import Follower
from allin.errors import AllinError, BadRequest
from allin.storage.chat_records import Turn
from allin.voice.base import SpeechDetector, SpeechToText, TextToSpeech
from allin.voice.conversation import AnswerTap, AudioSink, VoiceApp, audio_frames, spoken_turn
from allin.voice.recording import Microphone
from allin.voice.speakable import SentenceSplitter

logger = logging.getLogger(__name__)


class OfflineVoice:
    def __init__(
        self, app: VoiceApp, *, stt: SpeechToText, tts: TextToSpeech, detector: SpeechDetector
    ) -> None:
        self.app = app
        self.stt = stt
        self.tts = tts
        self.detector = detector

    @property
    def name(self) -> str:
        return f"offline ({self.stt.name}, {self.tts.name})"

    def open(
        self, user_id: str, chat_id: str, follower: Follower, sink: AudioSink
    ) -> OfflineConversation:
        return OfflineConversation(self, user_id, chat_id, follower, sink)

    async def warm_up(self) -> None:
        """Load the models now rather than on the first recording; a failure here is logged and
        tried again then."""
        try:
            await asyncio.gather(self.stt.warm_up(), self.tts.warm_up())
        except Exception:
            logger.exception("could not load the offline speech models")

    async def aclose(self) -> None:
        return None


class OfflineConversation:
    def __init__(
        self, voice: OfflineVoice, user_id: str, chat_id: str, follower: Follower, sink: AudioSink
    ) -> None:
        self._voice = voice
        self._user_id = user_id
        self._chat_id = chat_id
        self._follower = follower
        self._sink = sink
        self._microphone = Microphone(voice.app.settings.voice_max_seconds)
        self._partial: asyncio.Task[None] | None = None
        self._partial_at = 0
        self._speaking: asyncio.Task[None] | None = None

    async def begin(self, start: AudioStartIn) -> None:
        self._microphone.start(start)
        await self.stop()
        self._partial_at = 0

    async def audio(self, chunk: bytes) -> None:
        try:
            recording = self._microphone.add(chunk)
        except AllinError:
            self._stop_partial()
            raise
        if recording is None:
            return
        every_ms = self._voice.app.settings.voice_partial_every_s * 1000
        due = every_ms and recording.duration_ms - self._partial_at >= every_ms
        if due and (self._partial is None or self._partial.done()):
            self._partial_at = recording.duration_ms
            self._partial = asyncio.create_task(
                self._send_partial(recording.pcm, recording.sample_rate)
            )

    async def end(self) -> None:
        self._stop_partial()
        finished = self._microphone.finish()
        if finished is None:
            return
        recording, pcm = finished
        self._voice.app.runs.detach(
            self._turn(pcm, recording.sample_rate), name=f"voice-turn-{self._chat_id}"
        )

    async def stop(self) -> bool:
        speaking = self._speaking
        if speaking is None or speaking.done():
            return False
        speaking.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await speaking
        # The answer may still be being written: the user has moved on, so stop that too.
        await self._voice.app.runs.cancel_chat(self._user_id, self._chat_id)
        return True

    async def aclose(self) -> None:
        self._microphone.drop()
        self._stop_partial()

    def _stop_partial(self) -> None:
        if self._partial is not None:
            self._partial.cancel()
            self._partial = None

    async def _send_partial(self, pcm: bytes, sample_rate: int) -> None:
        try:
            text = await self._voice.stt.transcribe(pcm, sample_rate)
        except Exception:
            logger.exception("interim transcription failed")
            return
        if text:
            await self._sink.send(Transcript(text=text, final=False))

    async def _turn(self, pcm: bytes, sample_rate: int) -> None:
        await spoken_turn(
            self._voice.app,
            self._user_id,
            self._chat_id,
            self._follower,
            ask=lambda: self._ask(pcm, sample_rate),
            speak=self._speak,
            on_speaking=self._spoken_by,
        )

    def _spoken_by(self, task: asyncio.Task[None]) -> None:
        self._speaking = task

    async def _ask(self, pcm: bytes, sample_rate: int) -> Turn | None:
        """Steps 1–3: the question heard in the recording, stored with its audio; None for
        silence."""
        voice = self._voice
        speech_ms = await voice.detector.speech_ms(pcm, sample_rate)
        text = await voice.stt.transcribe(pcm, sample_rate) if speech_ms else ""
        if speech_ms < voice.app.settings.voice_min_speech_ms or not text:
            await self._sink.send(Transcript(text="", final=True))
            raise BadRequest("no speech was heard in the recording; nothing was stored")
        await self._sink.send(Transcript(text=text, final=True))
        voice.app.interaction.check_message(text)
        return await voice.app.archive.ask(
            self._user_id, self._chat_id, text, pcm, sample_rate, voice.stt.name
        )

    async def _speak(self, tap: AnswerTap) -> None:
        """Step 5."""
        tts = self._voice.tts
        splitter = SentenceSplitter()
        spoken = bytearray()
        sample_rate = 0
        answer_id: int | None = None
        answer: Turn | None = None
        stopped = False
        try:
            async for frame in tap.frames():
                if isinstance(frame, ErrorOut):
                    return
                if isinstance(frame, Done):
                    answer = frame.turn
                    answer_id = answer.id
                    sentences = splitter.flush()
                else:
                    answer_id = frame.turn_id
                    sentences = splitter.feed(frame.text)
                for sentence in sentences:
                    speech = await tts.synthesize(sentence)
                    if not sample_rate:
                        sample_rate = speech.sample_rate
                        await self._sink.send(
                            AudioStartOut(sample_rate=sample_rate, turn_id=answer_id)
                        )
                    for chunk in audio_frames(speech.pcm, sample_rate):
                        await self._sink.send_audio(chunk)
                    spoken += speech.pcm
        except asyncio.CancelledError:
            stopped = True
            raise
        finally:
            stopped = stopped or answer is None
            # Kept before `audio_end`, so a client can fetch the answer's audio once told it ended.
            if answer is not None and spoken and not stopped:
                await asyncio.shield(self._keep_answer(answer, bytes(spoken), sample_rate))
            if sample_rate and answer_id is not None:
                await self._sink.send(AudioEndOut(turn_id=answer_id, stopped=stopped))

    async def _keep_answer(self, answer: Turn, pcm: bytes, sample_rate: int) -> None:
        try:
            await self._voice.app.archive.keep(answer, pcm, sample_rate, self._voice.tts.name)
        except Exception:
            logger.exception("could not store the spoken answer %s", answer.id)

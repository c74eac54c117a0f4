"""One recording the client streams between `audio_start` and `audio_end`, checked as it comes."""

from __future__ import annotations

from allin.chat.frames import AudioStartIn
from allin.errors import BadRequest, TooLarge
from allin.voice.audio import SAMPLE_WIDTH, duration_ms

# What every engine takes: browsers resample to it, Whisper and Gemini Live expect it.
ACCEPTED_FORMAT = "pcm16"
ACCEPTED_RATE = 16000


class Recording:
    def __init__(self, start: AudioStartIn, max_seconds: float) -> None:
        if start.format != ACCEPTED_FORMAT:
            raise BadRequest(
                f"audio format {start.format!r} is not supported; send {ACCEPTED_FORMAT!r}"
                " (16-bit signed little-endian mono PCM)"
            )
        if start.sample_rate != ACCEPTED_RATE:
            raise BadRequest(
                f"sample rate {start.sample_rate} Hz is not supported; send {ACCEPTED_RATE} Hz"
            )
        self.sample_rate = start.sample_rate
        self._max_bytes = int(max_seconds * self.sample_rate) * SAMPLE_WIDTH
        self._max_seconds = max_seconds
        self._pcm = bytearray()

    def add(self, chunk: bytes) -> None:
        if len(self._pcm) + len(chunk) > self._max_bytes:
            raise TooLarge(
                f"recordings are limited to {self._max_seconds:g} s; this one was dropped"
            )
        self._pcm += chunk

    @property
    def pcm(self) -> bytes:
        return bytes(self._pcm)

    @property
    def duration_ms(self) -> int:
        return duration_ms(self._pcm, self.sample_rate)

    def finish(self) -> bytes:
        if len(self._pcm) % SAMPLE_WIDTH:
            raise BadRequest("pcm16 audio has an even number of bytes; this recording was dropped")
        return self.pcm

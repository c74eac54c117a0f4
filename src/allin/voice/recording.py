"""One recording the client streams between `audio_start` and `audio_end`, checked as it comes."""

from __future__ import annotations

from allin.chat.frames import AudioStartIn
from allin.errors import AllinError, BadRequest, TooLarge
from allin.voice.audio import SAMPLE_WIDTH, duration_ms

# What every engine takes: browsers resample to it, Whisper and Gemini Live expect it.
ACCEPTED_FORMAT = "pcm16"
ACCEPTED_RATE = 16000
# A binary frame is a piece of a recording; browsers send a few hundred milliseconds at a time.
MAX_FRAME_BYTES = 256 * 1024


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


class Microphone:
    """A socket's recordings, one at a time, in order: `audio_start`, audio frames, `audio_end`.
    Frames out of that order are refused. A recording refused mid-way (too long) is dropped whole,
    and its remaining frames and its `audio_end` are ignored: the client was told once."""

    def __init__(self, max_seconds: float) -> None:
        self._max_seconds = max_seconds
        self.recording: Recording | None = None
        self._dropped = False

    def start(self, start: AudioStartIn) -> Recording:
        if self.recording is not None:
            raise BadRequest("a recording is already in progress: send audio_end first")
        self.recording = Recording(start, self._max_seconds)
        self._dropped = False
        return self.recording

    def add(self, chunk: bytes) -> Recording | None:
        """The recording `chunk` joined; None when it belongs to a dropped one."""
        recording = self.recording
        if recording is None:
            if self._dropped:
                return None
            raise BadRequest("audio frames must follow an audio_start frame")
        try:
            if len(chunk) > MAX_FRAME_BYTES:
                raise TooLarge(
                    f"audio frames are limited to {MAX_FRAME_BYTES} bytes; this recording was"
                    " dropped"
                )
            recording.add(chunk)
        except AllinError:
            self.recording = None
            self._dropped = True
            raise
        return recording

    def finish(self) -> tuple[Recording, bytes] | None:
        """The recording `audio_end` completes, and its audio; None when it was dropped."""
        recording = self.recording
        if recording is None:
            if self._dropped:
                self._dropped = False
                return None
            raise BadRequest("audio_end without a recording: send audio_start first")
        self.recording = None
        return recording, recording.finish()

    def drop(self) -> None:
        self.recording = None

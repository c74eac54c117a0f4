"""The speech protocols the voice pipeline is built on, so that each engine is one file.

Audio everywhere in Allin is 16-bit signed little-endian mono PCM (`pcm16`), with its rate given
beside it. Engines are synchronous in their models and asynchronous in their interface: each one
runs its model off the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Speech:
    """Synthesized audio: pcm16 mono at `sample_rate`."""

    pcm: bytes
    sample_rate: int


class SpeechToText(Protocol):
    @property
    def name(self) -> str: ...

    async def transcribe(self, pcm: bytes, sample_rate: int) -> str:
        """The words spoken in the recording ('' when none)."""
        ...

    async def warm_up(self) -> None: ...


class TextToSpeech(Protocol):
    @property
    def name(self) -> str: ...

    async def synthesize(self, text: str) -> Speech: ...

    async def warm_up(self) -> None: ...


class SpeechDetector(Protocol):
    """Voice-activity detection: tells a recording with speech from silence or noise."""

    @property
    def name(self) -> str: ...

    async def speech_ms(self, pcm: bytes, sample_rate: int) -> float:
        """How many milliseconds of the recording are speech."""
        ...

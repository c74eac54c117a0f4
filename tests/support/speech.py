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

from websockets.asyncio.client import ClientConnection

from allin.voice.audio import from_float, from_wav, resample, to_float
from allin.voice.piper import PiperTextToSpeech
from allin.voice.recording import ACCEPTED_RATE
from allin.voice.whisper import WhisperSpeechToText

_WORD = re.compile(r"[a-z0-9']+")
# What a browser sends at a time: 100 ms of 16 kHz pcm16.
CHUNK_BYTES = ACCEPTED_RATE // 10 * 2


@cache
def _piper() -> PiperTextToSpeech:
    return PiperTextToSpeech()


async def spoken_by_piper(text: str) -> bytes:
    speech = await _piper().synthesize(text)
    return _at_16k(speech.pcm, speech.sample_rate)


@cache
def _whisper() -> WhisperSpeechToText:
    return WhisperSpeechToText()


async def clearly_spoken(text: str, attempts: int = 5) -> bytes:
    """`text` spoken by Piper, padded with silence, in a rendering the app's speech-to-text model
    hears word for word. Piper's voice varies at random from one rendering to the next, and
    Whisper tiny.en mishears about one short question in six ("Hey, where are you?"); tests of the
    rest of the pipeline use a rendering known to be heard right (the word error test measures the
    hearing itself)."""
    for _ in range(attempts):
        pcm = silence(0.3) + await spoken_by_piper(text) + silence(0.5)
        if word_error_rate(text, await _whisper().transcribe(pcm, ACCEPTED_RATE)) == 0:
            return pcm
    raise AssertionError(f"Whisper did not hear {text!r} right in {attempts} renderings")


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

"""pcm16 helpers: duration, resampling, WAV files."""

from __future__ import annotations

import io
import wave

import numpy as np
import numpy.typing as npt

SAMPLE_WIDTH = 2


def duration_ms(pcm: bytes | bytearray, sample_rate: int) -> int:
    return round(len(pcm) / SAMPLE_WIDTH / sample_rate * 1000)


def to_float(pcm: bytes) -> npt.NDArray[np.float32]:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def from_float(samples: npt.NDArray[np.float32]) -> bytes:
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def resample(samples: npt.NDArray[np.float32], rate: int, target: int) -> npt.NDArray[np.float32]:
    """Linear interpolation: enough for speech models, which band-limit their input anyway."""
    if rate == target or samples.size == 0:
        return samples
    count = max(1, round(samples.size * target / rate))
    positions = np.linspace(0, samples.size - 1, count)
    return np.interp(positions, np.arange(samples.size), samples).astype(np.float32)


def to_wav(pcm: bytes, sample_rate: int) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm)
    return out.getvalue()


def from_wav(data: bytes) -> tuple[bytes, int]:
    """The pcm16 mono frames and rate of a WAV file (the first channel of a stereo one)."""
    with wave.open(io.BytesIO(data), "rb") as wav:
        if wav.getsampwidth() != SAMPLE_WIDTH:
            raise ValueError("only 16-bit WAV files are supported")
        frames = wav.readframes(wav.getnframes())
        channels = wav.getnchannels()
        rate = wav.getframerate()
    if channels > 1:
        frames = np.frombuffer(frames, dtype="<i2")[::channels].tobytes()
    return frames, rate

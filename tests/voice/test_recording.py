"""The order and limits of one socket's recordings, whatever engine hears them."""

from __future__ import annotations

import pytest

from allin.chat.frames import AudioStartIn
from allin.errors import BadRequest, TooLarge
from allin.voice.recording import MAX_FRAME_BYTES, Microphone

START = AudioStartIn(type="audio_start", format="pcm16", sample_rate=16000)


def test_a_recording_is_its_frames_in_order() -> None:
    microphone = Microphone(max_seconds=1)
    microphone.start(START)
    microphone.add(b"\x01\x00")
    microphone.add(b"\x02\x00")
    finished = microphone.finish()
    assert finished is not None and finished[1] == b"\x01\x00\x02\x00"
    assert microphone.recording is None


@pytest.mark.parametrize(
    "chunk", [bytes(MAX_FRAME_BYTES + 2), bytes(32_002)], ids=["frame too big", "too long"]
)
def test_a_refused_frame_drops_its_whole_recording_and_is_told_once(chunk: bytes) -> None:
    microphone = Microphone(max_seconds=1)  # 32,000 bytes at 16 kHz
    microphone.start(START)
    microphone.add(bytes(100))
    with pytest.raises(TooLarge, match="dropped"):
        microphone.add(chunk)
    assert microphone.add(bytes(100)) is None  # the rest of it is ignored
    assert microphone.finish() is None
    with pytest.raises(BadRequest, match="send audio_start first"):
        microphone.finish()  # and then it is over: a new recording must start


def test_frames_out_of_order_are_refused() -> None:
    microphone = Microphone(max_seconds=1)
    with pytest.raises(BadRequest, match="must follow an audio_start"):
        microphone.add(bytes(2))
    microphone.start(START)
    with pytest.raises(BadRequest, match="already in progress"):
        microphone.start(START)

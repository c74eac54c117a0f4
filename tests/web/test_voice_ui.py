"""Voice in a real headless Chromium: its fake microphone plays a WAV of someone asking "What is
your name?" (spoken by Piper at test time), the page records it through its AudioWorklet and
sends it on the chat socket, the offline voice server (Whisper, Piper) transcribes and answers it
aloud, and the page shows the transcript, streams the answer, plays its audio, stops it on Stop,
and lists the spoken turns with play buttons after a reload."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
from playwright.sync_api import Browser, Page, Playwright, expect

from allin.app import create_app
from allin.config import Settings
from allin.voice.audio import from_float, to_float, to_wav
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.servers import serve_ready
from tests.support.speech import clearly_spoken
from tests.web.test_browser import bubbles, sign_up

RATE = 16000
# What the fake microphone hears, in a loop: silence, the question, silence. A recording of
# RECORD_MS from its start holds the question once.
LEAD_IN_S = 0.5
TAIL_S = 1.5
RECORD_MS = 2500
SPEECH_PEAK = 0.5
# What the fake microphone asks: an identity question, which the offline model answers as Allin by
# Team 8. Its telling words come last: a recording started by the voice itself (hands-free, or
# talking over an answer) can lose its first syllable to the browser's echo canceller and gain
# control, and Whisper then hears "Who are you?" as "Hey, where are you?" (seen under CPU load);
# "What is your name?" clipped the same way is still heard as "… is your name".
QUESTION = "What is your name?"
ASKED = re.compile(r"\byour name\b", re.IGNORECASE)
# Transcribing and answering take seconds of CPU (Whisper, then Piper sentence by sentence).
SLOW_MS = 20_000
# The answer's words arrive this slowly, so its audio is still being sent when the question, said
# again, stops it (the server's `audio_end` then says `stopped`): the identity answer is about 40
# words, spoken in a few seconds on a quiet machine, less than the microphone's loop takes.
TOKEN_DELAY_MS = 150


def speech_wav(path: Path, text: str | None) -> Path:
    """A 16 kHz mono 16-bit WAV of `text` spoken by Piper between silences (silence only for
    None)."""
    samples = np.zeros(0, dtype=np.float32)
    if text is not None:
        # In a thread of its own: Playwright's sync API runs an event loop in this one.
        with ThreadPoolExecutor(1) as pool:
            samples = to_float(pool.submit(asyncio.run, clearly_spoken(text)).result())
        # Piper speaks at full scale: leave the browser's gain control room not to clip it.
        samples *= SPEECH_PEAK / max(float(np.abs(samples).max()), 1e-6)
    lead_in = np.zeros(int(RATE * LEAD_IN_S), dtype=np.float32)
    tail = np.zeros(int(RATE * TAIL_S), dtype=np.float32)
    path.write_bytes(to_wav(from_float(np.concatenate([lead_in, samples, tail])), RATE))
    return path


def launch_with_microphone(playwright: Playwright, wav: Path) -> Browser:
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",  # grant the microphone without asking
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={wav}",
            "--autoplay-policy=no-user-gesture-required",
        ],
    )


@pytest.fixture(scope="module")
def voice_server(voice_settings: Settings) -> Iterator[str]:
    """The app with offline voice on, its answers written at a talking pace."""
    slow = voice_settings.model_copy(update={"offline_token_delay_ms": TOKEN_DELAY_MS})
    with serve_ready(create_app(slow)) as url:
        yield url


@pytest.fixture(scope="module")
def browser(playwright: Playwright, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    wav = speech_wav(tmp_path_factory.mktemp("voice-ui") / "question.wav", QUESTION)
    browser = launch_with_microphone(playwright, wav)
    yield browser
    browser.close()


def voice_state(page: Page, name: str) -> object:
    return page.evaluate(f"window.allinVoice.{name}")


def spoken_turn_ids(page: Page, base_url: str) -> list[int]:
    """The page's chat's spoken turns, as the REST API lists them."""
    session = page.evaluate("JSON.parse(localStorage.getItem('allin.session'))")
    chat_id = page.evaluate("location.hash.slice(4)")
    response = httpx.get(
        f"{base_url}/api/v1/voice/{session['userId']}/{chat_id}",
        headers={"Authorization": f"Bearer {session['token']}"},
    )
    assert response.status_code == 200, response.text
    return [turn["turn_id"] for turn in response.json()["turns"]]


def record_question(page: Page) -> None:
    """Press the microphone, let it hear the question, press it again to send the recording."""
    mic = page.get_by_test_id("mic")
    composer = page.get_by_test_id("composer-form")
    expect(mic).to_have_attribute("aria-label", "Speak your question")
    mic.click()
    expect(composer).to_have_attribute("data-voice", "recording")
    expect(mic).to_have_attribute("data-state", "recording")
    expect(mic).to_have_accessible_name("Stop recording and send")
    page.wait_for_timeout(RECORD_MS)  # the recording itself: the question is said meanwhile
    mic.click()
    expect(mic).not_to_have_attribute("data-state", "recording")
    assert isinstance(chunks := voice_state(page, "chunksSent"), int)
    assert chunks >= RECORD_MS // 100 - 2, chunks  # ~100 ms of 16 kHz pcm16 each


def test_spoken_question_is_transcribed_answered_aloud_and_kept(
    page: Page, voice_server: str
) -> None:
    sign_up(page, voice_server)
    record_question(page)

    transcript = page.get_by_test_id("voice-transcript")
    expect(transcript).to_have_text(ASKED, timeout=SLOW_MS)
    # The transcript became the question, and its answer streams in as text...
    expect(bubbles(page, "user")).to_have_text([ASKED])
    answer = page.get_by_test_id("message-assistant")
    expect(answer).to_have_count(1, timeout=SLOW_MS)
    expect(answer).to_contain_text("Allin")
    expect(answer).to_contain_text("Team 8")
    # ... and plays as audio.
    page.wait_for_function("() => window.allinVoice.chunksScheduled > 0", timeout=SLOW_MS)
    assert voice_state(page, "audioStarts") == 1
    expect(page.get_by_test_id("voice-error")).to_have_text("")
    expect(page.get_by_test_id("message-error")).to_have_count(0)

    # Once the answer is spoken in full it is stored too: both turns get a play button.
    play = page.get_by_role("button", name="Play audio")
    expect(play).to_have_count(2, timeout=SLOW_MS)
    assert voice_state(page, "audioEnds") == [
        {"turn_id": int(answer.get_attribute("data-turn-id") or 0), "stopped": False}
    ]

    page.reload()
    expect(bubbles(page, "user")).to_have_count(1)
    expect(bubbles(page, "assistant")).to_contain_text(["Team 8"])
    user_play = page.get_by_test_id("message-user").get_by_role("button", name="Play audio")
    answer_play = answer.get_by_role("button", name="Play audio")
    expect(user_play).to_have_count(1)
    expect(answer_play).to_have_count(1)
    expect(user_play).to_have_attribute("title", "Play your recording")

    with page.expect_response(re.compile(r"/api/v1/voice/.+/audio$")) as response_info:
        user_play.click()
    response = response_info.value
    assert response.status == 200
    assert response.headers["content-type"] == "audio/wav"
    # About RECORD_MS of 16 kHz pcm16 after a 44-byte header (the body itself Chromium does not
    # give Playwright for a fetch read as a blob).
    assert int(response.headers["content-length"]) > RATE * 2 * (RECORD_MS / 1000) * 0.9
    page.wait_for_function("() => window.allinVoice.clipsPlayed > 0")


def test_stop_cuts_the_spoken_answer_short(page: Page, voice_server: str) -> None:
    sign_up(page, voice_server)
    record_question(page)
    composer = page.get_by_test_id("composer-form")
    # Stop as soon as the answer is heard: the server is still speaking its later sentences.
    expect(composer).to_have_attribute("data-playback", "playing", timeout=SLOW_MS)
    stop = page.get_by_test_id("stop")
    expect(stop).to_be_visible()
    stop.click()

    expect(composer).to_have_attribute("data-playback", "stopped")
    scheduled = voice_state(page, "chunksScheduled")
    page.wait_for_function("() => window.allinVoice.audioEnds.length > 0")
    assert voice_state(page, "audioEnds")[0]["stopped"] is True  # type: ignore[index]
    expect(stop).to_be_hidden()
    # The audio the server sent before it stopped was not played, and the cancel raised no error.
    assert voice_state(page, "chunksScheduled") == scheduled
    expect(composer).to_have_attribute("data-playback", "stopped")
    expect(page.get_by_test_id("voice-error")).to_have_text("")
    expect(page.get_by_test_id("message-error")).to_have_count(0)
    # The question keeps its recording; the answer, stopped, has no audio.
    question = page.get_by_test_id("message-user")
    expect(question.get_by_role("button", name="Play audio")).to_have_count(1)
    answer = page.get_by_test_id("message-assistant")
    expect(answer.get_by_role("button", name="Play audio")).to_have_count(0)
    assert spoken_turn_ids(page, voice_server) == [int(question.get_attribute("data-turn-id") or 0)]


def test_speaking_over_the_answer_stops_it_and_asks_again(page: Page, voice_server: str) -> None:
    sign_up(page, voice_server)
    record_question(page)
    composer = page.get_by_test_id("composer-form")
    expect(composer).to_have_attribute("data-playback", "playing", timeout=SLOW_MS)

    # Pressing the microphone while the answer plays stops it, here and on the server.
    record_question(page)
    assert voice_state(page, "playback") == "stopped"
    answers = page.get_by_test_id("message-assistant")
    expect(bubbles(page, "user")).to_have_count(2, timeout=SLOW_MS)
    expect(answers).to_have_count(2, timeout=SLOW_MS)
    expect(answers.last).to_contain_text("Team 8")
    page.wait_for_function("() => window.allinVoice.audioStarts === 2", timeout=SLOW_MS)
    ends = voice_state(page, "audioEnds")
    assert isinstance(ends, list) and ends[0]["stopped"] is True, ends
    expect(composer).to_have_attribute("data-playback", "playing", timeout=SLOW_MS)
    expect(page.get_by_test_id("voice-error")).to_have_text("")
    expect(page.get_by_test_id("message-error")).to_have_count(0)


def test_hands_free_talking_over_the_answer_interrupts_it(page: Page, voice_server: str) -> None:
    sign_up(page, voice_server)
    toggle = page.get_by_test_id("hands-free")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    composer = page.get_by_test_id("composer-form")

    # One press: the recording ends by itself once the question has been said.
    page.get_by_test_id("mic").click()
    expect(composer).to_have_attribute("data-voice", "recording")
    page.wait_for_function("() => window.allinVoice.endedByQuiet === 1", timeout=SLOW_MS)
    expect(bubbles(page, "user")).to_have_text([ASKED])
    # While the answer plays the microphone listens, and hears the question asked again: the
    # answer stops, here and on the server, and what was said is the next question.
    page.wait_for_function("() => window.allinVoice.bargeIns === 1", timeout=SLOW_MS)
    page.wait_for_function("() => window.allinVoice.audioEnds.length > 0", timeout=SLOW_MS)
    ends = voice_state(page, "audioEnds")
    assert isinstance(ends, list) and ends[0]["stopped"] is True, ends
    page.wait_for_function("() => window.allinVoice.endedByQuiet === 2", timeout=SLOW_MS)
    users = bubbles(page, "user")
    expect(users.nth(1)).to_have_text(ASKED, timeout=SLOW_MS)
    expect(page.get_by_test_id("message-assistant").nth(1)).to_contain_text(
        "Team 8", timeout=SLOW_MS
    )
    expect(page.get_by_test_id("voice-error")).to_have_text("")
    expect(page.get_by_test_id("message-error")).to_have_count(0)

    page.reload()
    expect(page.get_by_test_id("hands-free")).to_have_attribute("aria-pressed", "true")
    page.get_by_test_id("hands-free").click()
    expect(page.get_by_test_id("hands-free")).to_have_attribute("aria-pressed", "false")


def test_voice_turned_off_on_the_server_offers_no_microphone(page: Page, live_server: str) -> None:
    sign_up(page, live_server)
    expect(page.get_by_test_id("mic")).to_be_hidden()
    expect(page.get_by_test_id("hands-free")).to_be_hidden()
    page.get_by_test_id("composer").fill("hello")
    page.get_by_test_id("composer").press("Enter")
    expect(page.get_by_test_id("message-assistant")).to_have_count(1)
    expect(page.get_by_test_id("message-error")).to_have_count(0)


def test_voice_turned_off_after_the_page_loaded_says_so(page: Page, live_server: str) -> None:
    # A page loaded while voice was on, from a server restarted with it off, offers a mic the
    # server refuses: the refusal is said once, not once per audio frame.
    page.route(
        "**/api/v1/config",
        lambda route: route.fulfill(json={**route.fetch().json(), "voice": True}),
    )
    sign_up(page, live_server)
    page.get_by_test_id("mic").click()
    expect(page.get_by_test_id("voice-error")).to_have_text(
        "Voice is turned off on this server (ALLIN_VOICE=off)."
    )
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "idle")
    expect(page.get_by_test_id("composer-form")).to_have_attribute("data-voice", "idle")
    page.wait_for_function("() => window.allinVoice.errorsQuieted === window.allinVoice.chunksSent")
    expect(page.get_by_test_id("message-error")).to_have_count(0)


def test_denied_microphone_says_so(page: Page, voice_server: str) -> None:
    page.add_init_script(
        """navigator.mediaDevices.getUserMedia = () =>
             Promise.reject(new DOMException("Permission denied", "NotAllowedError"));"""
    )
    sign_up(page, voice_server)
    page.get_by_test_id("mic").click()
    expect(page.get_by_test_id("voice-error")).to_contain_text("Microphone access was denied")
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "idle")
    expect(page.get_by_test_id("mic")).to_be_enabled()
    expect(page.get_by_test_id("message-user")).to_have_count(0)


def test_silence_is_not_a_question(
    playwright: Playwright, tmp_path: Path, voice_server: str
) -> None:
    browser = launch_with_microphone(playwright, speech_wav(tmp_path / "silence.wav", None))
    try:
        page = browser.new_page()
        sign_up(page, voice_server)
        record_question(page)
        error = page.get_by_test_id("voice-error")
        expect(error).to_have_text(
            "No speech was heard in the recording; nothing was stored.", timeout=SLOW_MS
        )
        expect(page.get_by_test_id("voice-status")).to_have_text("")
        expect(page.get_by_test_id("mic")).to_be_enabled()
        expect(page.get_by_test_id("message-user")).to_have_count(0)
        expect(page.get_by_test_id("message-error")).to_have_count(0)
    finally:
        browser.close()

"""Offline voice through the real app and a real WebSocket client, with real speech: questions
spoken by Piper and by espeak-ng, heard by Whisper, answered as text and in Piper's voice, stored
with their audio."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from allin.app import create_app
from allin.config import Settings
from allin.voice.audio import from_wav
from tests.conftest import ws_url
from tests.support.accounts import Account, sign_up
from tests.support.servers import serve_ready
from tests.support.speech import (
    CHUNK_BYTES,
    clearly_spoken,
    of_type,
    say,
    silence,
    spoken_by_espeak,
    spoken_by_piper,
    spoken_turn,
    word_error_rate,
)
from tests.support.wsclient import ask, next_frame, send

# Whisper tiny.en on clear synthetic speech, measured here over these questions: Piper's voice
# (the app's own, natural, rendered steadily) at a mean word error of 0.03 ("test" for "tests"),
# espeak-ng's robotic formant voice at 0.2. Both renderings are the same in every run; the bounds
# catch a broken path: a wrong sample rate, truncated or misordered frames give word errors near 1.
QUESTIONS = (
    "How do I run the tests for this project?",
    "How many vacation days do I get?",
    "What is the difference between a process and a thread?",
    "Where do I find the deployment checklist?",
)
MEAN_WER_BOUND = {"piper": 0.15, "espeak-ng": 0.35}


@pytest.fixture
async def voice_account(voice_server: str) -> Account:
    return await sign_up(voice_server)


@pytest.fixture
async def socket(voice_server: str, voice_account: Account) -> AsyncIterator[ClientConnection]:
    async with connect(ws_url(voice_server, voice_account, new_chat())) as opened:
        yield opened


def new_chat() -> str:
    return f"v-{uuid.uuid4().hex[:8]}"


def chat_of(socket: ClientConnection) -> str:
    return socket.request.path.split("/")[3].split("?")[0]  # type: ignore[union-attr]


async def history(base_url: str, account: Account, chat: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base_url, headers=account.headers) as http:
        return await http.get(f"/api/v1/chat/history/{account.user_id}/{chat}")


async def voice_turns(base_url: str, account: Account, chat: str) -> list[dict[str, object]]:
    async with httpx.AsyncClient(base_url=base_url, headers=account.headers) as http:
        response = await http.get(f"/api/v1/voice/{account.user_id}/{chat}")
    assert response.status_code == 200, response.text
    turns: list[dict[str, object]] = response.json()["turns"]
    return turns


async def test_asked_aloud_who_it_is_allin_answers_in_text_and_voice_and_keeps_both(
    voice_server: str, voice_account: Account, socket: ClientConnection
) -> None:
    question = await clearly_spoken("Who are you?")
    await say(socket, question)
    turn = await spoken_turn(socket)
    kinds = [frame["type"] for frame in turn["frames"]]
    # Heard, asked, answered as text while being spoken, then the audio is over.
    assert kinds[0] == "transcript" and kinds[1] == "ack", kinds
    assert kinds[-1] == "audio_end" and "done" in kinds and "audio_start" in kinds, kinds
    (transcript,) = of_type(turn, "transcript")
    assert transcript["final"] and word_error_rate("Who are you?", transcript["text"]) == 0
    (ack,) = of_type(turn, "ack")
    assert ack["turn"]["content"] == transcript["text"]
    (done,) = of_type(turn, "done")
    answer = done["turn"]
    assert "Allin" in answer["content"] and "Team 8" in answer["content"]
    (audio_start,) = of_type(turn, "audio_start")
    assert audio_start == {
        "type": "audio_start",
        "format": "pcm16",
        "sample_rate": 22050,
        "turn_id": answer["id"],
    }
    assert of_type(turn, "audio_end")[0] == {
        "type": "audio_end",
        "turn_id": answer["id"],
        "stopped": False,
    }
    # Seconds of speech, not a click: the answer is several sentences long.
    assert len(turn["audio"]) / 2 / 22050 > 3

    chat = chat_of(socket)
    stored = (await history(voice_server, voice_account, chat)).json()["turns"]
    assert [t["content"] for t in stored] == [transcript["text"], answer["content"]]
    recorded = await voice_turns(voice_server, voice_account, chat)
    assert [t["turn_id"] for t in recorded] == [ack["turn"]["id"], answer["id"]]
    asked, spoken = recorded
    assert asked["engine"] == "whisper-tiny.en" and asked["sample_rate"] == 16000
    assert asked["transcript"] == transcript["text"]
    assert abs(int(str(asked["duration_ms"])) - len(question) / 32) < 2
    assert spoken["engine"] == "piper-joe-medium" and spoken["sample_rate"] == 22050
    async with httpx.AsyncClient(base_url=voice_server, headers=voice_account.headers) as http:
        wav = await http.get(f"/api/v1/voice/{voice_account.user_id}/{chat}/{answer['id']}/audio")
        mine = await http.get(
            f"/api/v1/voice/{voice_account.user_id}/{chat}/{ack['turn']['id']}/audio"
        )
    assert wav.status_code == 200 and wav.headers["content-type"] == "audio/wav"
    assert from_wav(wav.content) == (turn["audio"], 22050)
    assert from_wav(mine.content) == (question, 16000)


@pytest.mark.parametrize("voice", ["piper", "espeak-ng"])
async def test_spoken_questions_are_transcribed_within_a_word_error_bound(
    socket: ClientConnection, voice: str
) -> None:
    speak = spoken_by_piper if voice == "piper" else spoken_by_espeak
    errors = []
    for question in QUESTIONS:
        await say(socket, silence(0.2) + await speak(question) + silence(0.3))
        turn = await spoken_turn(socket)
        assert of_type(turn, "done") and turn["audio"], turn["frames"][:3]
        (transcript,) = of_type(turn, "transcript")
        errors.append(word_error_rate(question, transcript["text"]))
    assert sum(errors) / len(errors) <= MEAN_WER_BOUND[voice], errors


async def test_clients_are_told_voice_is_on(voice_server: str) -> None:
    async with httpx.AsyncClient(base_url=voice_server) as http:
        assert (await http.get("/api/v1/config")).json()["voice"] is True


async def test_silence_is_not_a_question_and_nothing_is_stored(
    voice_server: str, voice_account: Account, socket: ClientConnection
) -> None:
    await say(socket, silence(1.5))
    turn = await spoken_turn(socket)
    assert [f["type"] for f in turn["frames"]] == ["transcript", "error"]
    assert turn["frames"][0] == {"type": "transcript", "text": "", "final": True}
    assert turn["frames"][1]["code"] == "bad_request"
    assert "no speech" in turn["frames"][1]["message"]
    assert (await history(voice_server, voice_account, chat_of(socket))).status_code == 404
    # The socket is still usable.
    assert (await ask(socket, "m1", "hello"))[-1]["type"] == "done"


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ({"format": "pcm16", "sample_rate": 44100}, "sample rate 44100 Hz is not supported"),
        ({"format": "opus", "sample_rate": 16000}, "audio format 'opus' is not supported"),
        ({"format": "pcm16"}, "sample_rate"),
    ],
)
async def test_a_recording_in_a_format_not_accepted_is_refused(
    socket: ClientConnection, start: dict[str, object], message: str
) -> None:
    await send(socket, type="audio_start", **start)
    error = await next_frame(socket)
    assert error["type"] == "error" and error["code"] == "bad_request"
    assert message in error["message"]
    # Its audio is refused too: no recording was started.
    await socket.send(silence(0.1))
    assert "must follow an audio_start" in (await next_frame(socket))["message"]


async def test_audio_out_of_order_is_refused_and_the_socket_stays_usable(
    voice_server: str, voice_account: Account, socket: ClientConnection
) -> None:
    await socket.send(silence(0.1))
    assert "must follow an audio_start" in (await next_frame(socket))["message"]
    await send(socket, type="audio_end")
    assert "send audio_start first" in (await next_frame(socket))["message"]
    await send(socket, type="audio_start", format="pcm16", sample_rate=16000)
    await send(socket, type="audio_start", format="pcm16", sample_rate=16000)
    assert "already in progress" in (await next_frame(socket))["message"]
    await socket.send(b"\x01\x02\x03")  # half a sample at the end
    await send(socket, type="audio_end")
    error = await next_frame(socket)
    assert error["code"] == "bad_request" and "even number of bytes" in error["message"]
    assert (await history(voice_server, voice_account, chat_of(socket))).status_code == 404
    assert (await ask(socket, "m1", "still there?"))[-1]["type"] == "done"


async def test_a_recording_over_the_limit_is_dropped_whole(
    voice_settings: Settings, voice_account: Account
) -> None:
    short = voice_settings.model_copy(update={"voice_max_seconds": 2.0})
    with serve_ready(create_app(short)) as base_url:
        chat = new_chat()
        async with connect(ws_url(base_url, voice_account, chat)) as socket:
            await send(socket, type="audio_start", format="pcm16", sample_rate=16000)
            speech = await spoken_by_piper("This question goes on for far too long to be heard.")
            for offset in range(0, len(speech), CHUNK_BYTES):
                await socket.send(speech[offset : offset + CHUNK_BYTES])
            await send(socket, type="audio_end")
            error = await next_frame(socket)
            assert error["code"] == "too_large" and "limited to 2 s" in error["message"]
            # Told once: the rest of the refused recording raises nothing more.
            await send(socket, type="ping")
            assert await next_frame(socket) == {"type": "pong"}
        assert (await history(base_url, voice_account, chat)).status_code == 404


@pytest.fixture(scope="module")
def slow_voice_server(voice_settings: Settings) -> Iterator[str]:
    """Offline voice with an answer written slowly enough to interrupt it while it is spoken."""
    slow = voice_settings.model_copy(update={"offline_token_delay_ms": 40})
    with serve_ready(create_app(slow)) as url:
        yield url


async def test_cancel_while_the_answer_is_spoken_stops_it(slow_voice_server: str) -> None:
    account = await sign_up(slow_voice_server)
    chat = new_chat()
    async with connect(ws_url(slow_voice_server, account, chat)) as socket:
        await say(socket, await clearly_spoken("Who are you?"))
        while (await next_frame_or_audio(socket)).get("type") != "audio_start":
            pass
        await send(socket, type="cancel")
        rest = await spoken_turn(socket)
    audio_end = of_type(rest, "audio_end")[0]
    assert audio_end["stopped"] is True
    stored = (await history(slow_voice_server, account, chat)).json()["turns"]
    assert stored[-1]["metadata"]["status"] == "cancelled"
    # Only the question's audio is kept: the answer was not spoken whole.
    assert len(await voice_turns(slow_voice_server, account, chat)) == 1


async def test_speaking_again_while_the_answer_is_spoken_interrupts_it(
    slow_voice_server: str,
) -> None:
    account = await sign_up(slow_voice_server)
    chat = new_chat()
    async with connect(ws_url(slow_voice_server, account, chat)) as socket:
        await say(socket, await clearly_spoken("Who are you?"))
        while (await next_frame_or_audio(socket)).get("type") != "audio_start":
            pass
        await say(socket, await clearly_spoken("How many vacation days do I get?"))
        frames = []
        while True:
            frame = await next_frame_or_audio(socket)
            frames.append(frame)
            if frame.get("type") == "audio_end" and not frame["stopped"]:
                break
    stopped = [f for f in frames if f.get("type") == "audio_end" and f["stopped"]]
    assert len(stopped) == 1, "the first answer's audio was stopped"
    transcripts = [f["text"] for f in frames if f.get("type") == "transcript"]
    assert word_error_rate("How many vacation days do I get?", transcripts[-1]) <= 0.2
    stored = (await history(slow_voice_server, account, chat)).json()["turns"]
    assert [t["role"] for t in stored] == ["user", "assistant", "user", "assistant"]
    # Which of the two the first answer is depends on the machine's speed: speech is synthesized
    # more slowly than the text is written, so under load the text is often whole before the
    # barge-in and only its audio is cut.
    if "status" in stored[1]["metadata"]:
        assert stored[1]["metadata"]["status"] == "cancelled"
    else:
        assert stored[1]["content"], "the text was written whole before the barge-in"
    assert "status" not in stored[3]["metadata"]
    # Either way the first answer was not heard whole, so its audio is not kept: the two questions'
    # recordings and the second answer's.
    recorded = {t["turn_id"] for t in await voice_turns(slow_voice_server, account, chat)}
    assert recorded == {stored[0]["id"], stored[2]["id"], stored[3]["id"]}


async def test_a_client_that_leaves_after_speaking_still_gets_the_turn_stored(
    voice_server: str, voice_account: Account
) -> None:
    chat = new_chat()
    async with connect(ws_url(voice_server, voice_account, chat)) as socket:
        await say(socket, await clearly_spoken("Who are you?"))
    # Gone before anything came back: the turn runs on, and both recordings are kept.
    async with connect(ws_url(voice_server, voice_account, chat)) as socket:
        await send(socket, type="resume", last_seq=0)
        while (await next_frame(socket))["type"] != "done":
            pass
    for _ in range(100):
        if len(await voice_turns(voice_server, voice_account, chat)) == 2:
            break
        await asyncio_sleep(0.1)
    assert len(await voice_turns(voice_server, voice_account, chat)) == 2


async def test_deleting_a_chat_deletes_its_audio(
    voice_server: str, voice_account: Account, voice_settings: Settings, socket: ClientConnection
) -> None:
    await say(socket, await clearly_spoken("Who are you?"))
    await spoken_turn(socket)
    chat = chat_of(socket)
    files = sorted((voice_settings.data_dir / "blobs" / "audio").rglob(f"{chat}/*.wav"))
    assert len(files) == 2
    async with httpx.AsyncClient(base_url=voice_server, headers=voice_account.headers) as http:
        deleted = await http.delete(f"/api/v1/chat/chats/{voice_account.user_id}/{chat}")
        assert deleted.status_code == 204
        gone = await http.get(f"/api/v1/voice/{voice_account.user_id}/{chat}")
    assert gone.status_code == 404
    assert not any(path.exists() for path in files)


async def test_another_user_cannot_list_or_fetch_the_audio(
    voice_server: str, voice_account: Account, socket: ClientConnection
) -> None:
    await say(socket, await clearly_spoken("Who are you?"))
    turn = await spoken_turn(socket)
    answer_id = of_type(turn, "done")[0]["turn"]["id"]
    chat = chat_of(socket)
    intruder = await sign_up(voice_server)
    base = f"/api/v1/voice/{voice_account.user_id}/{chat}"
    async with httpx.AsyncClient(base_url=voice_server, headers=intruder.headers) as http:
        assert (await http.get(base)).status_code == 403
        assert (await http.get(f"{base}/{answer_id}/audio")).status_code == 403
        own = f"/api/v1/voice/{intruder.user_id}/{chat}/{answer_id}/audio"
        assert (await http.get(own)).status_code == 404


async def next_frame_or_audio(socket: ClientConnection) -> dict[str, object]:
    """The next JSON frame, skipping binary audio frames (returned as {})."""
    message = await socket.recv()
    return {} if isinstance(message, bytes) else dict(json.loads(message))


async def asyncio_sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)

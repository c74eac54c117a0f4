"""Live voice through the real app, the real `google-genai` SDK and a real socket client, against
a local TLS server speaking the Gemini Live protocol (`tests/support/fake_live.py`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection, connect

from allin.app import create_app
from allin.config import EmbedderProvider, Settings, VoiceMode
from allin.embeddings.minilm import load_model
from allin.voice.live_link import CONNECT_ATTEMPTS
from tests.conftest import ws_url
from tests.support.accounts import Account, sign_up
from tests.support.fake_live import FakeLive, LiveTurn, make_certificate, tone
from tests.support.servers import serve_ready
from tests.support.wsclient import send

LIVE_MODEL = "gemini-2.0-flash-live-001"
SPOKEN = tone(600, 16000)
# 3 answer chunks of 200 ms at 24 kHz, pcm16.
ANSWER_AUDIO_BYTES = 3 * 24000 * 2 // 5
Frames = list[dict[str, Any]]


@pytest.fixture(scope="module")
def fake_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeLive, Path]]:
    cert, key = make_certificate(tmp_path_factory.mktemp("live-tls"))
    with FakeLive(cert, key).running() as fake:
        yield fake, cert


@pytest.fixture(scope="module")
def live_app(settings: Settings, fake_live: tuple[FakeLive, Path]) -> Iterator[str]:
    fake, cert = fake_live
    live_settings = settings.model_copy(
        update={
            "voice": VoiceMode.LIVE,
            "gemini_api_key": SecretStr(fake.api_key),
            "gemini_base_url": fake.url,
            "gemini_live_ca_file": cert,
            # The key would otherwise pick Gemini embeddings, which this fake does not serve.
            "embedder": EmbedderProvider.MINILM,
            # How long a silent recording waits for an answer that will not come.
            "llm_stall_timeout_s": 1.5,
        }
    )
    # Loading torch and the embedding model (shared by the process) can take longer than the
    # server's start-up allowance on a busy machine when this is the first app of the run.
    load_model()
    with serve_ready(create_app(live_settings)) as url:
        yield url


@pytest.fixture
def fake(fake_live: tuple[FakeLive, Path]) -> FakeLive:
    live = fake_live[0]
    live.reset()
    return live


@pytest.fixture
async def speaker(live_app: str) -> Account:
    return await sign_up(live_app)


async def speak(socket: ClientConnection, pcm: bytes = SPOKEN) -> None:
    await send(socket, type="audio_start", format="pcm16", sample_rate=16000)
    for start in range(0, len(pcm), 3200):
        await socket.send(pcm[start : start + 3200])
    await send(socket, type="audio_end")


async def receive_until(socket: ClientConnection, enough: Callable[[Frames], bool]) -> Frames:
    """Frames (binary ones as `{"type": "binary"}`) until `enough` says so."""
    frames: Frames = []
    async with asyncio.timeout(10):
        while not enough(frames):
            message = await socket.recv()
            if isinstance(message, bytes):
                frames.append({"type": "binary", "data": message})
            else:
                frames.append(json.loads(message))
    return frames


def answered(frames: Frames) -> bool:
    kinds = [frame["type"] for frame in frames]
    return "error" in kinds or ("done" in kinds and "audio_end" in kinds)


def of_type(frames: Frames, kind: str) -> Frames:
    return [frame for frame in frames if frame["type"] == kind]


async def spoken_turn(socket: ClientConnection, pcm: bytes = SPOKEN) -> Frames:
    await speak(socket, pcm)
    return await receive_until(socket, answered)


async def until(condition: Callable[[], bool], what: str) -> None:
    """Poll `condition`: it depends on other threads (the fake's, the database)."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def get(base_url: str, account: Account, path: str) -> Any:
    async with httpx.AsyncClient(base_url=base_url, headers=account.headers) as http:
        response = await http.get(path)
    assert response.status_code == 200, response.text
    return response.json() if "json" in response.headers["content-type"] else response.content


def stored_handle(database_url: str, account: Account, chat: str) -> str | None:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "select handle from voice_sessions where user_id = %s and chat_id = %s",
            (account.user_id, chat),
        ).fetchone()
    return None if row is None else str(row[0])


async def test_spoken_turn_is_heard_answered_aloud_and_stored(
    live_app: str, fake: FakeLive, speaker: Account, database_url: str
) -> None:
    async with connect(ws_url(live_app, speaker, "talk")) as socket:
        frames = await spoken_turn(socket)

    transcripts = of_type(frames, "transcript")
    assert [(t["text"], t["final"]) for t in transcripts] == [
        ("who", False),
        ("who are you", False),
        ("who are you", True),
    ]
    (ack,) = of_type(frames, "ack")
    (done,) = of_type(frames, "done")
    question, answer = ack["turn"], done["turn"]
    assert question["content"] == "who are you" and answer["reply_to"] == question["id"]
    text = "I'm Allin, an assistant made by Team 8."
    assert "".join(t["text"] for t in of_type(frames, "token")) == text == answer["content"]
    assert answer["metadata"]["model"] == f"gemini:{LIVE_MODEL}"
    # The answer's audio is Live's own, at its rate, named after the answer.
    (start,) = of_type(frames, "audio_start")
    (end,) = of_type(frames, "audio_end")
    assert start == {
        "type": "audio_start",
        "format": "pcm16",
        "sample_rate": 24000,
        "turn_id": answer["id"],
    }
    assert end["turn_id"] == answer["id"] and end["stopped"] is False
    audio = b"".join(frame["data"] for frame in of_type(frames, "binary"))
    assert len(audio) == ANSWER_AUDIO_BYTES
    kinds = [frame["type"] for frame in frames]
    assert kinds.index("ack") > kinds.index("transcript")
    assert kinds.index("audio_start") < kinds.index("binary") < kinds.index("audio_end")

    # What Live was told, with the real SDK's wire format.
    (upstream,) = fake.connections
    assert upstream.path.endswith(".GenerativeService.BidiGenerateContent")
    setup = upstream.setup
    assert setup["model"] == f"models/{LIVE_MODEL}"
    assert setup["generationConfig"]["responseModalities"] == ["AUDIO"]
    assert "Allin" in upstream.system and "Team 8" in upstream.system
    assert setup["inputAudioTranscription"] == {} and setup["outputAudioTranscription"] == {}
    assert "sliding_window" in setup["contextWindowCompression"]
    assert upstream.resumed_from is None and "sessionResumption" in setup
    assert bytes(upstream.audio) == SPOKEN and upstream.stream_ends == 1

    # The same record as a typed turn, plus the audio of both.
    history = await get(live_app, speaker, f"/api/v1/chat/history/{speaker.user_id}/talk")
    assert [(t["role"], t["content"]) for t in history["turns"]] == [
        ("user", "who are you"),
        ("assistant", text),
    ]
    voice = await get(live_app, speaker, f"/api/v1/voice/{speaker.user_id}/talk")
    heard, said = voice["turns"]
    assert (heard["turn_id"], heard["engine"], heard["sample_rate"]) == (
        question["id"],
        LIVE_MODEL,
        16000,
    )
    assert heard["duration_ms"] == 600 and heard["transcript"] == "who are you"
    assert (said["turn_id"], said["sample_rate"], said["duration_ms"]) == (answer["id"], 24000, 600)
    wav = await get(
        live_app, speaker, f"/api/v1/voice/{speaker.user_id}/talk/{question['id']}/audio"
    )
    assert wav[:4] == b"RIFF" and wav.endswith(SPOKEN)
    await until(lambda: stored_handle(database_url, speaker, "talk") == "handle-1", "handle")


async def test_go_away_reconnects_with_the_stored_handle(
    live_app: str, fake: FakeLive, speaker: Account, database_url: str
) -> None:
    fake.go_away_after = 1
    fake.script = [LiveTurn(), LiveTurn("what can you do", ("I help", " new engineers."))]
    async with connect(ws_url(live_app, speaker, "away")) as socket:
        await spoken_turn(socket)
        await until(lambda: len(fake.connections) == 2, "a second connection")
        first, second = fake.connections
        # The app left at `goAway` (a quiet moment), and came back where it was.
        await until(lambda: first.closed_by_client is not None, "the first to close")
        assert first.closed_by_client is True
        assert second.resumed_from == "handle-1" == stored_handle(database_url, speaker, "away")
        # A resumed session is not told the conversation again: it has it.
        assert second.client_content == []
        frames = await spoken_turn(socket, tone(400, 16000))

    (done,) = of_type(frames, "done")
    assert done["turn"]["content"] == "I help new engineers."
    assert of_type(frames, "transcript")[-1] == {
        "type": "transcript",
        "text": "what can you do",
        "final": True,
    }
    assert len(second.audio) == len(tone(400, 16000))
    history = await get(live_app, speaker, f"/api/v1/chat/history/{speaker.user_id}/away")
    assert [t["content"] for t in history["turns"]][2:] == [
        "what can you do",
        "I help new engineers.",
    ]
    await until(lambda: stored_handle(database_url, speaker, "away") == "handle-2", "handle")


async def test_dropped_connection_is_resumed_at_once(
    live_app: str, fake: FakeLive, speaker: Account
) -> None:
    fake.drop_after = 1
    async with connect(ws_url(live_app, speaker, "drop")) as socket:
        await spoken_turn(socket)
        await until(lambda: len(fake.connections) == 2, "a second connection")
        assert fake.connections[0].closed_by_client is False
        assert fake.connections[1].resumed_from == "handle-1"
        frames = await spoken_turn(socket)
    assert of_type(frames, "done") and not of_type(frames, "error")


async def test_network_failure_while_reconnecting_keeps_the_handle(
    live_app: str, fake: FakeLive, speaker: Account
) -> None:
    fake.drop_after = 1
    fake.refuse_attempts = {2}
    async with connect(ws_url(live_app, speaker, "flaky")) as socket:
        await spoken_turn(socket)
        await until(lambda: len(fake.connections) == 2, "a connection after the refused one")
        frames = await spoken_turn(socket)
    assert fake.refused == 1
    assert fake.connections[1].resumed_from == "handle-1"
    assert of_type(frames, "done") and not of_type(frames, "error")


async def test_refused_handle_starts_a_fresh_session_told_the_conversation(
    live_app: str, fake: FakeLive, speaker: Account
) -> None:
    fake.drop_after = 1
    fake.refuse_handles = True
    fake.script = [LiveTurn(), LiveTurn("what can you do", ("I help", " new engineers."))]
    async with connect(ws_url(live_app, speaker, "stale")) as socket:
        first = await spoken_turn(socket)
        await until(lambda: len(fake.connections) == 3, "a fresh connection")
        frames = await spoken_turn(socket)
    refused, fresh = fake.connections[1:]
    assert refused.resumed_from == "handle-1" and fresh.resumed_from is None
    # What the refused session knew is given to the fresh one as the chat so far.
    (told,) = fresh.client_content[:1]
    assert [(t["role"], t["parts"][0]["text"]) for t in told["turns"]] == [
        ("user", "who are you"),
        ("model", of_type(first, "done")[0]["turn"]["content"]),
    ]
    assert of_type(frames, "done")[0]["turn"]["content"] == "I help new engineers."


async def test_recording_cut_off_by_a_dropped_connection_is_sent_again(
    live_app: str, fake: FakeLive, speaker: Account
) -> None:
    fake.drop_first_after_bytes = 4000
    async with connect(ws_url(live_app, speaker, "cut")) as socket:
        await send(socket, type="audio_start", format="pcm16", sample_rate=16000)
        await socket.send(SPOKEN[:6400])
        await until(lambda: bool(fake.connections), "a connection")
        await until(lambda: fake.connections[0].closed_by_client is not None, "the drop")
        await socket.send(SPOKEN[6400:])
        await send(socket, type="audio_end")
        frames = await receive_until(socket, answered)
    first, second = fake.connections
    assert first.closed_by_client is False and first.stream_ends == 0
    # The new session hears the whole question, not just what came after the drop.
    assert bytes(second.audio) == SPOKEN and second.stream_ends == 1
    (done,) = of_type(frames, "done")
    assert done["turn"]["content"].startswith("I'm Allin")
    assert not of_type(frames, "error")


async def test_context_is_given_to_the_session(
    live_app: str, fake: FakeLive, speaker: Account
) -> None:
    document = (
        b"# Deploying billing\n\nThe billing service ships with blue-green switches:"
        b" run `make ship-billing` from the release branch, then watch the billing dashboard.\n"
    )
    async with httpx.AsyncClient(base_url=live_app, timeout=60) as http:
        uploaded = await http.post(
            "/api/v1/documents",
            headers=speaker.headers,
            files=[("files", ("billing.md", document))],
        )
    assert uploaded.status_code in (200, 201), uploaded.text
    fake.script = [LiveTurn("how does billing ship", ("With", " make ship-billing."))]
    async with connect(ws_url(live_app, speaker, "ctx")) as socket:
        await send(socket, type="message", id="typed-1", content="How is billing deployed?")
        typed = await receive_until(socket, lambda f: bool(of_type(f, "done")))
        await spoken_turn(socket)
        (upstream,) = fake.connections
        # After the spoken turn, the passages found for it are added for the turns that follow.
        await until(lambda: len(upstream.context_texts) > 2, "context after the turn")
    # The session opened knowing the passages for the chat's latest question, and the chat so far.
    assert "make ship-billing" in upstream.system
    history = upstream.client_content[0]
    assert history["turnComplete"] is False
    assert [(t["role"], t["parts"][0]["text"]) for t in history["turns"]] == [
        ("user", "How is billing deployed?"),
        ("model", of_type(typed, "done")[0]["turn"]["content"]),
    ]
    after = upstream.context_texts[-1]
    assert "how does billing ship" in after and "make ship-billing" in after
    assert upstream.client_content[-1]["turnComplete"] is False


async def test_talking_over_the_answer_stops_it(
    live_app: str, fake: FakeLive, speaker: Account
) -> None:
    fake.chunk_delay_s = 0.3
    fake.script = [LiveTurn(), LiveTurn("thanks", ("You're welcome.",))]
    async with connect(ws_url(live_app, speaker, "barge")) as socket:
        await speak(socket)
        frames = await receive_until(socket, lambda f: bool(of_type(f, "binary")))
        await speak(socket, tone(300, 16000))
        frames += await receive_until(
            socket, lambda f: len(of_type(f, "done")) == 2 and len(of_type(f, "audio_end")) == 2
        )
    stopped, answer = (frame["turn"] for frame in of_type(frames, "done"))
    # The first answer stops where it was, for this socket's audio and for the record.
    assert stopped["metadata"]["status"] == "cancelled"
    assert "I'm Allin, an assistant made by Team 8.".startswith(stopped["content"])
    first_end, last_end = of_type(frames, "audio_end")
    assert first_end == {"type": "audio_end", "turn_id": stopped["id"], "stopped": True}
    assert answer["content"] == "You're welcome."
    assert last_end == {"type": "audio_end", "turn_id": answer["id"], "stopped": False}
    voice = await get(live_app, speaker, f"/api/v1/voice/{speaker.user_id}/barge")
    # Both questions and the answer heard to its end keep their audio; the stopped one does not.
    assert [t["turn_id"] for t in voice["turns"]] == [
        stopped["reply_to"],
        answer["reply_to"],
        answer["id"],
    ]


async def test_wrong_sample_rate_is_refused(
    live_app: str, fake: FakeLive, speaker: Account
) -> None:
    async with connect(ws_url(live_app, speaker, "rate")) as socket:
        await send(socket, type="audio_start", format="pcm16", sample_rate=44100)
        (error,) = await receive_until(socket, lambda f: bool(f))
    assert error["code"] == "bad_request" and "16000" in error["message"]
    assert fake.connections == []


async def test_silence_is_not_answered_and_nothing_is_stored(
    live_app: str, fake: FakeLive, speaker: Account
) -> None:
    async with connect(ws_url(live_app, speaker, "quiet")) as socket:
        frames = await spoken_turn(socket, bytes(16000))
    assert [f["type"] for f in frames] == ["transcript", "error"]
    assert frames[0]["text"] == "" and frames[0]["final"] is True
    assert frames[1]["code"] == "bad_request" and "no speech" in frames[1]["message"]
    async with httpx.AsyncClient(base_url=live_app, headers=speaker.headers) as http:
        listed = await http.get(f"/api/v1/voice/{speaker.user_id}/quiet")
    assert listed.status_code == 404


async def test_live_out_of_reach_is_reported_once_retries_fail(
    live_app: str, fake: FakeLive, speaker: Account
) -> None:
    fake.refuse = True
    async with connect(ws_url(live_app, speaker, "down")) as socket:
        await speak(socket)
        (error,) = await receive_until(socket, lambda f: bool(f))
        assert error["code"] == "unavailable" and "Gemini Live is unavailable" in error["message"]
        assert fake.refused == CONNECT_ATTEMPTS
        # The next recording tries again.
        fake.refuse = False
        frames = await spoken_turn(socket)
    assert of_type(frames, "done")[0]["turn"]["content"].startswith("I'm Allin")

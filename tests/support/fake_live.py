"""A stand-in for the Gemini Live API: a local TLS WebSocket server speaking the Live protocol the
`google-genai` SDK's `client.aio.live.connect` talks (JSON messages on
`/ws/google.ai.generativelanguage.{version}.GenerativeService.BidiGenerateContent`).

Per connection: the first message must be `setup` (kept, answered with `setupComplete`); then the
client streams `realtime_input.audio` (base64 pcm16 at 16 kHz) and ends each utterance with
`realtime_input.audioStreamEnd`. An utterance with sound in it is answered like the real service
does: `inputTranscription` (in two pieces), then the answer as `outputTranscription` chunks
interleaved with `modelTurn` audio (`audio/pcm;rate=24000`, the first audio before the first
text), `turnComplete`, and a `sessionResumptionUpdate` with a new handle. Silence (all-zero
samples) gets no answer, as the real service's voice-activity detection gives none. Audio that
arrives while an answer is being sent interrupts it (`interrupted`), as a user talking over the
model does.

Knobs: `script` (what is heard and answered, turn by turn), `chunk_delay_s` (pause between answer
chunks), `go_away_after` (after that many answers overall, send `goAway` and close the connection
if the client has not left within `go_away_grace_s`), `drop_after` (close abruptly instead) and
`drop_first_after_bytes` (close the first connection abruptly once it has that much audio),
`refuse` (turn every connection away with a 503), `refuse_attempts` (turn away those connection
attempts, counted from 1, with a 503) and `refuse_handles` (close a session asked to resume, as
the service does with a handle it no longer knows).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import ipaddress
import json
import math
import ssl
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from tests.support.servers import free_port

PATH_PREFIX = "/ws/google.ai.generativelanguage."
PATH_SUFFIX = ".GenerativeService.BidiGenerateContent"
OUTPUT_RATE = 24000
_STANDARD_BASE64 = str.maketrans("-_", "+/")


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (PEM files in `directory`)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-live.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "live-cert.pem", directory / "live-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def tone(milliseconds: int, rate: int, frequency: float = 220.0) -> bytes:
    """A sine tone as pcm16: stands for speech (the fake hears any non-silent audio as speech)."""
    count = rate * milliseconds // 1000
    return b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * frequency * n / rate)))
        for n in range(count)
    )


@dataclass(frozen=True)
class LiveTurn:
    """One spoken exchange: what the fake hears, and the answer it speaks (text chunks, each with
    a piece of audio)."""

    heard: str = "who are you"
    answer: tuple[str, ...] = ("I'm Allin,", " an assistant", " made by Team 8.")
    audio_ms_per_chunk: int = 200


@dataclass
class LiveConnection:
    """What one client connection sent."""

    path: str
    headers: dict[str, str]
    setup: dict[str, Any] = field(default_factory=dict)
    audio: bytearray = field(default_factory=bytearray)
    stream_ends: int = 0
    client_content: list[dict[str, Any]] = field(default_factory=list)
    handles_sent: list[str] = field(default_factory=list)
    # Set when the connection ends: whether the client closed it (rather than the fake).
    closed_by_client: bool | None = None

    @property
    def system(self) -> str:
        parts = self.setup.get("systemInstruction", {}).get("parts", [])
        return "".join(part.get("text", "") for part in parts)

    @property
    def resumed_from(self) -> str | None:
        handle = self.setup.get("sessionResumption", {}).get("handle")
        return None if handle is None else str(handle)

    @property
    def context_texts(self) -> list[str]:
        """The text of every `client_content` turn the client sent."""
        return [
            "".join(part.get("text", "") for part in turn.get("parts", []))
            for message in self.client_content
            for turn in message.get("turns", [])
        ]


class FakeLive:
    def __init__(self, cert: Path, key: Path, api_key: str = "test-key") -> None:
        self.api_key = api_key
        self.script: list[LiveTurn] = []
        self.chunk_delay_s = 0.0
        self.go_away_after: int | None = None
        self.go_away_grace_s = 5.0
        self.drop_after: int | None = None
        self.drop_first_after_bytes: int | None = None
        self.refuse = False
        self.refuse_attempts: set[int] = set()
        self.refuse_handles = False
        self.refused = 0
        self.attempts = 0
        self.connections: list[LiveConnection] = []
        self.answered = 0
        self._ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._ssl.load_cert_chain(cert, key)
        self.port = free_port()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @contextlib.contextmanager
    def running(self) -> Iterator[FakeLive]:
        started = threading.Event()
        stop: list[asyncio.Future[None]] = []

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            stop.append(self._loop.create_future())
            server: Server
            async with serve(
                self._serve,
                "127.0.0.1",
                self.port,
                ssl=self._ssl,
                process_request=self._check_request,
            ) as server:
                started.set()
                await stop[0]
                server.close()

        thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
        thread.start()
        if not started.wait(10):
            raise RuntimeError("the fake Live server did not start")
        try:
            yield self
        finally:
            assert self._loop is not None
            self._loop.call_soon_threadsafe(stop[0].set_result, None)
            thread.join(timeout=10)

    def reset(self) -> None:
        self.script = []
        self.chunk_delay_s = 0.0
        self.go_away_after = None
        self.drop_after = None
        self.drop_first_after_bytes = None
        self.refuse = False
        self.refuse_attempts = set()
        self.refuse_handles = False
        self.refused = 0
        self.attempts = 0
        self.connections.clear()
        self.answered = 0

    def _check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        if not (path.startswith(PATH_PREFIX) and path.endswith(PATH_SUFFIX)):
            return connection.respond(404, f"no Live endpoint at {path}\n")
        if request.headers.get("x-goog-api-key") != self.api_key:
            return connection.respond(403, "API key not valid\n")
        self.attempts += 1
        if self.refuse or self.attempts in self.refuse_attempts:
            self.refused += 1
            return connection.respond(503, "The service is currently unavailable.\n")
        return None

    async def _serve(self, ws: ServerConnection) -> None:
        request = ws.request
        assert request is not None
        received = LiveConnection(request.path, dict(request.headers))
        session = _Session(self, ws, received)
        with contextlib.suppress(ConnectionClosed):
            await session.run()
        received.closed_by_client = not session.closing
        session.cancel_tasks()

    def next_turn(self) -> LiveTurn:
        return self.script.pop(0) if self.script else LiveTurn()


class _Session:
    def __init__(self, fake: FakeLive, ws: ServerConnection, received: LiveConnection) -> None:
        self._fake = fake
        self._ws = ws
        self._received = received
        self._utterance = bytearray()
        self._answer: asyncio.Task[None] | None = None
        self._after: asyncio.Task[None] | None = None
        self.closing = False

    async def run(self) -> None:
        setup = json.loads(await self._ws.recv())
        self._received.setup = setup["setup"]
        # Listed once its setup is in: a test that sees a connection can read how it was set up.
        self._fake.connections.append(self._received)
        if self._fake.refuse_handles and self._received.resumed_from is not None:
            self.closing = True
            await self._ws.close(1008, "session resumption handle not found")
            return
        await self._send({"setupComplete": {}})
        async for raw in self._ws:
            message = json.loads(raw)
            if "realtime_input" in message or "realtimeInput" in message:
                await self._realtime(message.get("realtime_input") or message["realtimeInput"])
            elif "client_content" in message or "clientContent" in message:
                content = message.get("client_content") or message["clientContent"]
                self._received.client_content.append(content)

    async def _realtime(self, realtime: dict[str, Any]) -> None:
        audio = realtime.get("audio")
        if audio is not None:
            # Protobuf's JSON mapping takes either base64 alphabet; the SDK sends the URL-safe one.
            pcm = base64.b64decode(audio["data"].translate(_STANDARD_BASE64))
            self._received.audio += pcm
            self._utterance += pcm
            limit = self._fake.drop_first_after_bytes
            first = self._fake.connections[0] is self._received
            if first and limit is not None and len(self._received.audio) >= limit:
                self.closing = True
                await self._ws.close(1011, "simulated failure")
                return
            if pcm.strip(b"\0") and self._answer is not None and not self._answer.done():
                # The user talks over the answer: the service stops it.
                self._answer.cancel()
                await self._send({"serverContent": {"interrupted": True}})
        if realtime.get("audioStreamEnd") or realtime.get("audio_stream_end"):
            self._received.stream_ends += 1
            utterance, self._utterance = bytes(self._utterance), bytearray()
            if utterance.strip(b"\0"):
                self._answer = asyncio.create_task(self._speak(self._fake.next_turn()))

    def cancel_tasks(self) -> None:
        for task in (self._answer, self._after):
            if task is not None:
                task.cancel()

    async def _speak(self, turn: LiveTurn) -> None:
        words = turn.heard.split(" ")
        half = max(1, len(words) // 2)
        await self._send(
            {"serverContent": {"inputTranscription": {"text": " ".join(words[:half])}}}
        )
        rest = " ".join(words[half:])
        if rest:
            await self._send({"serverContent": {"inputTranscription": {"text": " " + rest}}})
        for text in turn.answer:
            audio = tone(turn.audio_ms_per_chunk, OUTPUT_RATE)
            await self._send(
                {
                    "serverContent": {
                        "modelTurn": {
                            "parts": [
                                {
                                    "inlineData": {
                                        "mimeType": f"audio/pcm;rate={OUTPUT_RATE}",
                                        "data": base64.b64encode(audio).decode(),
                                    }
                                }
                            ]
                        }
                    }
                }
            )
            await self._send({"serverContent": {"outputTranscription": {"text": text}}})
            await asyncio.sleep(self._fake.chunk_delay_s)
        await self._send({"serverContent": {"turnComplete": True}})
        self._fake.answered += 1
        handle = f"handle-{self._fake.answered}"
        self._received.handles_sent.append(handle)
        await self._send({"sessionResumptionUpdate": {"newHandle": handle, "resumable": True}})
        # Not part of the answer: talking after it must not count as interrupting it.
        self._after = asyncio.create_task(self._after_answer(self._fake.answered))

    async def _after_answer(self, answered: int) -> None:
        if self._fake.drop_after == answered:
            self.closing = True
            await self._ws.close(1011, "simulated failure")
        elif self._fake.go_away_after == answered:
            await self._send({"goAway": {"timeLeft": f"{self._fake.go_away_grace_s:g}s"}})
            try:
                await asyncio.wait_for(self._ws.wait_closed(), self._fake.go_away_grace_s)
            except TimeoutError:
                self.closing = True
                await self._ws.close(1000, "session over")

    async def _send(self, message: dict[str, Any]) -> None:
        await self._ws.send(json.dumps(message))

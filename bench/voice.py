"""How fast Allin answers a spoken question offline, and where the time goes.

Measured end to end: the real app in its own process (as in `chat_overhead.py`: the offline model
with no delay between tokens, `ALLIN_VOICE=offline`, no interim transcripts, a fresh data dir and
embedded Postgres), one signed-up user speaking a fixed list of new-engineer questions over a real
WebSocket, one after the other. Each question is spoken by Piper (the app's own voice), resampled
to the 16 kHz pcm16 a browser sends and padded with silence, and sent as a browser does
(`audio_start`, 100 ms binary frames, `audio_end`); a `ping` before `audio_end` makes sure the
server has taken in every frame, as it has when a browser sends them in real time. From the moment
`audio_end` is sent, the client times its final `transcript` (voice-activity detection and
speech-to-text), the question's `ack` (the recording and the question stored), the first `token`
(the text turn up to its first token), the first binary audio frame of the answer (the first
sentence spoken), and the answer's `audio_end` (the whole answer spoken), and reports each segment
and the end-to-end latency (`audio_end` → first audio frame) at p50/p95, with the errors.

The baseline, in this process and in the same run (each turn is followed by its own): the bare
components on the same recordings, as the pipeline calls them — `SileroSpeechDetector.speech_ms`,
`WhisperSpeechToText.transcribe`, and `PiperTextToSpeech.synthesize` of the first sentence the
answer was spoken in. The ratio of the end-to-end latency to the sum of those is the pipeline's own
overhead: the socket, storing the recording and the question, the turn pipeline (history, memory
search, document retrieval, the model) and the sentence splitting.

And the real-time factor of each model on this machine (compute time / audio duration; below 1 is
faster than real time): Whisper and Silero over the recordings (silence included), Piper over
sentences of different lengths (over the audio it produces). Every model is warmed up first: here
directly, in the server by uncounted spoken turns (stopped with `cancel` once the answer is written
and its first audio is in). On a machine whose cores other work shares, every figure is noisy: the
run prints the load average before and after it.

    .venv/bin/python bench/voice.py [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from allin.voice.audio import duration_ms, from_float, resample, to_float
from allin.voice.piper import PiperTextToSpeech
from allin.voice.recording import ACCEPTED_RATE
from allin.voice.silero import SileroSpeechDetector
from allin.voice.speakable import SentenceSplitter
from allin.voice.whisper import WhisperSpeechToText
from chat_overhead import (
    ENV_DATA_DIR,
    MESSAGE_TIMEOUT_S,
    ServerProcess,
    TurnFailed,
    _stop_stray_postgres,
    log_problems,
    percentile,
    running_server,
)
from harness import bench_parser, run_bench

# What new engineers ask; the offline model answers "who are you" itself and the rest with what
# it found (nothing, in a fresh data dir) and its notice: answers of a few sentences each.
QUESTIONS = (
    "Who are you?",
    "How do I run the tests?",
    "Where is the deployment guide for the payments service?",
    "Who should I ask for access to the staging database?",
    "What is the code review process on this team?",
    "How do I set up my laptop for local development?",
    "Which branch should I open my first pull request against?",
    "What does the on-call rotation look like for new engineers?",
)
# Spoken first and not counted: it also waits for the server's own model warm-up.
WARMUP_QUESTION = "Hello, can you hear me?"
# Piper's real-time factor is measured on these (from a word to a paragraph).
TTS_SENTENCES = (
    "Sure.",
    "Run make test from the repository root.",
    "I'm Allin, an AI assistant made by Team 8, and I help new software engineers get productive.",
    "The deployment guide lives in the platform team's handbook, next to the runbooks for each"
    " service, and it explains how a change goes from a merged pull request to staging and then"
    " to production.",
    "Before you open your first pull request, make sure the linters, the type checker and the"
    " unit tests pass on your laptop, write a short description of what changed and why, link"
    " the ticket it belongs to, and ask one of the people who own the code you touched for a"
    " review; they usually answer within a working day, and once it is approved you can merge it"
    " yourself.",
)
# Silence around each question, as a user leaves before and after speaking.
LEAD_SILENCE_S = 0.3
TRAIL_SILENCE_S = 0.6
# What a browser sends at a time: 100 ms of 16 kHz pcm16.
CHUNK_BYTES = ACCEPTED_RATE // 10 * 2
# A spoken turn speaks its whole answer; anything near this is a hang.
TURN_TIMEOUT_S = 120.0
SERVER_ENV = {
    "ALLIN_VOICE": "offline",
    "ALLIN_VOICE_PARTIAL_EVERY_S": "0",
    "ALLIN_CHAT_STORE": "postgres",
    "ALLIN_BLOBS": "local",
}
ERROR_SAMPLES_KEPT = 5


@dataclass(frozen=True)
class Plan:
    questions: int
    # Times the list of questions is spoken (and the TTS sentences synthesized).
    rounds: int
    warmup_turns: int


FULL = Plan(questions=len(QUESTIONS), rounds=3, warmup_turns=2)
QUICK = Plan(questions=3, rounds=1, warmup_turns=1)


@dataclass(frozen=True)
class Clip:
    question: str
    pcm: bytes

    @property
    def seconds(self) -> float:
        return duration_ms(self.pcm, ACCEPTED_RATE) / 1000


@dataclass
class Models:
    """The bare components, in this process, loaded and warmed up."""

    detector: SileroSpeechDetector = field(default_factory=SileroSpeechDetector)
    stt: WhisperSpeechToText = field(default_factory=WhisperSpeechToText)
    tts: PiperTextToSpeech = field(default_factory=PiperTextToSpeech)

    async def speak(self, text: str) -> Clip:
        """`text` spoken by Piper as a browser would record it: 16 kHz, with silence around."""
        speech = await self.tts.synthesize(text)
        pcm = from_float(resample(to_float(speech.pcm), speech.sample_rate, ACCEPTED_RATE))
        return Clip(text, _silence(LEAD_SILENCE_S) + pcm + _silence(TRAIL_SILENCE_S))

    async def warm_up(self, clip: Clip) -> None:
        await asyncio.gather(self.stt.warm_up(), self.tts.warm_up())
        for _ in range(2):
            await self.detector.speech_ms(clip.pcm, ACCEPTED_RATE)
            await self.stt.transcribe(clip.pcm, ACCEPTED_RATE)
            await self.tts.synthesize(TTS_SENTENCES[1])


def _silence(seconds: float) -> bytes:
    return bytes(int(ACCEPTED_RATE * seconds) * 2)


# --- one spoken turn over the socket --------------------------------------------------------------


@dataclass
class SpokenTurn:
    """What the client saw of one spoken turn; times in seconds after `audio_end` was sent."""

    question: str
    clip_s: float
    heard: str = ""
    transcript_s: float | None = None
    ack_s: float | None = None
    first_token_s: float | None = None
    audio_start_s: float | None = None
    first_audio_s: float | None = None
    done_s: float | None = None
    audio_end_s: float | None = None
    answer_audio_s: float = 0.0
    tokens: list[str] = field(default_factory=list)
    # The bare components on the same clip and the first sentence of this answer.
    first_sentence: str = ""
    bare_vad_s: float | None = None
    bare_stt_s: float | None = None
    bare_tts_s: float | None = None
    bare_tts_audio_s: float | None = None
    bare_heard: str = ""

    def see(self, frame: dict[str, Any], at: float) -> None:
        """Note a text frame of the turn, received `at` s after `audio_end` was sent."""
        kind = frame["type"]
        if kind == "transcript" and frame["final"]:
            self.transcript_s, self.heard = at, frame["text"]
        elif kind == "ack" and self.ack_s is None:
            self.ack_s = at
        elif kind == "token":
            self.first_token_s = at if self.first_token_s is None else self.first_token_s
            self.tokens.append(frame["text"])
        elif kind == "done":
            self.done_s = at
        elif kind == "audio_start":
            self.audio_start_s = at
        elif kind == "audio_end":
            self.audio_end_s = at
        elif kind == "error":
            raise TurnFailed(f"{frame.get('code')}: {frame.get('message')}")


async def spoken_turn(socket: ClientConnection, clip: Clip, cut_short: bool = False) -> SpokenTurn:
    """Speak `clip` as a browser does and time the frames of its turn until the answer's audio
    ends; `TurnFailed` on an `error` frame. `cut_short`: once the answer is written and its first
    audio frame is in, stop it being spoken (`cancel`), as a warm-up need not hear it all."""
    turn = SpokenTurn(clip.question, clip.seconds)
    audio = rate = 0
    async with asyncio.timeout(TURN_TIMEOUT_S):
        start = {"type": "audio_start", "format": "pcm16", "sample_rate": ACCEPTED_RATE}
        await socket.send(json.dumps(start))
        for offset in range(0, len(clip.pcm), CHUNK_BYTES):
            await socket.send(clip.pcm[offset : offset + CHUNK_BYTES])
        # As a browser's, sent in real time, the audio frames are all taken in at `audio_end`.
        for frame in await _handled(socket):
            turn.see(frame, 0.0)
        await socket.send(json.dumps({"type": "audio_end"}))
        sent = time.perf_counter()
        while turn.audio_end_s is None:
            message = await socket.recv()
            at = time.perf_counter() - sent
            if isinstance(message, bytes):
                audio += len(message)
                turn.first_audio_s = at if turn.first_audio_s is None else turn.first_audio_s
            else:
                frame = json.loads(message)
                rate = frame.get("sample_rate", rate)
                turn.see(frame, at)
            if cut_short and turn.done_s is not None and turn.first_audio_s is not None:
                await socket.send(json.dumps({"type": "cancel"}))
                cut_short = False
        # Nothing of this turn may come after: the `cancel` is refused if the audio had ended.
        await _handled(socket)
    turn.answer_audio_s = audio / 2 / rate if rate else 0.0
    return turn


async def _handled(socket: ClientConnection) -> list[dict[str, Any]]:
    """The frames received until the server has handled every frame sent so far (it handles
    them in order, and answers a `ping` with a `pong`)."""
    await socket.send(json.dumps({"type": "ping"}))
    frames = []
    while (frame := json.loads(await socket.recv()))["type"] != "pong":
        frames.append(frame)
    return frames


def first_sentence(tokens: list[str]) -> str:
    """The first sentence the pipeline speaks of an answer streamed as `tokens`."""
    splitter = SentenceSplitter()
    for token in tokens:
        if sentences := splitter.feed(token):
            return sentences[0]
    return next(iter(splitter.flush()), "")


async def time_bare(models: Models, clip: Clip, turn: SpokenTurn) -> None:
    """The bare components on what the pipeline did in `turn`."""
    started = time.perf_counter()
    await models.detector.speech_ms(clip.pcm, ACCEPTED_RATE)
    turn.bare_vad_s = time.perf_counter() - started
    started = time.perf_counter()
    turn.bare_heard = await models.stt.transcribe(clip.pcm, ACCEPTED_RATE)
    turn.bare_stt_s = time.perf_counter() - started
    turn.first_sentence = first_sentence(turn.tokens)
    if turn.first_sentence:
        started = time.perf_counter()
        speech = await models.tts.synthesize(turn.first_sentence)
        turn.bare_tts_s = time.perf_counter() - started
        turn.bare_tts_audio_s = duration_ms(speech.pcm, speech.sample_rate) / 1000


@dataclass
class Session:
    turns: list[SpokenTurn] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    planned: int = 0


async def converse(
    server: ServerProcess, models: Models, clips: list[Clip], warmup: Clip, plan: Plan
) -> Session:
    """One user, one chat: the warm-up turns (cut short), then every clip `plan.rounds` times,
    each turn followed by its bare baseline. After a failed turn the socket is replaced, so that
    none of that turn's frames can be taken for the next one's."""
    tag = uuid.uuid4().hex[:12]
    url = server.ws_url(await server.account(tag), f"bench-voice-{tag}")
    schedule = [warmup] * plan.warmup_turns + clips * plan.rounds
    session = Session(planned=len(clips) * plan.rounds)
    socket: ClientConnection | None = None
    try:
        for index, clip in enumerate(schedule):
            counted = index >= plan.warmup_turns
            try:
                socket = socket or await connect(url, open_timeout=MESSAGE_TIMEOUT_S)
                turn = await spoken_turn(socket, clip, cut_short=not counted)
            except (TurnFailed, TimeoutError, WebSocketException, OSError) as error:
                what = "error frame" if isinstance(error, TurnFailed) else type(error).__name__
                session.errors.append(f"{'' if counted else 'warm-up: '}{what}: {error}")
                if socket is not None:
                    await socket.close()
                socket = None
                continue
            if counted:
                await time_bare(models, clip, turn)
                session.turns.append(turn)
    finally:
        if socket is not None:
            await socket.close()
    return session


# --- real-time factors ----------------------------------------------------------------------------


@dataclass
class Rtf:
    """Compute seconds over audio seconds, for one engine over several inputs."""

    engine: str
    unit: str
    inputs: int = 0
    audio_s: float = 0.0
    compute_s: float = 0.0
    # Each input's factor.
    each: list[float] = field(default_factory=list)

    def add(self, compute_s: float, audio_s: float) -> None:
        self.inputs += 1
        self.compute_s += compute_s
        self.audio_s += audio_s
        self.each.append(compute_s / audio_s)

    def summary(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "unit": self.unit,
            "inputs": self.inputs,
            "audio_s": round(self.audio_s, 2),
            "compute_s": round(self.compute_s, 3),
            "rtf": round(self.compute_s / self.audio_s, 4) if self.audio_s else None,
            "rtf_min": round(min(self.each), 4) if self.each else None,
            "rtf_max": round(max(self.each), 4) if self.each else None,
        }


def recording_rtfs(turns: list[SpokenTurn]) -> list[Rtf]:
    """Silero's and Whisper's factors over the recordings of the baseline runs."""
    vad = Rtf(SileroSpeechDetector.name, "recording")
    stt = Rtf(WhisperSpeechToText.name, "recording")
    for turn in turns:
        if turn.bare_vad_s is not None and turn.bare_stt_s is not None:
            vad.add(turn.bare_vad_s, turn.clip_s)
            stt.add(turn.bare_stt_s, turn.clip_s)
    return [stt, vad]


async def tts_rtfs(models: Models, rounds: int) -> tuple[Rtf, list[Rtf]]:
    """Piper's factor over `TTS_SENTENCES`, overall and for each sentence."""
    total = Rtf(PiperTextToSpeech.name, "sentence")
    each = [Rtf(_count(len(text.split()), "word"), "run") for text in TTS_SENTENCES]
    for _ in range(rounds):
        for text, rtf in zip(TTS_SENTENCES, each, strict=True):
            started = time.perf_counter()
            speech = await models.tts.synthesize(text)
            compute_s = time.perf_counter() - started
            audio_s = duration_ms(speech.pcm, speech.sample_rate) / 1000
            rtf.add(compute_s, audio_s)
            total.add(compute_s, audio_s)
    return total, each


# --- statistics and report ------------------------------------------------------------------------


def _between(start: float | None, end: float | None) -> float | None:
    return end - start if start is not None and end is not None else None


def _sum(*parts: float | None) -> float | None:
    return None if any(p is None for p in parts) else sum(p for p in parts if p is not None)


# (label, what it spans, the pipeline's time of a turn, the bare components' time for it)
SEGMENTS: tuple[tuple[str, str, Any, Any], ...] = (
    (
        "VAD + STT",
        "audio_end → final transcript",
        lambda t: t.transcript_s,
        lambda t: _sum(t.bare_vad_s, t.bare_stt_s),
    ),
    (
        "store question",
        "transcript → ack",
        lambda t: _between(t.transcript_s, t.ack_s),
        None,
    ),
    (
        "turn to 1st token",
        "ack → first token",
        lambda t: _between(t.ack_s, t.first_token_s),
        None,
    ),
    (
        "1st sentence TTS",
        "first token → first audio frame",
        lambda t: _between(t.first_token_s, t.first_audio_s),
        lambda t: t.bare_tts_s,
    ),
    (
        "end to end",
        "audio_end → first audio frame",
        lambda t: t.first_audio_s,
        lambda t: _sum(t.bare_vad_s, t.bare_stt_s, t.bare_tts_s),
    ),
    (
        "rest of the answer",
        "first audio frame → audio_end",
        lambda t: _between(t.first_audio_s, t.audio_end_s),
        None,
    ),
)


def _ms(values: list[float], q: float) -> float | None:
    value = percentile(values, q)
    return None if value is None else round(value * 1000, 1)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def summarize(session: Session) -> dict[str, Any]:
    turns = session.turns
    segments = []
    for label, spans, pipeline, bare in SEGMENTS:
        ours = [v for v in map(pipeline, turns) if v is not None]
        base = [v for v in map(bare, turns) if v is not None] if bare else []
        # Each turn against its own baseline: steadier than the difference of two percentiles.
        pairs = [(pipeline(t), bare(t)) for t in turns] if bare else []
        deltas = [a - b for a, b in pairs if a is not None and b is not None]
        row: dict[str, Any] = {"segment": label, "spans": spans, "samples": len(ours)}
        for q in (50, 95):
            row[f"p{q}_ms"] = _ms(ours, q)
            row[f"bare_p{q}_ms"] = _ms(base, q) if bare else None
            a, b = row[f"p{q}_ms"], row[f"bare_p{q}_ms"]
            row[f"ratio_p{q}"] = round(a / b, 2) if a is not None and b else None
            row[f"paired_delta_p{q}_ms"] = _ms(deltas, q)
        segments.append(row)
    return {
        "turns_planned": session.planned,
        "turns_completed": len(turns),
        "errors": len(session.errors),
        "error_samples": sorted(set(session.errors))[:ERROR_SAMPLES_KEPT],
        "misheard": sum(_words(t.heard) != _words(t.question) for t in turns),
        "answer_audio_s_mean": round(sum(t.answer_audio_s for t in turns) / len(turns), 2)
        if turns
        else None,
        "segments": segments,
    }


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _ms_cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def render(results: dict[str, Any], console: Console) -> None:
    summary, meta = results["summary"], results["meta"]
    table = Table(
        title=f"Spoken turn, offline voice: pipeline vs bare components "
        f"({summary['turns_completed']} turns)",
        caption="ms from the client's audio_end; bare = the models alone, in this process, on the "
        "same audio and first sentence; ratio = pipeline p50 / bare p50; Δ = median over the "
        "turns of pipeline − bare",
    )
    for name in ("segment", "p50", "p95", "bare p50", "bare p95", "ratio", "Δ"):
        table.add_column(name, justify="left" if name == "segment" else "right")
    for row in summary["segments"]:
        end_to_end = row["segment"] == "end to end"
        if end_to_end:
            table.add_section()
        delta = row["paired_delta_p50_ms"]
        label = f"[bold]{row['segment']}[/bold]" if end_to_end else row["segment"]
        table.add_row(
            f"{label}\n[dim]{row['spans']}[/dim]",
            _ms_cell(row["p50_ms"]),
            _ms_cell(row["p95_ms"]),
            _ms_cell(row["bare_p50_ms"]),
            _ms_cell(row["bare_p95_ms"]),
            f"[bold]{row['ratio_p50']:.2f}×[/bold]" if row["ratio_p50"] is not None else "",
            "" if delta is None else f"{delta:+.0f}",
        )
        if end_to_end:
            table.add_section()
    console.print(table)
    console.print(
        f"{summary['turns_completed']}/{summary['turns_planned']} turns, "
        f"{_count(summary['errors'], 'error')}; recordings of {meta['recording_s_mean']} s and "
        f"answers of {summary['answer_audio_s_mean']} s of audio on average; "
        f"{summary['misheard']} transcript(s) not word for word the question"
    )
    for sample in summary["error_samples"]:
        console.print(f"[red]error:[/red] {sample}", markup=False)

    rtf = Table(
        title="Real-time factor on this machine",
        caption="RTF = compute time / audio time (< 1: faster than real time); STT and VAD over "
        "the recordings (silence included), TTS over the audio it produced",
    )
    for name in ("model", "over", "audio s", "compute s", "RTF", "RTF min–max"):
        rtf.add_column(name, justify="left" if name in ("model", "over") else "right")
    rows = [(row, False) for row in results["rtf"]]
    rows += [(row, True) for row in results["tts_by_sentence"]]
    for row, detail in rows:
        factor = "–" if row["rtf"] is None else f"{row['rtf']:.3f}"
        rtf.add_row(
            f"  {row['engine']}" if detail else row["engine"],
            _count(row["inputs"], row["unit"]),
            _cell(row["audio_s"]),
            _cell(row["compute_s"]),
            factor if detail else f"[bold]{factor}[/bold]",
            f"{row['rtf_min']:.3f}–{row['rtf_max']:.3f}" if row["rtf_min"] is not None else "",
        )
    console.print(rtf)


# --- orchestration --------------------------------------------------------------------------------


async def prepare(plan: Plan) -> tuple[Models, list[Clip], Clip]:
    models = Models()
    clips = [await models.speak(question) for question in QUESTIONS[: plan.questions]]
    warmup = await models.speak(WARMUP_QUESTION)
    await models.warm_up(warmup)
    return models, clips, warmup


def run(plan: Plan, console: Console) -> dict[str, Any]:
    started = time.monotonic()
    load_at_start = round(os.getloadavg()[0], 2)
    workdir = Path(tempfile.mkdtemp(prefix="allin-bench-voice-"))
    data_dir = workdir / "data"
    server = running_server(
        "allin",
        "allin_app",
        workdir,
        {ENV_DATA_DIR: str(data_dir), **SERVER_ENV},
        data_dir / "pg",
        needs_account=True,
    )
    try:
        # One event loop for the whole run, and the server in `stack` until the turns are over.
        with asyncio.Runner() as runner, contextlib.ExitStack() as stack:
            # The server starts (Postgres, migrations) while the questions are spoken here.
            with ThreadPoolExecutor(1) as pool:
                starting = pool.submit(stack.enter_context, server)
                models, clips, warmup = runner.run(prepare(plan))
                console.print(
                    f"{len(clips)} questions spoken by Piper, models warmed up "
                    f"({time.monotonic() - started:.1f} s)"
                )
                allin = starting.result()
            console.print(f"allin up on port {allin.port} ({time.monotonic() - started:.1f} s)")
            session = runner.run(converse(allin, models, clips, warmup, plan))
            console.print(
                f"{len(session.turns)} spoken turns done ({time.monotonic() - started:.1f} s)"
            )
            problems = log_problems(allin)
            stack.close()
            tts, by_sentence = runner.run(tts_rtfs(models, plan.rounds))
    finally:
        _stop_stray_postgres(data_dir / "pg")
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "meta": _meta(plan, clips, time.monotonic() - started, load_at_start),
        "summary": summarize(session),
        "rtf": [rtf.summary() for rtf in (*recording_rtfs(session.turns), tts)],
        "tts_by_sentence": [
            {**rtf.summary(), "text": text}
            for rtf, text in zip(by_sentence, TTS_SENTENCES, strict=True)
        ],
        "turns": [
            {key: value for key, value in asdict(turn).items() if key != "tokens"}
            for turn in session.turns
        ],
        "server_log_problems": {"allin": problems},
    }


def _meta(plan: Plan, clips: list[Clip], elapsed_s: float, load_at_start: float) -> dict[str, Any]:
    from allin.config import Settings

    settings = Settings(_env_file=None, llm="offline")
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "questions": [clip.question for clip in clips],
        "rounds": plan.rounds,
        "warmup_turns": plan.warmup_turns,
        "recording_s_mean": round(sum(clip.seconds for clip in clips) / len(clips), 2),
        "silence_s": {"lead": LEAD_SILENCE_S, "trail": TRAIL_SILENCE_S},
        "server_env": SERVER_ENV,
        "voice_stt_threads": settings.voice_stt_threads,
        "models": [WhisperSpeechToText.name, PiperTextToSpeech.name, SileroSpeechDetector.name],
        # Other work on this machine competes with the models for its cores.
        "load_average_1m": {"start": load_at_start, "end": round(os.getloadavg()[0], 2)},
        "elapsed_s": round(elapsed_s, 1),
    }


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    quick = f"{QUICK.questions} questions once (a smoke run), not {FULL.questions} × {FULL.rounds}"
    return bench_parser(__doc__, quick).parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    plan = QUICK if args.quick else FULL
    return run_bench(lambda console: run(plan, console), report, args.json, stopped="server")


def report(results: dict[str, Any], console: Console) -> None:
    render(results, console)
    meta = results["meta"]
    load = meta["load_average_1m"]
    # More runnable work than cores before this run began: it had to share them.
    busy = load["start"] > (meta["cpus"] or 1)
    console.print(
        f"{meta['cpus']} CPUs, Python {meta['python']}, {len(meta['questions'])} questions × "
        f"{meta['rounds']} (after {meta['warmup_turns']} warm-up turn(s)), total "
        f"{meta['elapsed_s']} s; load average {load['start']} at the start, {load['end']} at the "
        f"end{' (other work shared the cores: noisy figures)' if busy else ''}"
    )


if __name__ == "__main__":
    sys.exit(main())

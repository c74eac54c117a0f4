"""What a chat turn costs in Allin beyond the WebSocket itself.

Measured: with a zero-latency model (the offline model, no delay between tokens), the time from
sending a `message` frame to receiving the first `token` frame (TTFT) and to receiving the `done`
frame, at p50/p95/p99, plus messages/s and errors, at 1 and at 100 concurrent clients.

Why a baseline: those times include the WebSocket stack (uvicorn, framing, the client itself, and
the loopback) which no change to Allin can remove. So the same run also measures a bare Starlette
WebSocket endpoint that answers each `message` with the same frame sequence (one `ack`, the same
token texts as a real Allin answer, one `done`) and nothing else: no database, no prompt, no model.
The ratio Allin/baseline (and the difference in ms) is Allin's own overhead: storing both turns,
loading the history, building the prompt and the turn pipeline.

The floor: the same run also measures a third server (`turn_floor.py`) that does only the work no
turn can skip, in the same set-up as Allin (its embedded Postgres, its embedder): store the two
turns, embed the question once, read the recent history, one pgvector k-NN over the user's memories
and one over the documents, and the same frames. Allin/floor is what Allin's own design costs: a
ratio near 1 means a turn costs what it must and no more. Inside Allin's process, timers
(`stage_timers.py`) break a turn's time down by stage (memory search, retrieval, embedding,
history, prompt, storing, publishing, learning), so the next regression shows where it is.

The servers run in their own process (uvicorn, same flags) on 127.0.0.1, apart from this load
generator; each client owns one socket, one user and one chat, and sends its messages one after the
other. Phases alternate floor/baseline/Allin per concurrency level so background noise hits all
alike.

    .venv/bin/python bench/chat_overhead.py [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]  # (installed with pgserver)
from rich.console import Console
from rich.table import Table
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

import stage_timers
from harness import bench_parser, run_bench
from turn_floor import ENV_DATABASE_URL

BENCH_DIR = Path(__file__).resolve().parent
# Variables the parent hands to the server processes.
ENV_DATA_DIR = "ALLIN_BENCH_DATA_DIR"
ENV_TOKENS = "ALLIN_BENCH_TOKENS"
ENV_PARENT_PID = "ALLIN_BENCH_PARENT_PID"

CONCURRENCY_LEVELS = (1, 100)
# One turn of the offline model takes milliseconds; anything near these limits is a hang.
MESSAGE_TIMEOUT_S = 30.0
SERVER_START_TIMEOUT_S = 90.0
SERVER_STOP_TIMEOUT_S = 30.0
# How long after a phase Allin's background learning may take before its stages are read.
LEARNING_GRACE_S = 2.0
ERROR_SAMPLES_KEPT = 5
BUDGET_EXHAUSTED = "phase budget exhausted before all messages were sent"


@dataclass(frozen=True)
class Plan:
    """How many messages each phase sends: `messages[c]` per client at concurrency `c`."""

    warmup: int
    messages: dict[int, int]
    # A phase stops sending new messages after this long, whatever is left.
    budget_s: float


FULL = Plan(warmup=5, messages={1: 200, 100: 10}, budget_s=40.0)
QUICK = Plan(warmup=2, messages={1: 40, 100: 3}, budget_s=15.0)


# --- the two servers (these factories run in the server processes, via `uvicorn --factory`) -----


def allin_app() -> Any:
    """The real app with the zero-latency offline model and an embedded Postgres in the bench's
    temporary data dir. Other settings come from `ALLIN_*` variables (e.g. `ALLIN_DB_POOL_MAX`;
    `bench/voice.py` turns voice on with them)."""
    from allin.app import create_app
    from allin.config import Settings, configure_logging

    settings = Settings(
        _env_file=None,
        llm="offline",
        offline_token_delay_ms=0,
        data_dir=Path(os.environ[ENV_DATA_DIR]),
        database_url=None,
    )
    configure_logging(settings)
    _exit_with_parent()
    app = create_app(settings)
    stage_timers.install(app)
    return app


def floor_app() -> Starlette:
    """The floor (see `turn_floor.py`), on the Postgres the Allin server started."""
    from turn_floor import floor_app as build

    _exit_with_parent()
    return build(json.loads(os.environ[ENV_TOKENS]), Path(os.environ[ENV_DATA_DIR]))


def echo_app() -> Starlette:
    """The baseline: answers every `message` frame with Allin's frame sequence and sizes (the
    token texts are taken from a real Allin answer), with no storage and no model."""
    tokens: list[str] = json.loads(os.environ[ENV_TOKENS])
    _exit_with_parent()

    async def endpoint(websocket: WebSocket) -> None:
        await _echo_socket(websocket, tokens)

    return Starlette(routes=[WebSocketRoute("/ws/{user_id}/{chat_id}", endpoint)])


async def _echo_socket(websocket: WebSocket, tokens: list[str]) -> None:
    user_id = websocket.path_params["user_id"]
    chat_id = websocket.path_params["chat_id"]
    await websocket.accept()
    turn_id = 0
    try:
        while True:
            frame = json.loads(await websocket.receive_text())
            if frame.get("type") != "message":
                await websocket.send_text('{"type":"pong"}')
                continue
            turn_id += 2
            question = _fake_turn(turn_id - 1, user_id, chat_id, "user", frame["content"])
            question["client_msg_id"] = frame["id"]
            await websocket.send_text(json.dumps({"type": "ack", "turn": question}))
            for text in tokens:
                token = {"type": "token", "turn_id": turn_id, "reply_to": turn_id - 1, "text": text}
                await websocket.send_text(json.dumps(token))
                # The offline model yields to the event loop after every token; so does this.
                await asyncio.sleep(0)
            answer = _fake_turn(turn_id, user_id, chat_id, "assistant", "".join(tokens))
            answer["reply_to"] = turn_id - 1
            await websocket.send_text(json.dumps({"type": "done", "turn": answer, "citations": []}))
    except WebSocketDisconnect:
        pass


def _fake_turn(turn_id: int, user_id: str, chat_id: str, role: str, content: str) -> dict[str, Any]:
    """A dict shaped like Allin's serialized `Turn`, so frames are the same size."""
    return {
        "id": turn_id,
        "user_id": user_id,
        "chat_id": chat_id,
        "role": role,
        "content": content,
        "created_at": "2025-01-01T00:00:00.000000Z",
        "client_msg_id": None,
        "reply_to": None,
        "metadata": {"model": "offline", "timings": {"first_token_ms": 0.1, "total_ms": 1.0}},
    }


def _exit_with_parent() -> None:
    """Stop this server if the benchmark that started it dies. SIGINT, not SIGTERM: uvicorn
    re-raises the signal after its graceful shutdown, and only SIGINT then still lets `atexit`
    handlers run, among them pgserver's, which stops the embedded Postgres."""
    parent = int(os.environ[ENV_PARENT_PID])

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


# --- server processes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchAccount:
    user_id: str
    token: str


@dataclass
class ServerProcess:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    # The embedded Postgres' data dir, for Allin: its processes' CPU counts as the server's too.
    pgdata: Path | None = None

    # Allin refuses sockets without a token; the baseline ignores it.
    needs_account: bool = False

    def ws_url(self, account: BenchAccount, chat_id: str) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/{account.user_id}/{chat_id}?token={account.token}"

    async def account(self, tag: str) -> BenchAccount:
        """A real account made through Allin's sign-up endpoint (outside the timed phase)."""
        if not self.needs_account:
            return BenchAccount(f"bench-u-{tag}", "unused")
        async with (
            _signups(),
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}") as http,
        ):
            response = await http.post(
                "/api/v1/auth/signup",
                json={"email": f"{tag}@bench.example.com", "password": "bench password 1234"},
                timeout=MESSAGE_TIMEOUT_S,
            )
        response.raise_for_status()
        body = response.json()
        return BenchAccount(body["user_id"], body["access_token"])

    def log_lines(self) -> list[str]:
        try:
            return self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return []

    def cpu_s(self) -> CpuSeconds:
        """CPU used so far by the server process and, for Allin, by Postgres."""
        db = _postmaster_pid(self.pgdata) if self.pgdata else None
        return CpuSeconds(
            server=_process_tree_cpu_s(self.process.pid),
            db=_process_tree_cpu_s(db) if db else None,
            client=time.process_time(),
        )


# Sign-ups hash a password (argon2, ~0.1 s of CPU each): a hundred at once on two cores ran past
# their timeout, so a phase started with half its clients, and the hashing still running for the
# abandoned ones was counted in the phase's CPU.
SIGNUPS_AT_ONCE = 4
_signup_slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}


def _signups() -> asyncio.Semaphore:
    """The sign-up slots of the running event loop (each phase runs in its own)."""
    loop = asyncio.get_running_loop()
    return _signup_slots.setdefault(loop, asyncio.Semaphore(SIGNUPS_AT_ONCE))


@dataclass(frozen=True)
class CpuSeconds:
    """User+system CPU seconds of the server, its database and this load generator (None when
    unknown); differences over a phase tell which side the time went to."""

    server: float | None
    db: float | None
    client: float | None

    def __sub__(self, before: CpuSeconds) -> CpuSeconds:
        def minus(a: float | None, b: float | None) -> float | None:
            return a - b if a is not None and b is not None else None

        return CpuSeconds(
            minus(self.server, before.server),
            minus(self.db, before.db),
            minus(self.client, before.client),
        )


def process_tree(pid: int) -> list[psutil.Process] | None:
    """A process and its live children (Postgres backends are the postmaster's); None if gone."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return None


def _process_tree_cpu_s(pid: int) -> float | None:
    """CPU seconds of a process and its live children."""
    processes = process_tree(pid)
    if processes is None:
        return None
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_server(
    name: str,
    factory: str,
    workdir: Path,
    extra_env: dict[str, str],
    pgdata: Path | None = None,
    needs_account: bool = False,
) -> Iterator[ServerProcess]:
    """Run `uvicorn --factory chat_overhead:<factory>` (see `serving`) until the block exits."""
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        f"chat_overhead:{factory}",
        "--app-dir",
        str(BENCH_DIR),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    env = {**os.environ, **extra_env}
    with serving(name, command, port, workdir, env, pgdata, needs_account) as server:
        yield server


@contextlib.contextmanager
def serving(
    name: str,
    command: list[str],
    port: int,
    workdir: Path,
    env: dict[str, str],
    pgdata: Path | None = None,
    needs_account: bool = False,
) -> Iterator[ServerProcess]:
    """Run `command`, a server that listens on 127.0.0.1:`port`, with environment `env`, in its
    own process (and session, so a Ctrl-C reaches only this script, which then stops the server
    in order) until the block exits. Its output goes to `<workdir>/<name>.log`."""
    log_path = workdir / f"{name}.log"
    env = {**env, ENV_PARENT_PID: str(os.getpid())}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = ServerProcess(name, port, process, log_path, pgdata, needs_account)
    try:
        _wait_until_listening(server)
        yield server
    finally:
        _stop_process(process)


def _wait_until_listening(server: ServerProcess) -> None:
    """uvicorn listens only once the app's start-up (Postgres, migrations) is done."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            tail = "\n".join(server.log_lines()[-20:])
            raise RuntimeError(f"{server.name} server exited at start-up:\n{tail}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", server.port), 1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} server did not listen within {SERVER_START_TIMEOUT_S:g} s")


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGINT (graceful: Allin drains its turns and stops Postgres), then SIGKILL if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def _stop_stray_postgres(pgdata: Path) -> None:
    """pg_ctl starts Postgres in its own session; if the app could not stop it, stop it here."""
    pid = _postmaster_pid(pgdata)
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)  # Postgres' "fast" shutdown
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)


# --- load generation ------------------------------------------------------------------------------


class TurnFailed(Exception):
    """The server answered a message with an `error` frame; the socket is still usable."""


@dataclass
class PhaseResult:
    server: str
    clients: int
    ttft_s: list[float] = field(default_factory=list)
    done_s: list[float] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    planned: int = 0
    elapsed_s: float = 0.0
    cpu: CpuSeconds = CpuSeconds(None, None, None)
    # Allin only: stage -> seconds and calls over the phase (`stage_timers.py`).
    stages: dict[str, dict[str, float]] = field(default_factory=dict)


async def ask(
    socket: ClientConnection, message_id: str, content: str, timeout_s: float = MESSAGE_TIMEOUT_S
) -> tuple[float, float, int]:
    """Send one message; returns (time to first token, time to done, token frames)."""
    frame = json.dumps({"type": "message", "id": message_id, "content": content})
    first_token: float | None = None
    tokens = 0
    async with asyncio.timeout(timeout_s):
        sent = time.perf_counter()
        await socket.send(frame)
        while True:
            reply = json.loads(await socket.recv())
            kind = reply.get("type")
            if kind == "token":
                tokens += 1
                if first_token is None:
                    first_token = time.perf_counter()
            elif kind == "done":
                done = time.perf_counter()
                return (first_token or done) - sent, done - sent, tokens
            elif kind == "error":
                raise TurnFailed(f"{reply.get('code')}: {reply.get('message')}")


def _content(n: int, client: str = "") -> str:
    """The `n`th question of a client. Each client asks its own (`client` names it): identical
    questions from a hundred clients at once would be embedded once and flatter every server."""
    where = f" {client}" if client else ""
    return f"How do I run the integration tests of service {n}{where} on my laptop before pushing?"


@dataclass
class Client:
    socket: ClientConnection
    tag: str
    sent: int = 0
    # Longest wait for one answer before the socket counts as broken.
    timeout_s: float = MESSAGE_TIMEOUT_S

    async def ask_next(self) -> tuple[float, float, int]:
        self.sent += 1
        return await ask(
            self.socket,
            f"{self.tag}-{self.sent}",
            _content(self.sent, self.tag[:6]),
            self.timeout_s,
        )


async def open_client(
    server: ServerProcess,
    stack: contextlib.AsyncExitStack,
    warmup: int,
    account: BenchAccount | None = None,
) -> Client:
    """A socket of its own (own user, own chat), warmed up with `warmup` uncounted messages;
    the user is `account`, or a new one."""
    tag = uuid.uuid4().hex[:12]
    account = account or await server.account(tag)
    socket = await stack.enter_async_context(
        connect(server.ws_url(account, f"bench-c-{tag}"), open_timeout=MESSAGE_TIMEOUT_S)
    )
    client = Client(socket, tag)
    for _ in range(warmup):
        await client.ask_next()
    return client


async def drive(client: Client, count: int, deadline: float, result: PhaseResult) -> None:
    """Send `count` messages one after the other, recording each; stops early on a broken socket
    (timeout, closed) since later frames could no longer be told apart, or when time is up."""
    for _ in range(count):
        if time.monotonic() > deadline:
            result.errors.append(BUDGET_EXHAUSTED)
            return
        if not await record_turn(client, result):
            return


async def record_turn(client: Client, result: PhaseResult) -> bool:
    """Send the client's next message and record its timings or its error; False when the socket
    is no longer usable (timeout, closed)."""
    try:
        ttft, done, tokens = await client.ask_next()
    except TurnFailed as error:
        result.errors.append(f"error frame: {error}")
        return True
    except (TimeoutError, WebSocketException, OSError) as error:
        result.errors.append(f"{type(error).__name__}: {error}".rstrip(": "))
        return False
    result.ttft_s.append(ttft)
    result.done_s.append(done)
    result.tokens.append(tokens)
    return True


async def run_phase(server: ServerProcess, clients: int, plan: Plan) -> PhaseResult:
    """Open and warm up all clients, then time them sending concurrently."""
    result = PhaseResult(server.name, clients, planned=clients * plan.messages[clients])
    async with contextlib.AsyncExitStack() as stack:
        opened = await asyncio.gather(
            *(open_client(server, stack, plan.warmup) for _ in range(clients)),
            return_exceptions=True,
        )
        ready = [client for client in opened if isinstance(client, Client)]
        result.errors += [f"warm-up: {error!r}" for error in opened if isinstance(error, Exception)]
        deadline = time.monotonic() + plan.budget_s
        await stage_totals(server, reset=True)
        cpu_before = server.cpu_s()
        started = time.perf_counter()
        await asyncio.gather(
            *(drive(client, plan.messages[clients], deadline, result) for client in ready)
        )
        result.elapsed_s = time.perf_counter() - started
        result.cpu = server.cpu_s() - cpu_before
        # Learning runs after the answer: let what this phase started finish and be counted.
        await asyncio.sleep(LEARNING_GRACE_S if server.name == "allin" else 0)
        result.stages = await stage_totals(server, reset=True)
    return result


async def stage_totals(server: ServerProcess, *, reset: bool) -> dict[str, dict[str, float]]:
    """Allin's stage timers (empty for the other servers)."""
    if server.name != "allin":
        return {}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
        response = await http.get("/bench/stages", params={"reset": reset}, timeout=30)
    response.raise_for_status()
    totals: dict[str, dict[str, float]] = response.json()
    return totals


async def sample_tokens(server: ServerProcess) -> list[str]:
    """The token texts of one real Allin answer, for the baseline to send back."""
    tag = uuid.uuid4().hex[:12]
    url = server.ws_url(await server.account(tag), f"bench-probe-{tag}")
    texts: list[str] = []
    async with connect(url, open_timeout=MESSAGE_TIMEOUT_S) as socket, asyncio.timeout(30):
        await socket.send(json.dumps({"type": "message", "id": "probe", "content": _content(0)}))
        while True:
            reply = json.loads(await socket.recv())
            if reply["type"] == "token":
                texts.append(reply["text"])
            elif reply["type"] in ("done", "error"):
                break
    if not texts:
        raise RuntimeError(f"Allin sent no tokens to the probe message: {reply}")
    return texts


# --- statistics and report ------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100); None without samples."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(result: PhaseResult) -> dict[str, Any]:
    def ms(values: list[float], q: float) -> float | None:
        value = percentile(values, q)
        return None if value is None else round(value * 1000, 3)

    completed = len(result.done_s)
    return {
        "server": result.server,
        "clients": result.clients,
        "messages_planned": result.planned,
        "messages_completed": completed,
        # A client the phase's time ran out on is not a failed turn: counted apart.
        "errors": sum(error != BUDGET_EXHAUSTED for error in result.errors),
        "clients_cut_by_budget": result.errors.count(BUDGET_EXHAUSTED),
        "error_samples": sorted(set(result.errors))[:ERROR_SAMPLES_KEPT],
        "elapsed_s": round(result.elapsed_s, 3),
        "messages_per_s": round(completed / result.elapsed_s, 1) if result.elapsed_s else None,
        "tokens_per_answer": round(sum(result.tokens) / completed, 1) if completed else None,
        "server_busy_pct": round(100 * result.cpu.server / result.elapsed_s, 1)
        if result.cpu.server is not None and result.elapsed_s
        else None,
        **{
            f"{side}_cpu_ms_per_msg": round(seconds * 1000 / completed, 3)
            if seconds is not None and completed
            else None
            for side, seconds in asdict(result.cpu).items()
        },
        **{f"ttft_p{q}_ms": ms(result.ttft_s, q) for q in (50, 95, 99)},
        **{f"done_p{q}_ms": ms(result.done_s, q) for q in (50, 95, 99)},
        "stages_ms_per_msg": {
            stage: {
                "ms": round(totals["s"] * 1000 / completed, 3),
                "calls": round(totals["calls"] / completed, 2),
            }
            for stage, totals in result.stages.items()
        }
        if completed
        else {},
    }


RATIO_KEYS = (
    *(f"{metric}_p{q}_ms" for metric in ("ttft", "done") for q in (50, 95, 99)),
    "messages_per_s",
    "server_cpu_ms_per_msg",
)


def ratios(
    allin: dict[str, Any], baseline: dict[str, Any], keys: tuple[str, ...] = RATIO_KEYS
) -> dict[str, float | None]:
    """Allin/baseline for every latency percentile and for messages/s (or for `keys`)."""
    out: dict[str, float | None] = {}
    for key in keys:
        a, b = allin.get(key), baseline.get(key)
        out[key] = round(a / b, 2) if a is not None and b else None
    return out


# Report rows (label, key of `summarize`): TTFT and done at each percentile.
LATENCY_ROWS = tuple(
    (f"{label} p{q}", f"{key}_p{q}_ms")
    for label, key in (("TTFT", "ttft"), ("done", "done"))
    for q in (50, 95, 99)
)
_ROWS = (
    *LATENCY_ROWS,
    ("msgs/s", "messages_per_s"),
    ("server busy %", "server_busy_pct"),
    ("server CPU/msg", "server_cpu_ms_per_msg"),
    ("pg CPU/msg", "db_cpu_ms_per_msg"),
    ("client CPU/msg", "client_cpu_ms_per_msg"),
    ("tokens/answer", "tokens_per_answer"),
    ("completed", "messages_completed"),
    ("errors", "errors"),
    ("cut by budget", "clients_cut_by_budget"),
)


def _is_ms(key: str) -> bool:
    return key.endswith(("_ms", "_ms_per_msg"))


def _cell(value: Any, key: str) -> str:
    if value is None:
        return "–"
    if _is_ms(key):
        return f"{value:.2f}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def render(comparisons: list[dict[str, Any]], console: Console) -> None:
    table = Table(
        title="Chat turn: Allin vs a bare WebSocket echo and vs the turn's floor",
        caption=(
            "ms; ratio = allin/baseline; ×floor = allin/floor; Δ floor = allin − floor;"
            " busy = % of one core"
        ),
    )
    for name in ("clients", "metric", "baseline", "floor", "allin", "ratio", "×floor", "Δ floor"):
        table.add_column(name, justify="left" if name == "metric" else "right")
    for comparison in comparisons:
        baseline, floor, allin = comparison["baseline"], comparison["floor"], comparison["allin"]
        ratio, over_floor = comparison["ratio"], comparison["over_floor"]
        for label, key in _ROWS:
            a, f = allin[key], floor[key]
            table.add_row(
                str(comparison["clients"]) if key == _ROWS[0][1] else "",
                label,
                _cell(baseline[key], key),
                _cell(f, key),
                _cell(a, key),
                f"{ratio[key]:g}×" if ratio.get(key) is not None else "",
                f"[bold]{over_floor[key]:g}×[/bold]" if over_floor.get(key) is not None else "",
                f"{a - f:+.2f}" if _is_ms(key) and a is not None and f is not None else "",
            )
        table.add_section()
    console.print(table)
    render_stages(comparisons, console)
    for comparison in comparisons:
        for side in ("baseline", "floor", "allin"):
            for sample in comparison[side]["error_samples"]:
                console.print(f"[red]{side} @ {comparison['clients']} clients:[/red] {sample}")


def render_stages(comparisons: list[dict[str, Any]], console: Console) -> None:
    """Allin's stage timers, in ms per completed message (calls per message in brackets)."""
    table = Table(
        title="Allin's turn by stage",
        caption=(
            "ms of wall time per message (calls per message); stages nest (memory search holds"
            " its embedding) and under load include waiting; learning runs after the answer"
        ),
    )
    table.add_column("stage")
    for comparison in comparisons:
        table.add_column(f"{comparison['clients']} client(s)", justify="right")
    for stage in stage_timers.ORDER:
        cells = []
        for comparison in comparisons:
            found = comparison["allin"]["stages_ms_per_msg"].get(stage)
            cells.append(f"{found['ms']:.2f} ({found['calls']:g})" if found else "–")
        table.add_row(stage, *cells)
    console.print(table)


def goals(results: dict[str, Any]) -> list[tuple[str, bool]]:
    """Issue 16's goals, each with whether this run met it."""
    by_clients = {c["clients"]: c for c in results["comparisons"]}
    checks: list[tuple[str, bool]] = []
    one = by_clients.get(1)
    if one:
        allin, floor = one["allin"], one["floor"]
        cpu, floor_cpu = allin["server_cpu_ms_per_msg"], floor["server_cpu_ms_per_msg"]
        p50, p95, floor_p50 = allin["ttft_p50_ms"], allin["ttft_p95_ms"], floor["ttft_p50_ms"]
        if None not in (cpu, floor_cpu, p50, p95, floor_p50):
            checks += [
                (
                    f"1 client: server CPU/msg {cpu:.1f} ms ≤ 1.5× floor's {floor_cpu:.1f}",
                    cpu <= 1.5 * floor_cpu,
                ),
                (
                    f"1 client: TTFT p50 {p50:.1f} ms ≤ floor's {floor_p50:.1f} + 10",
                    p50 <= floor_p50 + 10,
                ),
                (f"1 client: TTFT p95 {p95:.1f} ms ≤ 2× p50", p95 <= 2 * p50),
            ]
    many = by_clients.get(max(by_clients)) if by_clients else None
    if many and many is not one:
        allin = many["allin"]
        rate = allin["messages_per_s"] or 0.0
        skipped = results.get("turns_without_memory", 0)
        checks += [
            (f"{many['clients']} clients: {skipped} turns answered without memory", skipped == 0),
            (f"{many['clients']} clients: {rate:g} messages/s ≥ 100", rate >= 100),
            (f"{many['clients']} clients: {allin['errors']} errors", allin["errors"] == 0),
        ]
    return checks


# --- orchestration --------------------------------------------------------------------------------


async def measure(
    allin: ServerProcess, baseline: ServerProcess, floor: ServerProcess, plan: Plan
) -> list[dict[str, Any]]:
    comparisons = []
    for clients in CONCURRENCY_LEVELS:
        floor_result = summarize(await run_phase(floor, clients, plan))
        baseline_result = summarize(await run_phase(baseline, clients, plan))
        allin_result = summarize(await run_phase(allin, clients, plan))
        comparisons.append(
            {
                "clients": clients,
                "baseline": baseline_result,
                "floor": floor_result,
                "allin": allin_result,
                "ratio": ratios(allin_result, baseline_result),
                "over_floor": ratios(allin_result, floor_result),
            }
        )
    return comparisons


def log_problems(server: ServerProcess) -> list[str]:
    """Warnings and errors the server logged (uvicorn's and Allin's), each traceback as the
    exception it ended with."""
    markers = (" WARNING ", " ERROR ", " CRITICAL ", "WARNING:", "ERROR:")
    problems: list[str] = []
    in_traceback = False
    for line in server.log_lines():
        if line.startswith("Traceback"):
            in_traceback = True
        elif in_traceback and line and not line[0].isspace():
            problems.append(f"  {line}")  # the exception: the first unindented line after it
            in_traceback = False
        elif any(marker in line for marker in markers):
            problems.append(line)
    return problems


def run(plan: Plan, console: Console) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="allin-bench-"))
    data_dir = workdir / "data"
    # Other work on the machine skews every figure: the report says how busy it was.
    load_at_start = os.getloadavg()
    started = time.monotonic()
    try:
        with running_server(
            "allin",
            "allin_app",
            workdir,
            # No per-user rate limit (one client sends hundreds of messages a minute) and no
            # voice (its models would load on the same cores while the text phases run).
            {ENV_DATA_DIR: str(data_dir), "ALLIN_RATE_LIMIT_PER_MINUTE": "0", "ALLIN_VOICE": "off"},
            data_dir / "pg",
            needs_account=True,
        ) as allin:
            console.print(f"allin up on port {allin.port} ({time.monotonic() - started:.1f} s)")
            tokens = asyncio.run(sample_tokens(allin))
            floor_env = {
                ENV_TOKENS: json.dumps(tokens),
                ENV_DATA_DIR: str(data_dir),
                ENV_DATABASE_URL: _database_url(data_dir / "pg"),
            }
            with (
                running_server(
                    "baseline", "echo_app", workdir, {ENV_TOKENS: json.dumps(tokens)}
                ) as baseline,
                running_server("floor", "floor_app", workdir, floor_env) as floor,
            ):
                console.print(f"baseline up on port {baseline.port}; {len(tokens)} tokens/answer")
                console.print(f"floor up on port {floor.port}")
                comparisons = asyncio.run(measure(allin, baseline, floor, plan))
            problems = {
                "allin": log_problems(allin),
                "baseline": log_problems(baseline),
                "floor": log_problems(floor),
            }
    finally:
        _stop_stray_postgres(data_dir / "pg")
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "meta": _meta(plan, time.monotonic() - started, load_at_start),
        "comparisons": comparisons,
        # A memory search that failed or missed its timeout left its turn without memories.
        "turns_without_memory": sum("memory failed for turn" in line for line in problems["allin"]),
        "server_log_problems": problems,
    }


def _database_url(pgdata: Path) -> str:
    """The embedded Postgres' URL, as pgserver gives it, for a process attaching to it."""
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None:
        raise RuntimeError(f"no Postgres running in {pgdata}")
    return info.get_uri()


def _meta(plan: Plan, elapsed_s: float, load: tuple[float, float, float]) -> dict[str, Any]:
    from allin.config import Settings

    settings = Settings(_env_file=None, llm="offline")
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "warmup_per_client": plan.warmup,
        "messages_per_client": {str(c): n for c, n in plan.messages.items()},
        "db_pool_max": settings.db_pool_max,
        "history_turns": settings.history_turns,
        "elapsed_s": round(elapsed_s, 1),
        "load_average": [round(value, 2) for value in load],
    }


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    return bench_parser(__doc__, "fewer messages (a smoke run)").parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    plan = QUICK if args.quick else FULL
    return run_bench(lambda console: run(plan, console), report, args.json)


def report(results: dict[str, Any], console: Console) -> None:
    render(results["comparisons"], console)
    meta = results["meta"]
    console.print(
        f"{meta['cpus']} CPUs, Python {meta['python']}, db_pool_max={meta['db_pool_max']}, "
        f"warm-up {meta['warmup_per_client']}/client, total {meta['elapsed_s']} s, "
        f"load average at start {meta['load_average']}"
    )
    for goal, met in goals(results):
        console.print(f"{'[green]met[/green]' if met else '[red]not met[/red]'}  {goal}")


if __name__ == "__main__":
    sys.exit(main())

"""How much chat one Allin server carries: 500 clients at once, on one app worker and on two.

Measured: 500 WebSocket clients (`--clients`) at once, each with its own account (signed up through
Allin's endpoint, as in `chat_overhead.py`), its own chat and its own socket, each sending its
messages one after the other for 30 s (`--seconds`), against a zero-latency model (the offline
model with `ALLIN_OFFLINE_TOKEN_DELAY_MS=0`). The messages still being answered when the time is
up complete and count, so the timed span lasts until the last answer. Reported: messages/s, the
time from sending a message to its first `token` frame (TTFT) and to its `done` frame at
p50/p95/p99, errors (the goal is 0; a few are kept as samples), and the server's peak memory
under load: the summed RSS of its process tree (the `allin serve` process and all its workers,
sampled with psutil), and apart from it that of the embedded Postgres (postmaster and backends;
shared buffers count in every backend that touched them, so that sum overstates it).

Then the same with `allin serve --workers 2`, which also turns on the Postgres LISTEN/NOTIFY
relay between the workers, and the ratio of its figures to the one-worker run measured just
before. Both runs share this machine's cores with the load generator (its CPU is reported too).

Set-up: `allin serve` on 127.0.0.1 in its own process, on a fresh temporary data dir (so its own
embedded Postgres: `DATABASE_URL` is unset) that both runs share, as they share the accounts
(signed up once, before anything is timed: argon2 makes that the slowest part). Settings are the
defaults except the offline model without delay, `ALLIN_RATE_LIMIT_PER_MINUTE=0` (the per-user
limit would throttle the clients) and `ALLIN_MEMORY=off` (below). Clients connect a few at a time
(`CONNECT_CONCURRENCY`; 500 connects at once could overflow the accept backlog), each sending one
uncounted warm-up message, so that neither connecting nor a chat's first turn is timed; then all
send at once. The open-file limit is raised to the hard limit.

Why memory is off: with it on (as users run it; `--memory` keeps it), each turn first searches the
user's memories, which embeds the question with MiniLM, one embedding at a time per worker. Under
this load those searches wait past `ALLIN_MEMORY_TIMEOUT_S` (5 s): every turn then waits 5 s and is
answered without memory (the server logs an error for each), and two workers did worse than one.
At 50 clients TTFT p50 was 5.1 s, and two workers answered 2 messages/s against 10.8 for one; at
500 clients the first messages took a minute. That measures the memory timeout, not the chat;
`bench/memory.py` measures memory.

`--quick` is a smoke run (20 clients for 2 s) that also turns voice off: no message here is
spoken, and the speech models load for some 15 s after each server starts, which the bench waits
out before measuring.

    .venv/bin/python bench/load.py [--quick] [--clients N] [--seconds S] [--memory] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import resource
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.table import Table

import chat_overhead
from chat_overhead import (
    BENCH_DIR,
    LATENCY_ROWS,
    SERVER_START_TIMEOUT_S,
    BenchAccount,
    Client,
    PhaseResult,
    ServerProcess,
    _cell,
    _free_port,
    _postmaster_pid,
    _stop_stray_postgres,
    log_problems,
    open_client,
    process_tree,
    ratios,
    record_turn,
    serving,
    summarize,
)
from harness import run_bench

T = TypeVar("T")

# Two workers / one, for these figures.
RATIO_KEYS = (
    *chat_overhead.RATIO_KEYS,
    "app_rss_peak_mb",
    "db_rss_peak_mb",
    "server_busy_pct",
    "db_cpu_ms_per_msg",
    "client_cpu_ms_per_msg",
)

WORKER_COUNTS = (1, 2)
# Sign-ups, connects and warm-up messages in flight at once while the clients connect.
CONNECT_CONCURRENCY = 20
WARMUP_MESSAGES = 1
# Longest wait for one answer: with every client sending, an answer waits for about
# clients / (messages/s), far more than chat_overhead's 30 s on a small machine.
LOAD_MESSAGE_TIMEOUT_S = 600.0
MEMORY_SAMPLE_INTERVAL_S = 0.2
# The server counts as idle once its processes use less than this share of a core for a while.
IDLE_CPU_SHARE = 0.1
IDLE_CHECK_S = 0.5
# uvicorn logs this once per worker, when the worker's start-up is done.
WORKER_READY_LINE = "Application startup complete."
# Settings of the user's environment that must not reach the server (it runs on its own defaults).
_FOREIGN_SETTINGS = (
    "DATABASE_URL",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "OPENAI_API_KEY",
    "HOST",
    "PORT",
    "SUPABASE_URL",
    "SUPABASE_ANON_KEY",
    "SUPABASE_JWT_SECRET",
    "SUPABASE_SERVICE_KEY",
    "SUPABASE_SERVICE_ROLE_KEY",
)
SERVER_SETTINGS = {
    "ALLIN_LLM": "offline",
    "ALLIN_OFFLINE_TOKEN_DELAY_MS": "0",
    "ALLIN_RATE_LIMIT_PER_MINUTE": "0",
    # See the module's docstring; `--memory` keeps it on.
    "ALLIN_MEMORY": "off",
}
# `allin serve`, made to stop when this script dies (see `chat_overhead._exit_with_parent`). Run
# with `-c`, not as a script, so that the workers uvicorn spawns do not import this file again.
_SERVE = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); "
    "from chat_overhead import _exit_with_parent; _exit_with_parent(); "
    "from allin.cli import app; app()"
)


@dataclass(frozen=True)
class Plan:
    clients: int
    seconds: float


FULL = Plan(clients=500, seconds=30.0)
QUICK = Plan(clients=20, seconds=2.0)


# --- the server -----------------------------------------------------------------------------------


@contextlib.contextmanager
def allin_server(workdir: Path, workers: int) -> Iterator[ServerProcess]:
    """`allin serve --workers N` on `workdir`'s data dir (made for this run, shared by its
    servers one after the other), once it is ready and idle, until the block exits."""
    name = f"allin-{workers}w"
    data_dir = workdir / "data"
    pgdata = data_dir.resolve() / "pg"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ALLIN_") and key not in _FOREIGN_SETTINGS
    }
    env |= {**SERVER_SETTINGS, "ALLIN_DATA_DIR": str(data_dir)}
    port = _free_port()
    command = [sys.executable, "-c", _SERVE, str(BENCH_DIR), "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers)]
    try:
        with serving(name, command, port, workdir, env, pgdata, needs_account=True) as server:
            _wait_for_workers(server, workers)
            _wait_until_idle(server)
            yield server
    finally:
        _stop_stray_postgres(pgdata)


def _wait_for_workers(server: ServerProcess, workers: int) -> None:
    """With several workers the port listens before they have started: wait for each, or the
    first connections would all go to the one that is ready first."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            tail = "\n".join(server.log_lines()[-20:])
            raise RuntimeError(f"{server.name} exited at start-up:\n{tail}")
        if sum(WORKER_READY_LINE in line for line in server.log_lines()) >= workers:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{server.name}: not all {workers} workers started within the time")


def _wait_until_idle(server: ServerProcess) -> None:
    """Some start-up work goes on after the workers accept connections (loading the embedding
    model, when memory is off): wait for it to end, so that it is not measured."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    before = server.cpu_s().server or 0.0
    while time.monotonic() < deadline:
        time.sleep(IDLE_CHECK_S)
        now = server.cpu_s().server or 0.0
        if now - before < IDLE_CPU_SHARE * IDLE_CHECK_S:
            return
        before = now
    raise RuntimeError(f"{server.name} was still busy {SERVER_START_TIMEOUT_S:g} s after start")


@dataclass
class MemoryPeaks:
    """Largest summed RSS seen, in bytes: of the server's processes, of Postgres', of both."""

    app: int = 0
    db: int = 0
    total: int = 0
    app_processes: int = 0


class MemorySampler:
    """Samples the RSS of the server's process tree and of the embedded Postgres in a thread."""

    def __init__(self, server: ServerProcess) -> None:
        self._server = server
        self._peaks = MemoryPeaks()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def sample(self) -> MemoryPeaks:
        """One sample now (also folded into the peaks)."""
        postmaster = _postmaster_pid(self._server.pgdata) if self._server.pgdata else None
        db = (process_tree(postmaster) if postmaster else None) or []
        db_pids = {process.pid for process in db}
        # The app's processes, not Postgres' even if it ran as their child.
        app = [p for p in process_tree(self._server.process.pid) or [] if p.pid not in db_pids]
        now = MemoryPeaks(_rss(app), _rss(db), 0, len(app))
        now.total = now.app + now.db
        with self._lock:
            peaks = self._peaks
            peaks.app, peaks.db = max(peaks.app, now.app), max(peaks.db, now.db)
            peaks.total = max(peaks.total, now.total)
            peaks.app_processes = max(peaks.app_processes, now.app_processes)
        return now

    def take_peaks(self) -> MemoryPeaks:
        """The peaks since the last call (or the start), and start over."""
        with self._lock:
            peaks, self._peaks = self._peaks, MemoryPeaks()
        return peaks

    def _run(self) -> None:
        while not self._stop.wait(MEMORY_SAMPLE_INTERVAL_S):
            self.sample()

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _rss(processes: list[Any]) -> int:
    total = 0
    for process in processes:
        with contextlib.suppress(Exception):  # psutil.Error: the process just went away
            total += process.memory_info().rss
    return total


# --- load -----------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    workers: int
    phase: PhaseResult
    connected: int = 0
    ramp_s: float = 0.0
    idle: MemoryPeaks = field(default_factory=MemoryPeaks)
    ramp_memory: MemoryPeaks = field(default_factory=MemoryPeaks)
    load_memory: MemoryPeaks = field(default_factory=MemoryPeaks)


async def _gated(gate: asyncio.Semaphore, job: Awaitable[T]) -> T:
    async with gate:
        return await job


async def drive_until(client: Client, deadline: float, result: PhaseResult) -> None:
    """Send messages one after the other until the deadline (or until the socket breaks)."""
    while time.monotonic() < deadline and await record_turn(client, result):
        pass


async def sign_up(server: ServerProcess, count: int) -> tuple[list[BenchAccount], list[str]]:
    """`count` accounts, made a few at a time (each costs the server an argon2 hash)."""
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    made = await asyncio.gather(
        *(_gated(gate, server.account(uuid.uuid4().hex[:12])) for _ in range(count)),
        return_exceptions=True,
    )
    accounts = [account for account in made if isinstance(account, BenchAccount)]
    return accounts, [f"sign-up: {e!r}" for e in made if isinstance(e, BaseException)]


async def run_load(
    server: ServerProcess, workers: int, plan: Plan, accounts: list[BenchAccount]
) -> LoadResult:
    """Connect a client per account, a few at a time, each with its warm-up message; then time
    them all sending until the time is up, and until their last answers arrive."""
    result = LoadResult(workers, PhaseResult(server.name, plan.clients))
    phase = result.phase
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    with MemorySampler(server) as memory:
        result.idle = memory.sample()
        async with contextlib.AsyncExitStack() as stack:
            started = time.perf_counter()
            opened = await asyncio.gather(
                *(
                    _gated(gate, open_client(server, stack, WARMUP_MESSAGES, account))
                    for account in accounts
                ),
                return_exceptions=True,
            )
            result.ramp_s = time.perf_counter() - started
            ready = [client for client in opened if isinstance(client, Client)]
            result.connected = len(ready)
            phase.errors += [
                f"connect/warm-up: {error!r}"
                for error in opened
                if isinstance(error, BaseException)
            ]
            result.ramp_memory = memory.take_peaks()
            for client in ready:
                client.timeout_s = LOAD_MESSAGE_TIMEOUT_S
            deadline = time.monotonic() + plan.seconds
            cpu_before = server.cpu_s()
            started = time.perf_counter()
            await asyncio.gather(*(drive_until(client, deadline, phase) for client in ready))
            phase.elapsed_s = time.perf_counter() - started
            phase.cpu = server.cpu_s() - cpu_before
        memory.sample()
        result.load_memory = memory.take_peaks()
    return result


def _raise_fd_limit(clients: int) -> int:
    """Each client is a socket here and one in the server (a child: it inherits the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max(soft, 65536) if hard == resource.RLIM_INFINITY else hard
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted < 2 * clients + 256:
        raise SystemExit(f"open-file limit {wanted} is too low for {clients} clients")
    return wanted


# --- report ---------------------------------------------------------------------------------------


def _mb(value: int) -> float:
    return round(value / 2**20, 1)


def summarize_load(result: LoadResult) -> dict[str, Any]:
    summary = summarize(result.phase)
    summary.pop("messages_planned")
    return {
        "workers": result.workers,
        "clients_connected": result.connected,
        "ramp_up_s": round(result.ramp_s, 1),
        **summary,
        "app_processes": result.load_memory.app_processes,
        "app_rss_idle_mb": _mb(result.idle.app),
        "app_rss_peak_ramp_mb": _mb(result.ramp_memory.app),
        "app_rss_peak_mb": _mb(result.load_memory.app),
        "db_rss_peak_mb": _mb(result.load_memory.db),
        "total_rss_peak_mb": _mb(result.load_memory.total),
    }


_ROWS = (
    ("clients connected", "clients_connected"),
    ("ramp-up s", "ramp_up_s"),
    ("timed s", "elapsed_s"),
    ("msgs/s", "messages_per_s"),
    *LATENCY_ROWS,
    ("completed", "messages_completed"),
    ("errors", "errors"),
    ("server RSS idle MB", "app_rss_idle_mb"),
    ("server RSS peak MB", "app_rss_peak_mb"),
    ("postgres RSS peak MB", "db_rss_peak_mb"),
    ("server processes", "app_processes"),
    ("server busy %", "server_busy_pct"),
    ("server CPU/msg", "server_cpu_ms_per_msg"),
    ("pg CPU/msg", "db_cpu_ms_per_msg"),
    ("client CPU/msg", "client_cpu_ms_per_msg"),
    ("tokens/answer", "tokens_per_answer"),
)


def render(results: dict[str, Any], console: Console) -> None:
    one, two = (results["runs"][str(n)] for n in WORKER_COUNTS)
    ratio = results["ratio_2_vs_1"]
    clients, seconds = results["meta"]["clients"], results["meta"]["seconds"]
    table = Table(
        title=f"Allin under load: {clients} WebSocket clients for {seconds:g} s",
        caption="ms unless said; ratio = 2 workers / 1 worker; busy = % of one core",
    )
    for name in ("metric", "1 worker", "2 workers", "ratio"):
        table.add_column(name, justify="left" if name == "metric" else "right")
    for label, key in _ROWS:
        table.add_row(
            label,
            _cell(one[key], key),
            _cell(two[key], key),
            f"{ratio[key]:g}×" if ratio.get(key) is not None else "",
        )
    console.print(table)
    throughput = ratio["messages_per_s"]
    console.print(
        "throughput, 2 workers vs 1: "
        + (f"[bold]{throughput:g}×[/bold]" if throughput is not None else "–")
        + f" ({two['messages_per_s']} vs {one['messages_per_s']} messages/s)"
    )
    for run in (one, two):
        for sample in run["error_samples"]:
            console.print(f"[red]{run['workers']} worker(s):[/red] {sample}", markup=False)


# --- orchestration --------------------------------------------------------------------------------


def run(plan: Plan, console: Console) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="allin-bench-load-"))
    started = time.monotonic()
    runs: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    accounts: list[BenchAccount] | None = None
    try:
        for workers in WORKER_COUNTS:
            with allin_server(workdir, workers) as server:
                console.print(
                    f"{server.name} up on port {server.port} ({time.monotonic() - started:.1f} s)"
                )
                signup_errors: list[str] = []
                if accounts is None:
                    signup_started = time.perf_counter()
                    accounts, signup_errors = asyncio.run(sign_up(server, plan.clients))
                    console.print(
                        f"{len(accounts)} accounts made in "
                        f"{time.perf_counter() - signup_started:.1f} s"
                    )
                result = asyncio.run(run_load(server, workers, plan, accounts))
                result.phase.errors[:0] = signup_errors
                runs[str(workers)] = summarize_load(result)
                problems[server.name] = log_problems(server)
            console.print(
                f"{server.name}: {runs[str(workers)]['messages_per_s']} messages/s, "
                f"{runs[str(workers)]['errors']} errors"
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "meta": _meta(plan, time.monotonic() - started),
        "runs": runs,
        "ratio_2_vs_1": ratios(runs["2"], runs["1"], RATIO_KEYS),
        "server_log_problems": problems,
    }


def _meta(plan: Plan, elapsed_s: float) -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "clients": plan.clients,
        "seconds": plan.seconds,
        "warmup_per_client": WARMUP_MESSAGES,
        "message_timeout_s": LOAD_MESSAGE_TIMEOUT_S,
        "connect_concurrency": CONNECT_CONCURRENCY,
        "server_settings": SERVER_SETTINGS,
        "memory": SERVER_SETTINGS.get("ALLIN_MEMORY", "on"),
        "voice": SERVER_SETTINGS.get("ALLIN_VOICE", "default"),
        "open_file_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        "elapsed_s": round(elapsed_s, 1),
    }


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK.clients} clients for {QUICK.seconds:g} s, voice off (a smoke run)",
    )
    parser.add_argument("--clients", type=int, metavar="N", help=f"default {FULL.clients}")
    parser.add_argument("--seconds", type=float, metavar="S", help=f"default {FULL.seconds:g}")
    parser.add_argument(
        "--memory", action="store_true", help="keep long-term memory on (off by default here)"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    base = QUICK if args.quick else FULL
    plan = Plan(args.clients or base.clients, args.seconds or base.seconds)
    _raise_fd_limit(plan.clients)
    if args.memory:
        del SERVER_SETTINGS["ALLIN_MEMORY"]
    if args.quick:
        # The speech models load for some 15 s after each server starts, which the bench waits
        # out; no message here is spoken, so a smoke run does without them.
        SERVER_SETTINGS["ALLIN_VOICE"] = "off"
    return run_bench(lambda console: run(plan, console), report, args.json)


def report(results: dict[str, Any], console: Console) -> None:
    render(results, console)
    meta = results["meta"]
    console.print(
        f"{meta['cpus']} CPUs, Python {meta['python']}, {meta['clients']} clients "
        f"(connected {CONNECT_CONCURRENCY} at a time), memory {meta['memory']}, "
        f"voice {meta['voice']}, total {meta['elapsed_s']} s"
    )


if __name__ == "__main__":
    sys.exit(main())

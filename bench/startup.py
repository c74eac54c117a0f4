"""Start-up: how long `allin serve` takes before it answers at all (`/healthz`: the UI and logins
answer from then on) and before `/readyz` says it is ready (long-term memory loaded: it loads in
the background), against bare uvicorn serving an empty FastAPI app started the same way in the
same run (the cost of Python, uvicorn and FastAPI alone). Measured on a fresh data directory
(embedded Postgres created, migrations, models loaded) and on one that exists (the usual
restart). The app logs where its start-up time goes ("start-up: …" lines); they are shown for the
last run.

Run: `python bench/startup.py [--quick] [--json PATH]`.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from harness import Results, bench_parser, run_bench

_BARE_APP = """
import fastapi, uvicorn, sys
app = fastapi.FastAPI()

@app.get("/healthz")
@app.get("/readyz")
def ready() -> dict[str, str]:
    return {"status": "ready"}

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""
_READY_TIMEOUT_S = 180
_PHASE = re.compile(r"start-up: (.*)$")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _time_to_ready(command: list[str], port: int, env: dict[str, str]) -> tuple[float, float, str]:
    """Seconds from spawning `command` to its first 200 on /healthz and on /readyz, and what it
    logged."""
    started = time.monotonic()
    answering = None
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() - started < _READY_TIMEOUT_S:
                if process.poll() is not None:
                    raise RuntimeError(f"{command[0]} exited with {process.returncode}")
                try:
                    if answering is None and _ok(client, port, "/healthz"):
                        answering = time.monotonic() - started
                    if answering is not None and _ok(client, port, "/readyz"):
                        return answering, time.monotonic() - started, _stop(process)
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        raise TimeoutError(f"not ready after {_READY_TIMEOUT_S} s")
    finally:
        if process.poll() is None:
            _stop(process)


def _ok(client: httpx.Client, port: int, path: str) -> bool:
    return client.get(f"http://127.0.0.1:{port}{path}").status_code == 200


def _stop(process: subprocess.Popen[str]) -> str:
    os.killpg(process.pid, signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    return output or ""


def measure(quick: bool) -> Results:
    runs = 1 if quick else 3
    env = {**os.environ, "ALLIN_LOG_LEVEL": "INFO"}
    allin = [str(Path(sys.executable).with_name("allin")), "serve", "--host", "127.0.0.1"]
    names = ("bare uvicorn", "allin, fresh data dir", "allin")
    answering: dict[str, list[float]] = {name: [] for name in names}
    ready: dict[str, list[float]] = {name: [] for name in names}
    phases: list[str] = []
    with tempfile.TemporaryDirectory(prefix="allin-startup-") as root:
        for run in range(runs):
            data_dir = Path(root) / f"data-{run}"
            fresh_env = {**env, "ALLIN_DATA_DIR": str(data_dir)}
            commands = {
                "bare uvicorn": ([sys.executable, "-c", _BARE_APP], env),
                "allin, fresh data dir": (allin, fresh_env),
                "allin": (allin, fresh_env),  # the same data dir again: a restart
            }
            for name, (command, command_env) in commands.items():
                port = free_port()
                port_args = [str(port)] if name == "bare uvicorn" else ["--port", str(port)]
                first, last, log = _time_to_ready([*command, *port_args], port, command_env)
                answering[name].append(first)
                ready[name].append(last)
            phases = [match[1] for line in log.splitlines() if (match := _PHASE.search(line))]
    answers_s = {name: statistics.median(values) for name, values in answering.items()}
    ready_s = {name: statistics.median(values) for name, values in ready.items()}
    return {
        "runs": runs,
        "seconds_to_answer": answering,
        "seconds_to_ready": ready,
        "median_answer_s": answers_s,
        "median_s": ready_s,
        "ratio_to_bare": {name: answers_s[name] / answers_s["bare uvicorn"] for name in names},
        "phases": phases,
        "server_log_problems": {},
    }


def report(results: Results, console: Console) -> None:
    table = Table(title=f"Start-up (median of {results['runs']})")
    table.add_column("server")
    table.add_column("answers (/healthz), s", justify="right")
    table.add_column("× bare uvicorn", justify="right")
    table.add_column("ready (/readyz), s", justify="right")
    for name, seconds in results["median_answer_s"].items():
        table.add_row(
            name,
            f"{seconds:.2f}",
            f"{results['ratio_to_bare'][name]:.1f}×",
            f"{results['median_s'][name]:.2f}",
        )
    console.print(table)
    for phase in results["phases"]:
        console.print(f"  {phase}", markup=False)


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, "one run instead of three")
    options = parser.parse_args(argv)

    def measured(console: Console) -> dict[str, Any]:
        console.print("starting servers…")
        return measure(options.quick)

    return run_bench(measured, report, options.json)


if __name__ == "__main__":
    sys.exit(main())

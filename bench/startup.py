"""Start-up: how long `allin serve` takes before it answers `/readyz`, against bare uvicorn
serving an empty FastAPI app started the same way in the same run (the cost of Python, uvicorn and
FastAPI alone). Measured on a fresh data directory (embedded Postgres created, migrations, models
loaded) and on one that exists (the usual restart). The app logs where its start-up time goes
("start-up: …" lines); they are shown for the last run.

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


def _time_to_ready(command: list[str], port: int, env: dict[str, str]) -> tuple[float, str]:
    """Seconds from spawning `command` to its first 200 on /readyz, and what it logged."""
    started = time.monotonic()
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
                    if client.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                        return time.monotonic() - started, _stop(process)
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        raise TimeoutError(f"not ready after {_READY_TIMEOUT_S} s")
    finally:
        if process.poll() is None:
            _stop(process)


def _stop(process: subprocess.Popen[str]) -> str:
    os.killpg(process.pid, signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    return output or ""


def measure(quick: bool) -> Results:
    runs = 1 if quick else 3
    env = {**os.environ, "ALLIN_LOG_LEVEL": "INFO"}
    allin = [str(Path(sys.executable).with_name("allin")), "serve", "--host", "127.0.0.1"]
    timings: dict[str, list[float]] = {"bare uvicorn": [], "allin, fresh data dir": [], "allin": []}
    phases: list[str] = []
    with tempfile.TemporaryDirectory(prefix="allin-startup-") as root:
        for run in range(runs):
            port = free_port()
            seconds, _ = _time_to_ready([sys.executable, "-c", _BARE_APP, str(port)], port, env)
            timings["bare uvicorn"].append(seconds)

            data_dir = Path(root) / f"data-{run}"
            fresh_env = {**env, "ALLIN_DATA_DIR": str(data_dir)}
            port = free_port()
            seconds, _ = _time_to_ready([*allin, "--port", str(port)], port, fresh_env)
            timings["allin, fresh data dir"].append(seconds)

            port = free_port()
            seconds, log = _time_to_ready([*allin, "--port", str(port)], port, fresh_env)
            timings["allin"].append(seconds)
            phases = [match[1] for line in log.splitlines() if (match := _PHASE.search(line))]
    medians = {name: statistics.median(values) for name, values in timings.items()}
    return {
        "runs": runs,
        "seconds": timings,
        "median_s": medians,
        "ratio_to_bare": {name: medians[name] / medians["bare uvicorn"] for name in medians},
        "phases": phases,
        "server_log_problems": {},
    }


def report(results: Results, console: Console) -> None:
    table = Table(title=f"Start-up to /readyz (median of {results['runs']})")
    table.add_column("server")
    table.add_column("seconds", justify="right")
    table.add_column("× bare uvicorn", justify="right")
    for name, seconds in results["median_s"].items():
        table.add_row(name, f"{seconds:.2f}", f"{results['ratio_to_bare'][name]:.1f}×")
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

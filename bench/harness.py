"""What a benchmark that runs servers does around its measurement: Ctrl-C and SIGTERM stop the
servers cleanly, then the report, the warnings and errors the servers logged, and the JSON. And
helpers to measure latency under concurrency, stage by stage."""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from allin.workers import children_skip_main

Results = dict[str, Any]


def bench_parser(doc: str | None, quick_help: str) -> argparse.ArgumentParser:
    """The options every such benchmark takes, `--quick` and `--json PATH`, described by the
    first paragraph of its `doc`."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0] if doc else None)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    return parser


def run_bench(
    measure: Callable[[Console], Results],
    report: Callable[[Results, Console], None],
    json_path: Path | None,
    stopped: str = "servers",
) -> int:
    """`measure` the results (with `server_log_problems`: server name → lines), `report` them,
    show the first problems and write the results to `json_path` if given; the exit status."""
    console = Console()
    # As the app does (`allin.cli`): a sandboxed parser must not re-import the benchmark.
    children_skip_main()
    # Turn SIGTERM into an exception too, so the `finally` blocks stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        results = measure(console)
    except KeyboardInterrupt:
        console.print(f"[yellow]interrupted; {stopped} stopped[/yellow]")
        return 130
    report(results, console)
    problems: dict[str, list[str]] = results["server_log_problems"]
    for name, lines in problems.items():
        if lines:
            console.print(f"[yellow]{name} server logged {len(lines)} warning/error line(s):")
            for line in lines[:5]:
                console.print(f"  {line}", markup=False)
    # The JSON keeps how many there were, and the first few.
    results["server_log_problem_counts"] = {name: len(lines) for name, lines in problems.items()}
    results["server_log_problems"] = {name: lines[:20] for name, lines in problems.items()}
    if json_path:
        json_path.write_text(json.dumps(results, indent=2) + "\n")
        console.print(f"results written to {json_path}")
    return 0


# --- latency under concurrency ------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank `q`th percentile of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round((len(ordered) - 1) * q / 100))]


async def concurrent_latencies(
    calls: Sequence[Callable[[], Awaitable[object]]], concurrency: int
) -> tuple[list[float], float]:
    """Run `calls` with `concurrency` of them in flight at any time (each worker takes the next
    call as soon as its last one ends); returns each call's seconds, in order, and the wall time."""
    seconds = [0.0] * len(calls)
    queue = iter(range(len(calls)))

    async def worker() -> None:
        for n in queue:
            started = time.perf_counter()
            await calls[n]()
            seconds[n] = time.perf_counter() - started

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return seconds, time.perf_counter() - started


class StageClock:
    """Seconds spent in named stages of a pipeline, per asyncio task: `start()` in the task that
    runs one request, then `timed(stage)` wraps the coroutine functions that make the stages."""

    def __init__(self) -> None:
        self._spent: contextvars.ContextVar[dict[str, float] | None] = contextvars.ContextVar(
            "stage_clock", default=None
        )

    def start(self) -> dict[str, float]:
        spent: dict[str, float] = {}
        self._spent.set(spent)
        return spent

    def timed(
        self, stage: str, function: Callable[..., Awaitable[Any]]
    ) -> Callable[..., Awaitable[Any]]:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                spent = self._spent.get()
                if spent is not None:
                    spent[stage] = spent.get(stage, 0.0) + time.perf_counter() - started

        return wrapper

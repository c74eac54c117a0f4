"""What a benchmark that runs servers does around its measurement: Ctrl-C and SIGTERM stop the
servers cleanly, then the report, the warnings and errors the servers logged, and the JSON."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

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

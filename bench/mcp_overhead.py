"""What an MCP tool call costs over calling the code behind it: `search_knowledge` through the
official SDK's client, over Streamable HTTP with a personal access token, against the real app in
its own process, versus `Retriever.search` called directly in this process, in the same run, on
the same database and the same questions. Goal: the ratio at most 1.3×.

The MCP path adds the HTTP round trip, the token check (one query), the SDK's per-request
transport (the server is stateless), argument validation and the typed result's JSON both ways.
Calls alternate between the two paths, so machine noise (shared CPUs) falls on both alike.

    .venv/bin/python bench/mcp_overhead.py [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from rich.console import Console
from rich.table import Table

from allin.config import Settings
from allin.rag.hybrid import Scope
from allin.services import Services
from allin.storage.embedded import start_embedded_postgres

GOAL = 1.3
K = 5
DOCUMENTS = 40
TOPICS = [
    "deploying the billing service",
    "rotating database credentials",
    "the on-call handbook",
    "feature flags and gradual rollouts",
    "writing integration tests against Postgres",
    "the release train and code freeze",
    "observability dashboards and alerts",
    "onboarding a new engineer to the monorepo",
]
# fmt: off
WORDS = [
    "service", "deploy", "rollback", "queue", "cache", "token", "latency", "schema", "migration",
    "index", "replica", "shard", "alert", "dashboard", "runbook", "pager", "incident", "review",
    "branch", "merge", "release", "freeze", "flag", "canary", "pipeline", "build", "artifact",
    "container", "cluster", "node", "secret", "vault", "audit", "retention", "backup",
]
# fmt: on
console = Console()


def corpus(seed: int = 8) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    files = []
    for n in range(DOCUMENTS):
        topic = TOPICS[n % len(TOPICS)]
        sections = []
        for s in range(6):
            prose = " ".join(rng.choice(WORDS) for _ in range(120))
            sections.append(f"## {topic.capitalize()}, part {s + 1}\n\n{topic}: {prose}.\n")
        files.append(
            (f"doc-{n:02d}.md", f"# {topic.title()} ({n})\n\n{''.join(sections)}".encode())
        )
    return files


def questions(count: int, seed: int = 18) -> list[str]:
    rng = random.Random(seed)
    return [
        f"How do we handle {rng.choice(TOPICS)} with {rng.choice(WORDS)} and {rng.choice(WORDS)}?"
        for _ in range(count)
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def app_process(database_url: str, data_dir: Path, log: Path) -> Iterator[str]:
    """The app as `allin serve` runs it (one worker), without limits that a benchmark trips."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALLIN_")}
    env |= {
        "DATABASE_URL": database_url,
        "ALLIN_DATA_DIR": str(data_dir),
        "ALLIN_LLM": "offline",
        "ALLIN_VOICE": "off",
        "ALLIN_MEMORY": "false",
        "ALLIN_JOBS_WORKER": "false",
        "ALLIN_RATE_LIMIT_PER_MINUTE": "0",
        "ALLIN_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "allin.app:app_from_env"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise RuntimeError(f"the app exited: {log.read_text()[-2000:]}")
                try:
                    if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            else:
                raise RuntimeError("the app did not start")
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


async def personal_token(url: str) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        signed = await http.post(
            "/api/v1/auth/signup",
            json={"email": "bench@example.com", "password": "correct horse battery staple"},
        )
        signed.raise_for_status()
        headers = {"Authorization": f"Bearer {signed.json()['access_token']}"}
        created = await http.post("/api/v1/tokens", json={"name": "bench"}, headers=headers)
        created.raise_for_status()
        return str(created.json()["token"])


async def measure(services: Services, url: str, asked: list[str], warm_up: int) -> dict[str, Any]:
    token = await personal_token(url)
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60)
    scope = Scope("nobody-in-particular")  # shared documents only, as the bench account sees
    direct: list[float] = []
    via_mcp: list[float] = []
    async with http, Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client:
        for n, question in enumerate(asked):
            started = time.perf_counter()
            passages = await services.retriever.search(scope, question, K)
            direct_s = time.perf_counter() - started
            started = time.perf_counter()
            result = await client.call_tool("search_knowledge", {"query": question, "k": K})
            mcp_s = time.perf_counter() - started
            if result.is_error or result.structured_content is None:
                raise RuntimeError(f"search_knowledge failed: {result.content}")
            found = [p["citation"]["chunk_id"] for p in result.structured_content["passages"]]
            if found != [p.chunk_id for p in passages]:
                raise RuntimeError(f"the two paths disagree on {question!r}")
            if n >= warm_up:
                direct.append(direct_s)
                via_mcp.append(mcp_s)
    return summary(direct, via_mcp)


def summary(direct: list[float], via_mcp: list[float]) -> dict[str, Any]:
    def ms(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return round(ordered[min(len(ordered) - 1, round((len(ordered) - 1) * q))] * 1000, 2)

    figures: dict[str, Any] = {"calls": len(direct)}
    for name, q in (("p50", 0.5), ("p95", 0.95)):
        figures[f"direct_{name}_ms"] = ms(direct, q)
        figures[f"mcp_{name}_ms"] = ms(via_mcp, q)
        figures[f"ratio_{name}"] = round(ms(via_mcp, q) / ms(direct, q), 2)
    figures["direct_mean_ms"] = round(statistics.mean(direct) * 1000, 2)
    figures["mcp_mean_ms"] = round(statistics.mean(via_mcp) * 1000, 2)
    figures["ratio_mean"] = round(figures["mcp_mean_ms"] / figures["direct_mean_ms"], 2)
    figures["added_p50_ms"] = round(figures["mcp_p50_ms"] - figures["direct_p50_ms"], 2)
    return figures


async def run(workdir: Path, database_url: str, calls: int) -> dict[str, Any]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        llm="offline",
        voice="off",
        memory=False,
        jobs_worker=False,
        data_dir=workdir / "data",
        database_url=database_url,
    )
    services = await Services.start(settings)
    try:
        for name, data in corpus():
            outcome = await services.ingestor.ingest(
                owner_id="team", name=name, data=data, shared=True
            )
            if outcome.status != "indexed":
                raise RuntimeError(f"{name}: {outcome.error}")
        with app_process(database_url, workdir / "data", workdir / "app.log") as url:
            warm_up = max(5, calls // 10)
            return await measure(services, url, questions(calls + warm_up), warm_up)
    finally:
        await services.stop()


def render(figures: dict[str, Any]) -> None:
    table = Table(title=f"search_knowledge over MCP vs Retriever.search ({figures['calls']} calls)")
    for column in ("", "direct", "MCP (HTTP, PAT)", "ratio"):
        table.add_column(column, justify="right")
    for name in ("p50", "p95", "mean"):
        table.add_row(
            name,
            f"{figures[f'direct_{name}_ms']} ms",
            f"{figures[f'mcp_{name}_ms']} ms",
            f"{figures[f'ratio_{name}']}×",
        )
    console.print(table)
    verdict = "[green]within[/green]" if figures["ratio_p50"] <= GOAL else "[red]over[/red]"
    console.print(
        f"p50 ratio {figures['ratio_p50']}× ({figures['added_p50_ms']} ms added): "
        f"{verdict} the {GOAL}× goal"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="50 calls instead of 300")
    parser.add_argument("--json", type=Path, metavar="PATH")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="allin-bench-mcp-"))
    server = start_embedded_postgres(workdir / "pg")
    try:
        figures = asyncio.run(run(workdir, str(server.get_uri()), 50 if args.quick else 300))
    finally:
        server.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    render(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Repository sync speed on the Flask repository, each figure against a baseline measured in the
same run: a full sync against the bare embedder on the same chunk texts, the job queue against a
sync in-process, an incremental sync of the next 20 commits against a full sync, and two workers
against one.

Runs on an embedded Postgres of its own under a temporary folder, with the offline embedder.
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from allin.config import Settings, VoiceMode
from allin.jobs.options import WorkerOptions
from allin.services import Services
from allin.sources.embedding import chunk_embedding_text, piece_embedding_texts
from harness import bench_parser, run_bench

BUNDLE = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "repos" / "flask.bundle"
_EMBED_BATCH = 64
_HISTORY = 20


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def clone(target: Path, back: int = 0) -> Path:
    subprocess.run(["git", "clone", "-q", str(BUNDLE), str(target)], check=True)
    if back:
        git(target, "reset", "-q", "--hard", f"HEAD~{back}")
    return target


async def timed_sync(services: Services, repository_id: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    report = await services.repositories.sync_now(repository_id)
    return time.perf_counter() - started, report


async def bare_embedder(services: Services, repository_id: str) -> tuple[float, int]:
    """The embedder alone on the texts the sync embedded (its chunks', then their pieces'), in
    batches of the same size; returns the time and how many texts."""
    async with services.db.pool.connection() as conn:
        cursor = await conn.execute(
            "select d.name, c.heading, c.content, c.meta from document_chunks c join documents d"
            " on d.id = c.document_id where d.repository_id = %s order by c.id",
            (repository_id,),
        )
        rows = await cursor.fetchall()
    texts = [
        chunk_embedding_text(r["name"], r["heading"], r["content"], r["meta"].get("terms", ""))
        for r in rows
    ] + [
        text
        for r in rows
        for text in piece_embedding_texts(
            r["name"], r["content"], r["meta"]["start_line"], r["meta"].get("pieces", [])
        )
    ]
    started = time.perf_counter()
    for start in range(0, len(texts), _EMBED_BATCH):
        await services.embedder.embed_documents(texts[start : start + _EMBED_BATCH])
    return time.perf_counter() - started, len(texts)


async def queued_sync(services: Services, workers: int, paths: list[Path]) -> float:
    """Add every repository of `paths` and let `workers` queue workers sync them."""
    started = time.perf_counter()
    jobs = [
        (await services.repositories.add("bench", str(path), f"q{workers}-{path.name}", None))
        for path in paths
    ]
    tasks = [
        asyncio.create_task(services.jobs.run_worker(WorkerOptions(), wait=False))
        for _ in range(workers)
    ]
    for queued in jobs:
        status = await services.jobs.wait(queued.job_id, poll_s=0.1)
        assert status == "succeeded", status
    elapsed = time.perf_counter() - started
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for queued in jobs:
        await services.repositories.remove(queued.repository.id)
    return elapsed


async def measure_async(quick: bool, console: Console) -> dict[str, Any]:
    if not BUNDLE.exists():
        raise SystemExit(f"{BUNDLE} is missing: this benchmark syncs the Flask repository")
    with tempfile.TemporaryDirectory(prefix="allin-bench-repos-") as folder:
        root = Path(folder)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=root / "data",
            llm="offline",
            memory=False,
            voice=VoiceMode.OFF,
            jobs_worker=False,
        )
        services = await Services.start(settings)
        try:
            await services.embedder.warm_up()
            results: dict[str, Any] = {}
            head = clone(root / "flask")
            registered = await services.repositories.register("bench", str(head), "flask", None)
            console.print("full sync in-process…")
            full_s, report = await timed_sync(services, registered.id)
            repository = await services.repositories.store.get(registered.id)
            results["files"], results["chunks"] = repository.file_count, repository.chunk_count
            results["full_sync_s"] = full_s
            console.print("the bare embedder on the same chunk texts…")
            bare_s, texts = await bare_embedder(services, registered.id)
            results["bare_embedder_s"], results["embedded_texts"] = bare_s, texts

            console.print(f"incremental sync of the next {_HISTORY} commits…")
            old = clone(root / "flask-old", back=_HISTORY)
            behind = await services.repositories.register("bench", str(old), "flask-old", None)
            await services.repositories.sync_now(behind.id)
            git(old, "pull", "-q", "--ff-only", str(head), "main")
            results["incremental_s"], incremental = await timed_sync(services, behind.id)
            results["incremental_files"] = incremental["indexed"] + incremental["moved"]
            results["incremental_removed"] = incremental["removed"]
            await services.repositories.remove(behind.id)
            await services.repositories.remove(registered.id)

            if not quick:
                console.print("full sync through the job queue…")
                results["queued_s"] = await queued_sync(services, 1, [head])
                second = clone(root / "flask-2")
                console.print("two repositories, one worker then two…")
                results["one_worker_two_repos_s"] = await queued_sync(services, 1, [head, second])
                results["two_workers_two_repos_s"] = await queued_sync(services, 2, [head, second])
            results["report"] = report
            results["server_log_problems"] = {}
            return results
        finally:
            await services.stop()


def report(results: dict[str, Any], console: Console) -> None:
    files, chunks = results["files"], results["chunks"]
    full, bare = results["full_sync_s"], results["bare_embedder_s"]
    table = Table(title=f"Repository sync: Flask at HEAD ({files} files, {chunks} chunks)")
    for column in ("measure", "time", "rate", "against", "ratio"):
        table.add_column(column, justify="right")
    table.add_row(
        "full sync (in-process)",
        f"{full:.1f} s",
        f"{files / full:.0f} files/s",
        "bare embedder",
        f"{bare / full:.2f}× its chunks/s",
    )
    texts = results["embedded_texts"]
    table.add_row(
        f"bare embedder ({texts} texts: chunks and pieces)",
        f"{bare:.1f} s",
        f"{chunks / bare:.0f} chunks/s",
        "",
        "",
    )
    table.add_row(
        f"incremental, {_HISTORY} commits",
        f"{results['incremental_s']:.1f} s",
        f"{results['incremental_files']} files re-indexed",
        "full sync",
        f"{results['incremental_s'] / full:.2f}×",
    )
    if "queued_s" in results:
        table.add_row(
            "full sync (job queue)",
            f"{results['queued_s']:.1f} s",
            "",
            "in-process",
            f"{results['queued_s'] / full:.2f}×",
        )
        one, two = results["one_worker_two_repos_s"], results["two_workers_two_repos_s"]
        table.add_row(
            "2 repositories, 2 workers", f"{two:.1f} s", "", "1 worker", f"{one / two:.2f}× faster"
        )
    console.print(table)


def main() -> int:
    parser = bench_parser(__doc__, "skip the job-queue and two-worker runs")
    args = parser.parse_args()
    return run_bench(
        lambda console: asyncio.run(measure_async(args.quick, console)),
        report,
        args.json,
        stopped="the embedded database",
    )


if __name__ == "__main__":
    raise SystemExit(main())

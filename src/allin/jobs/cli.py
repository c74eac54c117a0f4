"""`allin worker`: a process that works the job queue (repository syncs, learning, uploads)
until stopped."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from allin.jobs.options import WorkerOptions
from allin.terminal import console, load_settings, without_workers


def worker(
    concurrency: Annotated[int, typer.Option(min=1, max=32, help="Syncs run at once.")] = 1,
) -> None:
    """Work the job queue shared by every app and worker on this database, until SIGINT or
    SIGTERM (a job cut short goes back in the queue and resumes where it stopped)."""
    asyncio.run(_work(concurrency))


async def _work(concurrency: int) -> None:
    from allin.services import Services

    settings = without_workers(load_settings(voice=False))
    services = await Services.start(settings)
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(
        services.jobs.run_worker(
            WorkerOptions(
                concurrency=concurrency,
                sync_interval_s=settings.repo_sync_interval_s,
                stalled_after_s=settings.jobs_stalled_after_s,
                ingest_concurrency=settings.ingest_concurrency,
            )
        )
    )
    for stop in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop, task.cancel)
    console.print(f"worker started ({concurrency} at once); Ctrl+C stops it")
    try:
        await task
    except asyncio.CancelledError:
        console.print("worker stopped")
    finally:
        await services.stop()

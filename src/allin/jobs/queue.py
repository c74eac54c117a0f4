"""The job queue: Procrastinate on the app's own Postgres (no broker), shared by every worker on
every machine pointed at the same database.

A sync job holds a lock per repository (one sync of a repository runs at a time, anywhere) and a
queueing lock (asking again while one waits returns the waiting one). A worker that dies mid-job
stops sending heartbeats; any live worker puts such a job back in the queue, and the sync resumes
from what it had staged, so nothing is indexed twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import procrastinate
from procrastinate import exceptions as job_errors
from procrastinate.job_context import JobContext

from allin.errors import NotFound, Unavailable
from allin.sources.sync import RepositorySync
from allin.storage.repositories import RepositoryStore

logger = logging.getLogger(__name__)

SOURCES_QUEUE = "sources"
SYNC_TASK = "sync_repository"
_RETRY = procrastinate.RetryStrategy(max_attempts=3, wait=5, retry_exceptions={Unavailable})


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    concurrency: int = 1
    # A worker with no heartbeat for this long is dead: its jobs go back in the queue. Workers
    # beat three times as often, and look for dead ones twice as often.
    stalled_after_s: float = 30.0
    # When > 0, every repository is synced again this often.
    sync_interval_s: float = 0.0


class JobQueue:
    def __init__(self, url: str, repositories: RepositoryStore, sync: RepositorySync) -> None:
        connector = procrastinate.PsycopgConnector(
            conninfo=url, min_size=1, max_size=4, kwargs={"prepare_threshold": None}
        )
        self.app = procrastinate.App(connector=connector)
        self._repositories = repositories
        self._sync = sync
        self._sync_task = self.app.task(
            name=SYNC_TASK, queue=SOURCES_QUEUE, pass_context=True, retry=_RETRY
        )(self._run_sync)

    async def open(self) -> None:
        await self.app.open_async()

    async def close(self) -> None:
        await self.app.close_async()

    async def defer_sync(self, repository_id: str) -> int:
        """Queue a sync of the repository; if one is already waiting, that one's id."""
        try:
            return await self._sync_task.configure(
                lock=f"repository:{repository_id}",
                queueing_lock=f"sync:{repository_id}",
            ).defer_async(repository_id=repository_id)
        except job_errors.AlreadyEnqueued:
            waiting = await self._waiting_sync(repository_id)
            if waiting is None:  # it started in between: queue the next one
                return await self.defer_sync(repository_id)
            return waiting

    async def _waiting_sync(self, repository_id: str) -> int | None:
        jobs = await self.app.job_manager.list_jobs_async(
            task=SYNC_TASK, status="todo", queueing_lock=f"sync:{repository_id}"
        )
        return next((job.id for job in jobs if job.id is not None), None)

    async def status(self, job_id: int) -> str:
        try:
            status = await self.app.job_manager.get_job_status_async(job_id)
        except (TypeError, KeyError):
            raise NotFound(f"job {job_id} does not exist") from None
        return status.value

    async def cancel(self, job_id: int) -> bool:
        """Cancel a waiting job, or ask a running one to stop (its previous index stays)."""
        return await self.app.job_manager.cancel_job_by_id_async(job_id, abort=True)

    async def wait(self, job_id: int, poll_s: float = 0.5) -> str:
        """Wait for a job to end; returns its final status."""
        while True:
            status = await self.status(job_id)
            if status in ("succeeded", "failed", "cancelled", "aborted"):
                return status
            await asyncio.sleep(poll_s)

    async def run_worker(self, options: WorkerOptions, *, wait: bool = True) -> None:
        """Work the queue until cancelled (or, with `wait=False`, until it is empty)."""
        housekeeping = asyncio.create_task(self._housekeep(options), name="jobs-housekeeping")
        try:
            await self.app.run_worker_async(
                queues=[SOURCES_QUEUE],
                concurrency=options.concurrency,
                wait=wait,
                install_signal_handlers=False,
                listen_notify=True,
                delete_jobs="never",
                update_heartbeat_interval=options.stalled_after_s / 3,
                stalled_worker_timeout=options.stalled_after_s,
            )
        finally:
            housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await housekeeping

    async def _housekeep(self, options: WorkerOptions) -> None:
        since_sync = 0.0
        every_s = options.stalled_after_s / 2
        while True:
            try:
                await self.requeue_stalled(options.stalled_after_s)
                if options.sync_interval_s > 0 and since_sync >= options.sync_interval_s:
                    since_sync = 0.0
                    for repository in await self._repositories.all():
                        await self.defer_sync(repository.id)
            except Exception:
                logger.warning("job housekeeping failed; trying again later", exc_info=True)
            await asyncio.sleep(every_s)
            since_sync += every_s

    async def requeue_stalled(self, stalled_after_s: float) -> int:
        stalled = list(
            await self.app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after_s)
        )
        for job in stalled:
            logger.warning("job %s (%s) lost its worker; queued again", job.id, job.task_name)
            await self.app.job_manager.retry_job(job)
        return len(stalled)

    async def _run_sync(self, context: JobContext, repository_id: str) -> dict[str, Any]:
        async def progress(phase: str, done: int, total: int) -> None:
            await self._repositories.set_progress(repository_id, phase, done, total)

        try:
            await self._repositories.get(repository_id)
        except NotFound:
            # Removed while the job waited: nothing left to do.
            logger.info("job %s: repository %s is gone", context.job.id, repository_id)
            return {"mode": "removed"}
        return await self._sync.sync(repository_id, progress=progress)

"""The job queue: Procrastinate on the app's own Postgres (no broker), shared by every worker on
every machine pointed at the same database.

A sync job holds a lock per repository (one sync of a repository runs at a time, anywhere) and a
queueing lock (asking again while one waits returns the waiting one). A worker that dies mid-job
stops sending heartbeats; any live worker puts such a job back in the queue, and the sync resumes
from what it had staged, so nothing is indexed twice.

Learning memories from finished turns is a job too (`defer_learning`), so the answer never waits
on it and a turn stored is a turn learned from, even if the process stops: the turn is kept in
`memory_lessons` as it ends, then a job is queued for its user, unless one already waits (a
queueing lock per user), which will learn it too. A job learns all the user's waiting turns, up
to `learning_batch_max`, in one pass (one LLM extraction per chat rather than one per turn), and
forgets them only once learned: a job that fails or dies is run again and learns them again,
which adds nothing twice (the offline rules skip facts already known, mem0 drops exact repeats).
A lock per user keeps a user's turns learned one batch at a time, in order, anywhere. Learning has
a worker of its own, so it never waits behind a repository sync of several minutes, and it gives
way to answers (while turns wait for a slot, it waits); under a burst of chat it lags, then
catches up, in fewer and larger batches.

Ingesting an upload is a job too (`defer_ingestion`, `rag/uploads.py`), on a worker of its own so
that a sync never holds uploads back. Each user's ingestion jobs are dealt to a few lanes (a
lock each: a lane's jobs run one at a time), so one user's ten uploads run at most that many at
once, anywhere, while another user's upload starts as soon as a worker has a free slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import procrastinate
from procrastinate import exceptions as job_errors
from procrastinate.job_context import AbortReason, JobContext
from procrastinate.jobs import Status

from allin.chat.admission import TurnAdmission
from allin.errors import NotFound, Unavailable
from allin.jobs.options import DOCUMENTS_QUEUE, MEMORY_QUEUE, SOURCES_QUEUE, WorkerOptions
from allin.memory.manager import MemoryManager
from allin.rag.uploads import IngestRequest, UploadIngestion
from allin.sources.sync import RepositorySync
from allin.storage.db import Database
from allin.storage.lessons import LessonStore
from allin.storage.repositories import RepositoryStore
from allin.storage.uploads import INGEST_TASK

logger = logging.getLogger(__name__)

SYNC_TASK = "sync_repository"
LEARN_TASK = "learn_memories"
_RETRY = procrastinate.RetryStrategy(max_attempts=3, wait=5, retry_exceptions={Unavailable})
# Learning fails mostly for passing reasons (the database, the LLM): a batch that failed is tried
# again by a new job this much later (not by Procrastinate's retry, which would clash with the
# user's next job waiting under the same queueing lock), and given up after that many attempts.
_LEARN_AGAIN_S = 2
_LEARN_ATTEMPTS = 3
# Longest a learning job gives way to turns waiting for a slot.
_LEARNING_YIELDS_S = 5.0
# Most turns one learning job learns from: a bounded prompt for the LLM, and a bounded time.
LEARNING_BATCH_MAX = 20


class _WorkerStopped(Exception):
    """An ingestion cut short by its worker shutting down."""


# A worker stopping cuts its ingestion jobs short: they are queued again, as passing failures are.
_INGEST_RETRY = procrastinate.RetryStrategy(
    max_attempts=3, wait=2, retry_exceptions={Unavailable, _WorkerStopped}
)
# How often a worker looks for jobs nobody announced (see `_run_worker`).
_POLL_S = 0.5
# How long a worker that lost the database waits before it starts again.
_WORKER_RESTART_S = 1.0
# How often `learning_settled` looks whether a user's learning jobs are done.
_SETTLE_POLL_S = 0.05


class JobQueue:
    def __init__(
        self,
        db: Database,
        repositories: RepositoryStore,
        sync: RepositorySync,
        memory: MemoryManager | None = None,
        admission: TurnAdmission | None = None,
        ingestion: UploadIngestion | None = None,
        uploads_queue: str = DOCUMENTS_QUEUE,
        *,
        learning_batch_max: int = LEARNING_BATCH_MAX,
    ) -> None:
        # Three workers (syncs, learning, uploads) each hold a connection to listen on and use one
        # to fetch and finish jobs; the rest serve turns deferring their learning and uploads
        # deferring their ingestion.
        connector = procrastinate.PsycopgConnector(
            conninfo=db.url, min_size=1, max_size=8, kwargs={"prepare_threshold": None}
        )
        self.app = procrastinate.App(connector=connector)
        self._repositories = repositories
        self._sync = sync
        self._memory = memory
        self._admission = admission
        self._ingestion = ingestion
        # The actual name of the documents queue: only workers reading the same raw files share it.
        self._queue_names = {DOCUMENTS_QUEUE: uploads_queue}
        self._lessons = LessonStore(db)
        self._learning_batch_max = learning_batch_max
        self._sync_task = self.app.task(
            name=SYNC_TASK, queue=SOURCES_QUEUE, pass_context=True, retry=_RETRY
        )(self._run_sync)
        self._learn_task = self.app.task(name=LEARN_TASK, queue=MEMORY_QUEUE, pass_context=True)(
            self._run_learning
        )
        self._ingest_task = self.app.task(
            name=INGEST_TASK, queue=uploads_queue, pass_context=True, retry=_INGEST_RETRY
        )(self._run_ingestion)

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

    async def defer_learning(
        self, user_id: str, chat_id: str, said: str, answer: str, answer_id: int | None = None
    ) -> int | None:
        """Keep a finished turn to be learned from (`MemoryManager.learn_batch`) and queue its
        user's learning job; returns the job's id, None when a waiting one will learn it."""
        # Kept before the job is queued: a job that starts now, or any later, finds it.
        await self._lessons.add(user_id, chat_id, said, answer, answer_id)
        return await self._defer_learning_job(user_id)

    async def _defer_learning_job(self, user_id: str, in_s: int = 0) -> int | None:
        try:
            return await self._learn_task.configure(
                lock=_learning_lock(user_id),
                queueing_lock=f"learn:{user_id}",
                schedule_in={"seconds": in_s},
            ).defer_async(user_id=user_id)
        except job_errors.AlreadyEnqueued:
            return None

    async def defer_ingestion(self, lane: str, request: IngestRequest) -> int:
        """Queue an upload's ingestion in one of its owner's lanes; returns the job's id."""
        return await self._ingest_task.configure(lock=lane).defer_async(
            document_id=request.document_id,
            storage_path=request.storage_path,
            shared=request.shared,
            force=request.force,
        )

    async def learning_settled(self, user_id: str, timeout_s: float) -> None:
        """Wait (at most `timeout_s`) until no learning job of the user waits or runs."""
        # Polled: the jobs may run in another process, whose end this one hears nothing of.
        async with asyncio.timeout(timeout_s):
            while True:
                if not await self._learning_pending(user_id):
                    return
                await asyncio.sleep(_SETTLE_POLL_S)

    async def _learning_pending(self, user_id: str) -> bool:
        for status in ("todo", "doing"):
            jobs = await self.app.job_manager.list_jobs_async(
                task=LEARN_TASK, status=status, lock=_learning_lock(user_id)
            )
            if list(jobs):
                return True
        return False

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
        """Work the queues until cancelled (or, with `wait=False`, until they are empty): syncs,
        learning and uploads each with their own worker, so a long sync holds nothing back."""
        concurrency = {
            SOURCES_QUEUE: options.concurrency,
            MEMORY_QUEUE: options.learning_concurrency,
            DOCUMENTS_QUEUE: options.ingest_concurrency,
        }
        housekeeping = asyncio.create_task(self._housekeep(options), name="jobs-housekeeping")
        try:
            async with asyncio.TaskGroup() as workers:
                for queue in sorted(options.queues):
                    workers.create_task(self._work(queue, concurrency[queue], options, wait))
        finally:
            housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await housekeeping

    async def _work(self, queue: str, concurrency: int, options: WorkerOptions, wait: bool) -> None:
        """One queue's worker, started again if the database fails under it: a worker that
        stopped would leave its queue unworked for as long as the process lives."""
        while True:
            try:
                await self._run_worker(queue, concurrency, options, wait)
                return
            except job_errors.ConnectorException:
                logger.warning(
                    "the %s worker lost the database; starting it again", queue, exc_info=True
                )
                await asyncio.sleep(_WORKER_RESTART_S)

    async def _run_worker(
        self, queue: str, concurrency: int, options: WorkerOptions, wait: bool
    ) -> None:
        await self.app.run_worker_async(
            queues=[self._queue_names.get(queue, queue)],
            name=f"{queue}-worker",
            concurrency=concurrency,
            wait=wait,
            install_signal_handlers=False,
            listen_notify=True,
            # A sync's status is asked for by id after it ends; a learning job, done, is only
            # a copy of a stored turn, and an ingestion's outcome is on its document: not kept.
            delete_jobs="never" if queue == SOURCES_QUEUE else "successful",
            # A job held back by its lock (a user's next batch of learning, an upload's lane) is
            # announced while the lock is taken, and the worker looks again only on the next
            # notification or poll, not when the lock's job ends: poll often, not every 5 s.
            fetch_job_polling_interval=_POLL_S,
            update_heartbeat_interval=options.stalled_after_s / 3,
            stalled_worker_timeout=options.stalled_after_s,
        )

    async def _housekeep(self, options: WorkerOptions) -> None:
        since_sync = 0.0
        every_s = options.stalled_after_s / 2
        while True:
            try:
                await self.requeue_stalled(options.stalled_after_s)
                await self.requeue_lessons(options.stalled_after_s)
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
            if job.task_name == LEARN_TASK and job.id is not None:
                # Its turns still wait to be learned: a new job of the user learns them.
                await self.app.job_manager.finish_job_by_id_async(
                    job.id, status=Status.FAILED, delete_job=False
                )
                await self._defer_learning_job(str(job.task_kwargs["user_id"]))
            else:
                await self.app.job_manager.retry_job(job)
        return len(stalled)

    async def requeue_lessons(self, waiting_s: float) -> None:
        """Queue learning for users whose turns wait with no job to learn them (it failed every
        attempt, or was taken by a worker with memory off): the lock makes it a no-op for the
        others."""
        if self._memory is not None:
            for user_id in await self._lessons.users_waiting(waiting_s):
                await self._defer_learning_job(user_id)

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

    async def _run_learning(
        self,
        context: JobContext,
        user_id: str,
        # A job queued before turns were kept in `memory_lessons` carries its turn.
        chat_id: str | None = None,
        said: str = "",
        answer: str = "",
        answer_id: int | None = None,
    ) -> dict[str, Any]:
        if chat_id is not None:
            await self._lessons.add(user_id, chat_id, said, answer, answer_id)
        if self._memory is None:
            # A worker with memory off: the turns wait for one with memory (`requeue_lessons`).
            logger.info("job %s: long-term memory is off; not learning", context.job.id)
            return {"learned": [], "turns": 0}
        if self._admission is not None:
            # Answers first: while turns wait for a slot, learning waits too (a bounded time, so
            # a process that stays saturated still learns, later).
            await self._admission.until_unsaturated(_LEARNING_YIELDS_S)
        lessons = await self._lessons.oldest(user_id, self._learning_batch_max)
        if not lessons:
            return {"learned": [], "turns": 0}
        try:
            learned = await self._memory.learn_batch(user_id, lessons)
        except Exception:
            given_up = await self._lessons.failed(user_id, lessons[-1].id, _LEARN_ATTEMPTS)
            if given_up:
                logger.error("gave up learning %d turns of user %s", given_up, user_id)
            await self._defer_learning_job(user_id, in_s=_LEARN_AGAIN_S)
            raise
        await self._lessons.learned(user_id, lessons[-1].id)
        if len(lessons) == self._learning_batch_max:
            await self._defer_learning_job(user_id)  # more may wait: the next batch
        return {"learned": learned, "turns": len(lessons)}

    async def _run_ingestion(
        self, context: JobContext, document_id: str, storage_path: str, shared: bool, force: bool
    ) -> dict[str, Any]:
        if self._ingestion is None:
            raise Unavailable("this worker does not ingest documents")
        request = IngestRequest(document_id, storage_path, shared, force)
        # `attempts` counts the runs before this one; the strategy retries while it is below.
        may_retry = context.job.attempts < (_INGEST_RETRY.max_attempts or 0)
        try:
            return await self._ingestion.run(request, may_retry=may_retry)
        except asyncio.CancelledError:
            by_user = context.abort_reason() is AbortReason.USER_REQUEST
            await self._ingestion.stopped(document_id, by_user=by_user)
            if by_user:
                raise
            # Not the job's end: a failure its retry strategy takes up again elsewhere.
            raise _WorkerStopped(f"the worker stopped while ingesting {document_id}") from None


def _learning_lock(user_id: str) -> str:
    return f"memory:{user_id}"

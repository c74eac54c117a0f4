"""What a job worker works: the queues, and how (`allin worker`, or the worker an app process runs
with ALLIN_JOBS_WORKER / ALLIN_INGEST_WORKER)."""

from __future__ import annotations

from dataclasses import dataclass

from allin.config import Settings

SOURCES_QUEUE = "sources"
MEMORY_QUEUE = "memory"
DOCUMENTS_QUEUE = "documents"
QUEUES = frozenset({SOURCES_QUEUE, MEMORY_QUEUE, DOCUMENTS_QUEUE})


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    concurrency: int = 1
    # A worker with no heartbeat for this long is dead: its jobs go back in the queue. Workers
    # beat three times as often, and look for dead ones twice as often.
    stalled_after_s: float = 30.0
    # When > 0, every repository is synced again this often.
    sync_interval_s: float = 0.0
    # Learning jobs run at once (a user's own turns always one at a time, in order).
    learning_concurrency: int = 2
    # Uploads ingested at once (a user's at most as many as they have lanes).
    ingest_concurrency: int = 4
    # The queues worked: all of them, or (an app whose syncs run elsewhere) only uploads.
    queues: frozenset[str] = QUEUES


def app_worker(settings: Settings) -> WorkerOptions | None:
    """The job worker this process runs, if any: syncs and learning with ALLIN_JOBS_WORKER, and
    uploads with ALLIN_INGEST_WORKER."""
    queues = {SOURCES_QUEUE, MEMORY_QUEUE} if settings.jobs_worker else set()
    if settings.ingest_worker:
        queues.add(DOCUMENTS_QUEUE)
    if not queues:
        return None
    return WorkerOptions(
        concurrency=settings.jobs_concurrency,
        sync_interval_s=settings.repo_sync_interval_s if settings.jobs_worker else 0.0,
        stalled_after_s=settings.jobs_stalled_after_s,
        ingest_concurrency=settings.ingest_concurrency,
        queues=frozenset(queues),
    )

"""Learning after a turn as a job on the queue: the answer never waits on it, a turn stored is a
turn learned from even if no worker ran before the process stopped, and a question that states
no fact costs the queue nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from allin.chat.interaction import InteractionManager, TurnRequest
from allin.chat.runs import Runs
from allin.jobs.options import WorkerOptions
from allin.jobs.queue import JobQueue
from allin.memory.build import start_memory
from allin.memory.manager import MemoryManager
from allin.memory.pipeline import MemoryContext, MemoryListener
from allin.services import Services
from allin.sources.sync import RepositorySync
from tests.chat.test_interaction import Collected, ScriptedModel


@pytest.fixture
async def queued(services: Services) -> AsyncIterator[tuple[MemoryManager, JobQueue]]:
    """A memory of its own that learns through a job queue of its own (no worker runs yet)."""
    memory = start_memory(services.settings, services.db, services.embedder)
    await memory.ready()
    sync: RepositorySync = services.repositories._sync
    jobs = JobQueue(services.db, services.repositories.store, sync, memory)
    await jobs.open()
    memory.learn_through(jobs)
    yield memory, jobs
    await jobs.close()
    await memory.aclose()


def manager(services: Services, memory: MemoryManager) -> InteractionManager:
    return InteractionManager(
        services.settings,
        services.chats,
        ScriptedModel(["ok"]),
        Runs(services.runs.log),
        services.streams,
        sources=[MemoryContext(memory, services.settings)],
        listeners=[MemoryListener(memory)],
    )


async def work_until_learned(jobs: JobQueue, user_id: str) -> None:
    """Run a worker until the user's learning jobs are done. A worker told not to wait stops when
    it finds no job it may take, and a user's second turn is locked while the first is learned."""
    for _ in range(10):
        await jobs.run_worker(WorkerOptions(), wait=False)
        if not await learning_jobs(jobs, user_id):
            return
    raise AssertionError("the learning jobs were never done")


async def learning_jobs(jobs: JobQueue, user_id: str) -> list[str]:
    """What the user said in the turns still waiting to be learned from, oldest first."""
    waiting = await jobs._lessons.oldest(user_id, 1000)
    return [lesson.said for lesson in waiting]


async def test_a_turn_is_learned_by_a_job_even_one_run_after_a_restart(
    services: Services, queued: tuple[MemoryManager, JobQueue], user_id: str
) -> None:
    memory, jobs = queued
    turns = manager(services, memory)
    await turns.ask(
        TurnRequest(user_id, "chat-a", "m1", "I'm new to Kubernetes. What is a pod?"), Collected()
    )
    await turns.ask(TurnRequest(user_id, "chat-a", "m2", "Our team uses Flask."), Collected())
    await turns._runs.drain(10)
    # Answered, and nothing learned yet: the learning waits in the database, not in this process.
    assert await learning_jobs(jobs, user_id) == [
        "I'm new to Kubernetes. What is a pod?",
        "Our team uses Flask.",
    ]
    assert await memory.search(user_id, "Kubernetes", top_k=5, threshold=0) == []

    # Another process (a restarted app, an `allin worker`) works the queue.
    restarted = JobQueue(
        services.db, services.repositories.store, services.repositories._sync, memory
    )
    await restarted.open()
    try:
        await work_until_learned(restarted, user_id)
    finally:
        await restarted.close()
    assert await learning_jobs(jobs, user_id) == []
    stored = {m.text for m in await memory.list_all(user_id)}
    assert stored == {"User is new to Kubernetes", "User's team uses Flask"}


async def test_a_question_stating_no_fact_queues_nothing_offline(
    services: Services, queued: tuple[MemoryManager, JobQueue], user_id: str
) -> None:
    memory, jobs = queued
    turns = manager(services, memory)
    await turns.ask(
        TurnRequest(user_id, "chat-a", "m1", "How do I add a route in Flask?"), Collected()
    )
    await turns._runs.drain(10)
    assert await learning_jobs(jobs, user_id) == []


async def test_a_listing_waits_for_the_learning_jobs_of_the_user(
    services: Services, queued: tuple[MemoryManager, JobQueue], user_id: str
) -> None:
    memory, _ = queued
    await memory.learn_later(user_id, "chat-a", "My manager is Dana.", "ok")
    worker = JobQueue(services.db, services.repositories.store, services.repositories._sync, memory)
    await worker.open()
    try:
        working = asyncio.create_task(work_until_learned(worker, user_id))
        # The listing sees the memory the job is still learning.
        assert [m.text for m in await memory.list_all(user_id)] == ["User's manager is Dana"]
        await working
    finally:
        await worker.close()

"""Learning is batched across turns: the turns a user finishes while their learning job runs wait
for one more job, which learns them all, in order; a batch that fails is learned again by the
next job without storing anything twice, and each answer that taught something is still told."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

import pytest

from allin.jobs.options import WorkerOptions
from allin.jobs.queue import LEARN_TASK, JobQueue
from allin.memory.manager import MemoryManager
from allin.memory.memory_records import Lesson
from allin.services import Services
from tests.memory.test_learning_jobs import learning_jobs, queued  # noqa: F401

LATER = ["I use vim.", "My manager is Dana.", "Our team uses Flask.", "I'm new to Go."]
LEARNED_LATER = [
    "User uses vim",
    "User's manager is Dana",
    "User's team uses Flask",
    "User is new to Go",
]


class Batches:
    """Records each batch the memory is asked to learn; can hold the first one (until `release`)
    or make one fail after it is learned, as a process stopping before it forgets the turns."""

    def __init__(self, memory: MemoryManager, *, hold_first: bool = False) -> None:
        self.learned: list[list[str]] = []
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.fail_once = False
        if not hold_first:
            self.release.set()
        learn_batch = memory.learn_batch

        async def recording(user_id: str, lessons: Sequence[Lesson]) -> list[str]:
            self.learned.append([lesson.said for lesson in lessons])
            self.started.set()
            await self.release.wait()
            added = await learn_batch(user_id, lessons)
            if self.fail_once:
                self.fail_once = False
                raise RuntimeError("stopped before the turns were forgotten")
            return added

        memory.learn_batch = recording  # type: ignore[method-assign]


class Told:
    def __init__(self) -> None:
        self.calls: list[tuple[int, list[str]]] = []

    async def learned(
        self, user_id: str, chat_id: str, answer_id: int, memories: list[str]
    ) -> None:
        self.calls.append((answer_id, memories))


@contextlib.asynccontextmanager
async def working(jobs: JobQueue) -> AsyncIterator[None]:
    worker = asyncio.create_task(jobs.run_worker(WorkerOptions(), wait=True))
    try:
        yield
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


async def until_learned(jobs: JobQueue, user_id: str) -> None:
    """Wait until no turn of the user waits to be learned (polled: the worker tells no one), and
    no job of theirs runs."""
    for _ in range(1200):
        if not await learning_jobs(jobs, user_id):
            await jobs.learning_settled(user_id, 60)
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the turns were never learned")


async def waiting_jobs(jobs: JobQueue, user_id: str) -> int:
    found = await jobs.app.job_manager.list_jobs_async(
        task=LEARN_TASK, lock=f"memory:{user_id}", status="todo"
    )
    return len(list(found))


@pytest.fixture
def told(queued: tuple[MemoryManager, JobQueue]) -> Told:  # noqa: F811
    told = Told()
    queued[0].announce_through(told)
    return told


async def test_turns_finished_during_a_job_are_learned_by_one_more_job_in_order(
    queued: tuple[MemoryManager, JobQueue],  # noqa: F811
    told: Told,
    user_id: str,
) -> None:
    memory, jobs = queued
    batches = Batches(memory, hold_first=True)
    async with working(jobs):
        await memory.learn_later(user_id, "chat-a", "I prefer short answers.", "ok", 1001)
        await batches.started.wait()
        # While the first job runs, a burst: the turns wait for one job, not one each.
        for n, said in enumerate(LATER):
            await memory.learn_later(user_id, "chat-a", said, "ok", 1002 + n)
        assert await waiting_jobs(jobs, user_id) == 1
        batches.release.set()
        await until_learned(jobs, user_id)

    assert batches.learned == [["I prefer short answers."], LATER]
    assert told.calls == [(1001, ["User prefers short answers"])] + [
        (1002 + n, [memory]) for n, memory in enumerate(LEARNED_LATER)
    ]
    stored = [m.text for m in await memory.list_all(user_id)]
    assert sorted(stored) == sorted(["User prefers short answers", *LEARNED_LATER])


async def test_a_batch_that_fails_is_learned_again_without_storing_anything_twice(
    queued: tuple[MemoryManager, JobQueue],  # noqa: F811
    told: Told,
    user_id: str,
) -> None:
    memory, jobs = queued
    batches = Batches(memory)
    batches.fail_once = True
    for n, said in enumerate(LATER):
        await memory.learn_later(user_id, "chat-a", said, "ok", 2001 + n)
    async with working(jobs):
        await until_learned(jobs, user_id)

    # Learned, failed before the turns were forgotten, learned again by the next job.
    assert batches.learned == [LATER, LATER]
    stored = [m.text for m in await memory.list_all(user_id)]
    assert sorted(stored) == sorted(LEARNED_LATER)
    # Each answer was told once: the second pass added nothing.
    assert told.calls == [(2001 + n, [memory]) for n, memory in enumerate(LEARNED_LATER)]


async def test_a_burst_larger_than_a_batch_is_learned_in_bounded_batches(
    services: Services,
    queued: tuple[MemoryManager, JobQueue],  # noqa: F811
    user_id: str,
) -> None:
    memory, queue = queued
    jobs = JobQueue(
        services.db,
        services.repositories.store,
        services.repositories._sync,
        memory,
        learning_batch_max=3,
    )
    await jobs.open()
    try:
        memory.learn_through(jobs)
        batches = Batches(memory)
        said = [*LATER, "I prefer short answers."]
        for n, message in enumerate(said):
            await memory.learn_later(user_id, "chat-a", message, "ok", 3001 + n)
        async with working(jobs):
            await until_learned(jobs, user_id)
    finally:
        memory.learn_through(queue)
        await jobs.close()
    assert batches.learned == [said[:3], said[3:]]
    assert len(await memory.list_all(user_id)) == len(said)


async def test_turns_whose_job_was_lost_are_learned_by_a_new_one(
    queued: tuple[MemoryManager, JobQueue],  # noqa: F811
    user_id: str,
) -> None:
    memory, jobs = queued
    batches = Batches(memory)
    # Kept, but the process stopped before it queued the job.
    await jobs._lessons.add(user_id, "chat-a", "I use vim.", "ok", None)
    # A worker took the next turn's job, then died with it.
    await memory.learn_later(user_id, "chat-a", "My manager is Dana.", "ok")
    dead = await jobs.app.job_manager.register_worker()
    taken = await jobs.app.job_manager.fetch_job(["memory"], dead)
    assert taken is not None and taken.id is not None
    # A third turn's job waits under the user's queueing lock meanwhile.
    await memory.learn_later(user_id, "chat-a", "Our team uses Flask.", "ok")

    # Housekeeping: the dead worker's job ends (its turns wait for the one queued), and users
    # whose turns wait with no job get one.
    await jobs.requeue_stalled(0)
    assert await jobs.status(taken.id) == "failed"
    await jobs.requeue_lessons(0)
    async with working(jobs):
        await until_learned(jobs, user_id)
    assert batches.learned == [["I use vim.", "My manager is Dana.", "Our team uses Flask."]]
    assert len(await memory.list_all(user_id)) == 3

"""How memory learning keeps up with a burst of turns: batched across turns against one job per
turn, measured in the same run.

Setup: the app's own memory (mem0 over an embedded Postgres, the MiniLM embedder) and its job
queue, with a learning worker in this process as the app runs it. A burst: several users each
finish a number of turns, interleaved, every turn stating one new fact ("I use Haskell."), handed
over as fast as the turn pipeline does it (`MemoryManager.learn_later`: keep the turn, queue its
user's job).

Measured per extraction:

- turns/s: turns learned per second, from the first turn handed over to the last one learned;
- lag: turns not yet learned when the burst ends, and the seconds until all are (catch-up);
- passes: extraction passes run (`learn_batch` calls; for the LLM, calls to the model).

Two extractions: the offline rules (no LLM: batching saves jobs, not extraction work), and mem0's
LLM extraction with a stand-in model that takes `--llm-s` per call, as a hosted model does, and
returns the facts the turns state (there batching saves calls). Baseline: one job per turn
(`learning_batch_max=1`, what learning was before batching); ratios are batched / baseline.

    .venv/bin/python bench/learning.py [--quick] [--json PATH]
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from allin.config import Settings
from allin.embeddings.base import Embedder
from allin.embeddings.registry import build_embedder
from allin.jobs.options import WorkerOptions
from allin.jobs.queue import LEARNING_BATCH_MAX, JobQueue
from allin.memory.build import start_memory
from allin.memory.manager import MemoryManager
from allin.memory.memory_records import Lesson
from allin.sources.sync import RepositorySync, SourcePolicy
from allin.storage.db import Database
from allin.storage.embedded import start_embedded_postgres
from allin.storage.lessons import LessonStore
from allin.storage.repositories import RepositoryStore
from harness import bench_parser
from memory import NAMES

_TOLD = re.compile(r"\bI use ([\w+#.-]+?)\.")
# One turn's learning takes well under a second; anything near this is a hang.
CATCH_UP_TIMEOUT_S = 600.0
POLL_S = 0.02


class SlowExtractor:
    """A model answering mem0's extraction prompt after `seconds`, with the facts the new
    messages state ("I use X." → "User uses X"). (Not an `LLMBase`: mem0 may be imported only
    once the memory has turned its telemetry off; it only calls `generate_response`.)"""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls = 0

    def generate_response(self, messages: list[dict[str, str]], **_: Any) -> str:
        self.calls += 1
        time.sleep(self.seconds)  # mem0 calls it from a worker thread
        prompt = messages[-1]["content"]
        new = prompt.split("## New Messages", 1)[-1].split("## Observation Date", 1)[0]
        memory = [
            {"id": str(n), "text": f"User uses {name}", "attributed_to": "user"}
            for n, name in enumerate(dict.fromkeys(_TOLD.findall(new)))
        ]
        return json.dumps({"memory": memory})


@dataclass
class Burst:
    extraction: str
    mode: str
    turns: int
    seconds: float
    turns_per_s: float
    waiting_at_end: int
    catch_up_s: float
    passes: int


class Passes:
    """Counts the extraction passes of a memory (`learn_batch` calls)."""

    def __init__(self, memory: MemoryManager) -> None:
        self.count = 0
        learn_batch = memory.learn_batch

        async def counted(user_id: str, lessons: Sequence[Lesson]) -> list[str]:
            self.count += 1
            return await learn_batch(user_id, lessons)

        memory.learn_batch = counted  # type: ignore[method-assign]


async def burst(
    db: Database,
    jobs: JobQueue,
    memory: MemoryManager,
    users: int,
    turns: int,
) -> tuple[float, int, float]:
    """Hand over `users` × `turns` turns; (seconds until all learned, turns waiting when the
    burst ended, seconds from then until all learned)."""
    lessons = LessonStore(db)
    names = [f"u-{uuid.uuid4().hex[:10]}" for _ in range(users)]
    worker = asyncio.create_task(jobs.run_worker(WorkerOptions(), wait=True))
    try:
        started = time.perf_counter()
        # Each user's turns name distinct tools (near-identical facts are skipped as known).
        for name in NAMES[:turns]:
            for user_id in names:
                await memory.learn_later(user_id, "bench", f"I use {name}.", "Noted.")
        ended = time.perf_counter()
        waiting_at_end = await _waiting(lessons, names)
        async with asyncio.timeout(CATCH_UP_TIMEOUT_S):
            await _until_learned(jobs, lessons, names)
        done = time.perf_counter()
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    for user_id in names:
        learned = len(await memory.list_all(user_id))
        assert learned == turns, f"{user_id} learned {learned} of {turns} turns"
    return done - started, waiting_at_end, done - ended


async def _until_learned(jobs: JobQueue, lessons: LessonStore, users: list[str]) -> None:
    # Polled: the worker tells no one when a turn is learned.
    while True:
        if not await _waiting(lessons, users):
            for user_id in users:
                await jobs.learning_settled(user_id, CATCH_UP_TIMEOUT_S)
            return
        await asyncio.sleep(POLL_S)


async def _waiting(lessons: LessonStore, users: list[str]) -> int:
    return sum([len(await lessons.oldest(user_id, 10_000)) for user_id in users])


async def measure(
    workdir: Path, database_url: str, quick: bool, llm_s: float, console: Console
) -> list[Burst]:
    users, turns = (2, 10) if quick else (4, 25)
    base = Settings(_env_file=None, llm="offline", data_dir=workdir, database_url=database_url)
    db = await Database.open(base)
    embedder = build_embedder(base)
    store = RepositoryStore(db)
    sync = RepositorySync(store, embedder, workdir / "repos", SourcePolicy(1, 1, 1, 1, 1))
    results: list[Burst] = []
    try:
        for extraction in ("offline", "llm"):
            memory, extractor = await _memory(base, db, embedder, extraction, llm_s)
            try:
                for mode, batch_max in (("one job per turn", 1), ("batched", LEARNING_BATCH_MAX)):
                    console.print(f"{extraction}, {mode}: {users} users × {turns} turns…")
                    jobs = JobQueue(db, store, sync, memory, learning_batch_max=batch_max)
                    await jobs.open()
                    memory.learn_through(jobs)
                    passes = Passes(memory)
                    calls_before = extractor.calls if extractor else 0
                    try:
                        seconds, waiting, catch_up = await burst(db, jobs, memory, users, turns)
                    finally:
                        await jobs.close()
                    count = extractor.calls - calls_before if extractor else passes.count
                    total = users * turns
                    results.append(
                        Burst(
                            extraction=extraction,
                            mode=mode,
                            turns=total,
                            seconds=seconds,
                            turns_per_s=total / seconds,
                            waiting_at_end=waiting,
                            catch_up_s=catch_up,
                            passes=count,
                        )
                    )
            finally:
                await memory.aclose()
    finally:
        await embedder.aclose()
        await db.close()
    return results


async def _memory(
    base: Settings, db: Database, embedder: Embedder, extraction: str, llm_s: float
) -> tuple[MemoryManager, SlowExtractor | None]:
    if extraction == "offline":
        memory = start_memory(base, db, embedder)
        await memory.ready()
        return memory, None
    # An OpenAI-compatible provider makes the memory extract with mem0's LLM; the model it
    # would call is replaced by the stand-in before any call.
    settings = Settings(
        _env_file=None,
        llm="openai",
        openai_base_url="http://127.0.0.1:9/v1",
        data_dir=base.data_dir,
        database_url=base.database_url,
    )
    memory = start_memory(settings, db, embedder)
    await memory.ready()
    extractor = SlowExtractor(llm_s)
    mem0 = await memory._built()  # the bench reaches in to swap the model
    mem0.llm = extractor
    return memory, extractor


def render(results: list[Burst], console: Console) -> None:
    table = Table(
        title="Memory learning under a burst",
        caption="ratio = batched / one job per turn, measured in the same run",
    )
    for column in ("extraction", "mode", "turns", "turns/s", "waiting at end", "catch-up s"):
        table.add_column(column, justify="left" if column in ("extraction", "mode") else "right")
    table.add_column("passes", justify="right")
    for row in results:
        table.add_row(
            row.extraction,
            row.mode,
            str(row.turns),
            f"{row.turns_per_s:.1f}",
            str(row.waiting_at_end),
            f"{row.catch_up_s:.2f}",
            str(row.passes),
        )
    console.print(table)
    for baseline, batched in zip(results[::2], results[1::2], strict=True):
        console.print(
            f"{batched.extraction}: turns/s ×{batched.turns_per_s / baseline.turns_per_s:.2f},"
            f" catch-up ×{batched.catch_up_s / baseline.catch_up_s:.2f},"
            f" passes ×{batched.passes / baseline.passes:.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, "2 users × 10 turns (a smoke run)")
    parser.add_argument(
        "--llm-s", type=float, default=0.3, help="seconds the stand-in LLM takes per call"
    )
    args = parser.parse_args(argv)
    console = Console()
    workdir = Path(tempfile.mkdtemp(prefix="allin-bench-learning-"))
    server = start_embedded_postgres(workdir / "pg")
    try:
        results = asyncio.run(
            measure(workdir, str(server.get_uri()), args.quick, args.llm_s, console)
        )
    finally:
        server.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    render(results, console)
    if args.json:
        args.json.write_text(json.dumps([asdict(row) for row in results], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

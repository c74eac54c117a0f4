"""Where a turn's time goes inside Allin's server process, stage by stage, for `chat_overhead.py`.

Installed by the benchmark's app factory (so the app itself carries no timing code): the methods
that make each stage are wrapped with a timer that adds their wall time to a process-wide total,
and `GET /bench/stages` returns the totals (`?reset=1` also zeroes them, between phases). Stages
can nest (memory search includes its embedding) and, under concurrency, include waiting.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

# (stage, module, class or None for a module-level function, attribute)
STAGES: tuple[tuple[str, str, str | None, str], ...] = (
    ("memory search", "allin.memory.pipeline", "MemoryContext", "context_for"),
    ("retrieval", "allin.rag.retrieval", "KnowledgeSource", "context_for"),
    ("embedding", "allin.embeddings.coalescing", "CoalescingEncoder", "encode"),
    ("history", "allin.storage.chats", "PostgresChatStore", "turns_before"),
    ("prompt", "allin.chat.interaction", None, "build_prompt"),
    ("storing", "allin.storage.chats", "PostgresChatStore", "append_user_turn"),
    ("storing", "allin.storage.chats", "PostgresChatStore", "reserve_turn_id"),
    ("storing", "allin.storage.chats", "PostgresChatStore", "append_assistant_turn"),
    ("run claims", "allin.storage.runs", "RunLog", "claim"),
    ("run claims", "allin.storage.runs", "RunLog", "end"),
    ("publishing", "allin.chat.streams", "ChatStream", "publish"),
    ("learning", "allin.memory.manager", "MemoryManager", "learn_batch"),
    ("learning", "allin.memory.manager", "MemoryManager", "learn_turns"),
)
ORDER = tuple(dict.fromkeys(stage for stage, *_ in STAGES))

_totals: dict[str, list[float]] = {}


def install(app: FastAPI) -> None:
    for stage, module_name, class_name, attribute in STAGES:
        module = importlib.import_module(module_name)
        owner: Any = getattr(module, class_name) if class_name else module
        function = owner.__dict__.get(attribute) if class_name else getattr(owner, attribute, None)
        if function is None:  # not in this version of the app
            continue
        setattr(owner, attribute, _timed(stage, function))

    async def stages(reset: bool = False) -> dict[str, dict[str, float]]:
        snapshot = {stage: {"s": s, "calls": calls} for stage, (s, calls) in _totals.items()}
        if reset:
            _totals.clear()
        return snapshot

    app.add_api_route("/bench/stages", stages, methods=["GET"], include_in_schema=False)


def _add(stage: str, seconds: float) -> None:
    total = _totals.setdefault(stage, [0.0, 0.0])
    total[0] += seconds
    total[1] += 1


def _timed(stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                _add(stage, time.perf_counter() - started)

        return timed_async

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            _add(stage, time.perf_counter() - started)

    return timed

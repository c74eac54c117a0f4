"""Bounded thread pools, one per kind of blocking work, so that a burst of one kind cannot take
the threads another needs: a batch of large documents being parsed must not hold up a login
(argon2 hashing), nor a wave of logins an upload, nor either of them a question being reranked.
Embedding has its own thread already (`embeddings/minilm.py`); the event loop's default executor
is left to short file and database calls."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache, partial
from typing import Literal, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

Kind = Literal["parsing", "hashing", "reranking"]
# Parsing is mostly pure Python, so more threads would only contend for the GIL; argon2 releases
# it, and two hashes at once keep a wave of logins moving on a small machine. Reranking is a few
# milliseconds of BLAS held to one thread by a process-wide limit (`rag/rerank.py`): one thread,
# so that two of them never set and restore that limit across each other.
_THREADS: dict[Kind, int] = {"parsing": 2, "hashing": 2, "reranking": 1}


@cache
def _pool(kind: Kind) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=_THREADS[kind], thread_name_prefix=f"allin-{kind}")


async def run_in(kind: Kind, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`work(*args, **kwargs)` on the pool for `kind`; its callers wait in that pool's queue."""
    return await asyncio.get_running_loop().run_in_executor(
        _pool(kind), partial(work, *args, **kwargs)
    )


def children_skip_main() -> None:
    """Child processes started from here on do not re-run this process's main script.

    `multiprocessing` runs the parent's main script again in each child it starts (fork server or
    spawn), unless the main module is a package's `__main__`, as under `python -m allin`. Started
    through the `allin` console script (or a benchmark script), that re-run imports the whole
    CLI, ~0.3 s, before each uploaded file is parsed in its sandboxed child (`rag/sandbox.py`),
    which needs none of it: two to ten times the parsing itself. Calling this where the process
    starts gives every start-up path `python -m allin`'s behaviour."""
    main = sys.modules["__main__"]
    if getattr(main, "__spec__", None) is None:
        main.__spec__ = importlib.util.find_spec("allin.__main__")

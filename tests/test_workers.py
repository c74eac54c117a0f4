"""Kinds of blocking work do not starve each other: with every thread of one kind busy (and the
event loop's default ones), password hashing and document ingestion still run. The bounds are
generous, for a loaded machine: starved work would wait for ever."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from allin.auth.passwords import check_password, hash_password
from allin.services import Services
from allin.workers import Kind, run_in

# More than any pool has threads.
_PLENTY = 64


@asynccontextmanager
async def all_threads_busy(*kinds: Kind | None) -> AsyncIterator[None]:
    """Every thread of these pools (None: the event loop's default executor) stuck until exit."""
    release = threading.Event()

    def hold(kind: Kind | None) -> asyncio.Future[bool]:
        waiting = asyncio.to_thread(release.wait) if kind is None else run_in(kind, release.wait)
        return asyncio.ensure_future(waiting)

    stuck = [hold(kind) for kind in kinds for _ in range(_PLENTY)]
    try:
        yield
    finally:
        release.set()
        await asyncio.gather(*stuck)


async def test_logins_go_on_while_documents_are_parsed() -> None:
    async with all_threads_busy("parsing", None), asyncio.timeout(30):
        password_hash = await hash_password("correct horse battery")
        assert await check_password(password_hash, "correct horse battery")
        assert not await check_password(None, "correct horse battery")


async def test_uploads_go_on_while_passwords_are_hashed(services: Services, user_id: str) -> None:
    async with all_threads_busy("hashing"), asyncio.timeout(60):
        outcome = await services.ingestor.ingest(
            owner_id=user_id, name="notes.md", data=b"# Notes\n\nDeploys go out on Tuesdays."
        )
    assert outcome.status == "indexed", outcome

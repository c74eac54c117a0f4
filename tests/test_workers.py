"""Kinds of blocking work do not starve each other: with every thread of one kind busy (and the
event loop's default ones), password hashing and document ingestion still run. The bounds are
generous, for a loaded machine: starved work would wait for ever."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

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


_MAIN_SCRIPT = """
import os, sys
if __name__ != "__main__":  # a child re-running this script (as __mp_main__)
    open(os.environ["RERUN_MARKER"], "a").write("re-run\\n")
if __name__ == "__main__":
    from allin.rag.sandbox import prepare_isolated
    from allin.rag.limits import DocumentLimits
    from allin.workers import children_skip_main
    if sys.argv[1] == "skip":
        children_skip_main()
    prepare_isolated("notes.md", b"# Notes\\n\\nSome text.\\n", 64, 8, DocumentLimits())
"""


def test_a_sandboxed_parser_does_not_re_run_the_main_script(tmp_path: Path) -> None:
    """Started from a script (as the `allin` console script is), each sandboxed parser re-ran
    it, importing the whole CLI (~0.3 s a file) before parsing a file."""
    script = tmp_path / "main_script.py"
    script.write_text(_MAIN_SCRIPT)
    for mode, re_runs in (("plain", 1), ("skip", 0)):
        marker = tmp_path / f"marker-{mode}"
        marker.touch()
        subprocess.run(
            [sys.executable, str(script), mode],
            check=True,
            env={**os.environ, "RERUN_MARKER": str(marker)},
            timeout=120,
        )
        assert marker.read_text().count("re-run") == re_runs, mode

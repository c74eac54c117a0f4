"""The app as a real OS process (`uvicorn --factory allin.app:app_from_env`), for tests that kill a
server or run several workers on one database."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx

from tests.conftest import TEST_JWT_SECRET
from tests.support.servers import free_port


class AppProcess:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("ab")
        self._process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "--factory", "allin.app:app_from_env"),
                *("--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"),
            ],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"app process exited with {self._process.returncode}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"app process on port {self.port} did not start")

    def kill(self) -> None:
        """As the kernel's OOM killer or a crash would: no shutdown, no clean-up."""
        self._process.send_signal(signal.SIGKILL)
        self._process.wait(timeout=10)

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


def app_env(database_url: str, data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of an app process on the test database, without the developer's."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("ALLIN_")
        and name not in {"DATABASE_URL", "GEMINI_API_KEY", "GOOGLE_API_KEY"}
    }
    env.update(
        DATABASE_URL=database_url,
        ALLIN_DATA_DIR=str(data_dir),
        ALLIN_JWT_SECRET=TEST_JWT_SECRET,
        ALLIN_LLM="offline",
        # Memory is tested elsewhere; without it a process starts faster.
        ALLIN_MEMORY="false",
        PYTHONPATH=str(Path(__file__).resolve().parents[2] / "src"),
    )
    env.update({f"ALLIN_{name.upper()}": value for name, value in settings.items()})
    return env


@contextmanager
def app_processes(*envs: dict[str, str], log: Path) -> Iterator[list[AppProcess]]:
    """Start one process per environment (in parallel) and stop them all at the end."""
    processes = [AppProcess(env, log) for env in envs]
    try:
        for process in processes:
            process.wait_ready()
        yield processes
    finally:
        for process in processes:
            process.stop()


@asynccontextmanager
async def worker_process(
    env: dict[str, str], log: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`allin worker` as a process of its own (a test may SIGKILL it), killed at the end if it is
    still running; what it prints goes to `log`."""
    with log.open("ab") as output:
        worker = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "allin", "worker"),
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            yield worker
        finally:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()

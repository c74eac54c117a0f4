"""Stopping the app by a signal stops the embedded Postgres it started (issue 11, bug 11)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from allin.storage.embedded import start_embedded_postgres
from tests.support.servers import free_port


def postgres_of(pgdata: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if any(part.endswith("bin/postgres") for part in cmdline[:1]) and str(pgdata) in cmdline:
            found.append(process)
    return found


def serve(data_dir: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "ALLIN_DATA_DIR": str(data_dir),
        "ALLIN_MEMORY": "off",
        "ALLIN_VOICE": "off",
    }
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "allin", "serve", "--port", str(port)],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the app did not start")


def test_sigterm_and_sigint_stop_the_embedded_postgres(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    pgdata = data_dir.resolve() / "pg"
    for stop in (signal.SIGTERM, signal.SIGINT):
        process, _ = serve(data_dir, tmp_path / "serve.log")
        assert postgres_of(pgdata), "the app runs its embedded Postgres"
        process.send_signal(stop)
        process.wait(timeout=60)
        deadline = time.monotonic() + 30
        while postgres_of(pgdata) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not postgres_of(pgdata), f"Postgres outlived the app stopped by {stop.name}"
    # The data directory opens again, with nothing left over.
    server = start_embedded_postgres(pgdata)
    try:
        assert "postgresql://" in str(server.get_uri())
    finally:
        server.cleanup()


def test_a_process_killed_outright_does_not_keep_the_server_up(tmp_path: Path) -> None:
    pgdata = tmp_path / "data" / "pg"
    pgdata.parent.mkdir(mode=0o700)
    first = start_embedded_postgres(pgdata)
    # A process that used the server and died without a word (SIGKILL, OOM): its pid stays in
    # pgserver's list of users, and no later exit would ever be the last one.
    dead = subprocess.Popen(["true"])
    dead.wait()
    users = pgdata / ".handle_pids.json"
    users.write_text(users.read_text().replace("]", f", {dead.pid}]"))
    second = start_embedded_postgres(pgdata)
    assert second is first  # the same process attaches once
    first.cleanup()
    deadline = time.monotonic() + 30
    while postgres_of(pgdata) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not postgres_of(pgdata)

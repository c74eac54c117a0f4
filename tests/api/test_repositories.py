"""Repositories end to end: the REST API and a job worker in the real app, an answer citing
code over the WebSocket, the CLI, and a worker process killed in the middle of a sync."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from allin.app import create_app
from allin.config import Settings
from tests.conftest import make_settings, new_database, ws_url
from tests.sources.test_sync import SESSIONS, sample
from tests.support.accounts import Account, sign_up
from tests.support.gitrepo import GitRepo
from tests.support.processes import worker_process
from tests.support.servers import serve_ready
from tests.support.wsclient import ask


@pytest.fixture(scope="module")
def settings(postgres: Any, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(
        database_url=new_database(postgres),
        data_dir=tmp_path_factory.mktemp("data"),
        memory=False,
        jobs_worker=True,
        repo_max_file_bytes=20_000,
    )


@pytest.fixture(scope="module")
def server(settings: Settings) -> Iterator[str]:
    with serve_ready(create_app(settings)) as url:
        yield url


async def until_synced(http: httpx.AsyncClient, admin: Account, repository_id: str) -> Any:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        repository = (
            await http.get(f"/api/v1/repositories/{repository_id}", headers=admin.headers)
        ).json()
        if repository["status"] in ("ready", "failed") and repository["job_status"] not in (
            "todo",
            "doing",
        ):
            return repository
        await asyncio.sleep(0.3)
    raise AssertionError(f"not synced: {repository}")


async def test_admins_add_a_repository_everyone_reads_it_and_answers_cite_its_code(
    server: str, tmp_path: Path
) -> None:
    admin, member = await sign_up(server), await sign_up(server)
    repo = sample(tmp_path / "shop")
    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        refused = await http.post(
            "/api/v1/repositories", json={"location": str(repo.path)}, headers=member.headers
        )
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"

        added = await http.post(
            "/api/v1/repositories", json={"location": str(repo.path)}, headers=admin.headers
        )
        assert added.status_code == 202, added.text
        body = added.json()
        assert body["repository"]["name"] == "shop" and body["repository"]["branch"] == "main"
        repository = await until_synced(http, admin, body["repository"]["id"])
        assert repository["status"] == "ready", repository
        assert repository["head_commit"] == repo.head() and repository["file_count"] == 3
        assert repository["job_status"] == "succeeded"

        listed = await http.get("/api/v1/repositories", headers=member.headers)
        assert [r["name"] for r in listed.json()["repositories"]] == ["shop"]

        async with connect(ws_url(server, member, "code")) as socket:
            frames = await ask(socket, "m1", "How does the shop sign the session cookie?")
        citations = frames[-1]["citations"]
        code = next(c for c in citations if c["path"] == "src/shop/sessions.py")
        assert code["repository"] == "shop" and code["commit"] == repo.head()
        # Every citation says how fresh its source is and who changed it last.
        assert code["updated_by"] == "Ada Lovelace"
        committed = repo.git("show", "-s", "--format=%cI", "HEAD")
        assert datetime.fromisoformat(code["updated_at"]) == datetime.fromisoformat(committed)
        assert code["location"] == (
            f"shop › src/shop/sessions.py:L{code['start_line']}–L{code['end_line']}"
            f" @ {repo.head()[:7]}"
        )

        viewed = await http.get(
            f"/api/v1/repositories/{repository['id']}/file",
            params={"path": "src/shop/sessions.py", "commit": code["commit"][:7]},
            headers=member.headers,
        )
        assert viewed.status_code == 200, viewed.text
        assert viewed.json()["content"] == SESSIONS and viewed.json()["commit"] == repo.head()

        # A skipped file has no code view; a repository's file is not a document to delete.
        hidden = await http.get(
            f"/api/v1/repositories/{repository['id']}/file",
            params={"path": "outside"},
            headers=member.headers,
        )
        assert hidden.status_code == 404
        conflict = await http.delete(
            f"/api/v1/documents/{code['document_id']}", headers=admin.headers
        )
        assert conflict.status_code == 409 and conflict.json()["error"] == "conflict"

        removed = await http.delete(
            f"/api/v1/repositories/{repository['id']}", headers=admin.headers
        )
        assert removed.status_code == 204
        gone = await http.get(f"/api/v1/repositories/{repository['id']}", headers=admin.headers)
        assert gone.status_code == 404


def test_the_cli_adds_a_repository_with_a_progress_bar_and_lists_it(
    settings: Settings, tmp_path: Path
) -> None:
    repo = sample(tmp_path / "cli-shop")
    env = {**cli_env(settings), "COLUMNS": "200"}
    added = subprocess.run(
        [sys.executable, "-m", "allin", "repos", "add", str(repo.path), "--name", "cli-shop"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert added.returncode == 0, added.stdout + added.stderr
    assert "cli-shop at " in added.stdout and "3 files indexed" in added.stdout
    listed = subprocess.run(
        [sys.executable, "-m", "allin", "repos", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "cli-shop" in listed.stdout and repo.head()[:12] in listed.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "allin", "repos", "sync", "no-such-repository"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert missing.returncode == 1 and "no repository named" in missing.stdout


def cli_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": str(settings.database_url),
        "ALLIN_DATA_DIR": str(settings.data_dir),
        "ALLIN_MEMORY": "off",
        "ALLIN_JOBS_STALLED_AFTER_S": "4",
        "ALLIN_REPO_MAX_FILE_BYTES": "20000",
    }


async def test_a_worker_killed_mid_sync_is_replaced_and_nothing_is_indexed_twice(
    postgres: Any, tmp_path: Path
) -> None:
    from allin.services import Services

    repo = GitRepo(tmp_path / "big")
    for n in range(600):
        repo.write(f"pkg/module_{n:03}.py", f"def function_{n}(value):\n    return value * {n}\n")
    repo.commit("Many modules")
    # A database of its own: the module's app runs a worker that would take the job too.
    settings = make_settings(
        database_url=new_database(postgres), data_dir=tmp_path / "data", memory=False
    )
    services = await Services.start(settings)
    try:
        async with worker_process(cli_env(settings), tmp_path / "worker.log") as worker:
            queued = await services.repositories.add("test", str(repo.path), "big", None)
            repository_id = queued.repository.id
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                progress = (await services.repositories.store.get(repository_id)).progress or {}
                if progress.get("phase") == "indexing" and 0 < progress.get("done", 0) < 600:
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the worker never got half-way")
            worker.send_signal(signal.SIGKILL)
            await worker.wait()

            # Another worker notices the dead one (no heartbeat) and takes the job up again.
            from allin.jobs.options import WorkerOptions

            replacement = asyncio.create_task(
                services.jobs.run_worker(WorkerOptions(stalled_after_s=4))
            )
            try:
                status = await asyncio.wait_for(services.jobs.wait(queued.job_id), 240)
            finally:
                replacement.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await replacement
            assert status == "succeeded"
            repository = await services.repositories.store.get(repository_id)
            assert repository.status == "ready" and repository.file_count == 600
            assert repository.chunk_count == 600
            assert repository.report["embedded_chunks"] < 600, "what was staged was embedded again"
            async with services.db.pool.connection() as conn:
                cursor = await conn.execute(
                    "select count(*) as n, count(distinct name) as names from documents"
                    " where repository_id = %s",
                    (repository_id,),
                )
                counts = await cursor.fetchone()
            assert counts == {"n": 600, "names": 600}
    finally:
        await services.stop()

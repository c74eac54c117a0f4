"""Uploads as jobs, over real HTTP on the real app and its real worker: a slow upload answered 202
and followed to its end, a failure met by the job kept on the document, a queued upload
cancelled, one user's many uploads holding up neither another user's nor more than their own
lanes, a passing failure tried again, and a worker process killed in the middle of an
ingestion."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from allin.app import create_app
from allin.auth.principal import Principal
from allin.jobs.options import DOCUMENTS_QUEUE, WorkerOptions
from allin.rag.document_records import Document
from tests.api.test_documents import HANDBOOK
from tests.api.test_repositories import cli_env
from tests.conftest import make_settings, new_database
from tests.support.accounts import Account, sign_up
from tests.support.fake_supabase_storage import SERVICE_KEY
from tests.support.processes import worker_process
from tests.support.proxy import CuttableProxy
from tests.support.servers import serve_ready

# Generous: the machine running the suite may be busy.
_WITHIN_S = 240


def sections(count: int, topic: str = "topic") -> bytes:
    """A Markdown document of `count` sections: as many chunks, so embedding it takes a while."""
    body = "".join(
        f"## {topic.title()} {n}\n\nWhat the team agreed about {topic} number {n}: ship it on "
        f"day {n % 28 + 1}, review it with {n % 7 + 2} people, and keep notes.\n\n"
        for n in range(count)
    )
    return f"# {topic.title()}\n\n{body}".encode()


async def upload(
    base_url: str, account: Account, files: list[tuple[str, bytes]], *, wait: float | None = None
) -> httpx.Response:
    """POST the files; with `wait`, the request waits that long at most for their ingestion."""
    params = {} if wait is None else {"wait": wait}
    async with httpx.AsyncClient(base_url=base_url, timeout=_WITHIN_S) as http:
        return await http.post(
            "/api/v1/documents",
            headers=account.headers,
            params=params,
            files=[("files", (name, data)) for name, data in files],
        )


async def document(http: httpx.AsyncClient, document_id: str) -> dict[str, Any]:
    response = await http.get(f"/api/v1/documents/{document_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def until_settled(http: httpx.AsyncClient, document_id: str) -> list[dict[str, Any]]:
    """Every state the document was seen in, polled until its ingestion ended."""
    seen = []
    deadline = time.monotonic() + _WITHIN_S
    while time.monotonic() < deadline:
        seen.append(await document(http, document_id))
        if seen[-1]["ingest_status"] not in ("queued", "ingesting"):
            return seen
        await asyncio.sleep(0.05)
    raise AssertionError(f"never settled: {seen[-1]}")


async def test_a_slow_upload_answers_202_and_is_followed_to_its_end(
    live_server: str, account: Account
) -> None:
    response = await upload(live_server, account, [("big.md", sections(300))], wait=0)
    assert response.status_code == 202, response.text
    [queued] = response.json()["files"]
    assert queued["status"] in ("queued", "ingesting") and queued["error"] is None
    assert queued["document"]["status"] == "indexing" and queued["document"]["job_id"]

    async with httpx.AsyncClient(base_url=live_server, headers=account.headers) as http:
        seen = await until_settled(http, queued["document"]["id"])
    final = seen[-1]
    assert (final["ingest_status"], final["status"], final["chunk_count"]) == (
        "indexed",
        "ready",
        300,
    )
    assert final["progress"] is None and final["error"] is None
    running = [state["progress"] for state in seen if state["ingest_status"] == "ingesting"]
    assert running and all(p and 0 <= p["done"] <= p["total"] for p in running), seen


def test_the_upload_statuses_are_in_the_api_schema(live_server: str) -> None:
    schema = httpx.get(f"{live_server}/openapi.json").json()
    upload_route = schema["paths"]["/api/v1/documents"]["post"]
    assert {"200", "202", "207"} <= set(upload_route["responses"])
    assert "wait" in [parameter["name"] for parameter in upload_route["parameters"]]
    statuses = schema["components"]["schemas"]["FileResult"]["properties"]["status"]["enum"]
    assert set(statuses) == {"queued", "ingesting", "indexed", "unchanged", "failed", "cancelled"}
    assert "post" in schema["paths"]["/api/v1/documents/{document_id}/cancel"]


async def test_a_failure_met_by_the_job_is_kept_on_the_document(
    live_server: str, account: Account
) -> None:
    # A PDF by its header, unreadable past it: only parsing (in the job) finds out.
    broken = b"%PDF-1.7\n" + b"\x00garbage" * 64
    response = await upload(live_server, account, [("broken.pdf", broken)])
    assert response.status_code == 207, response.text
    [failed] = response.json()["files"]
    assert (failed["status"], failed["error"]) == ("failed", "bad_request"), failed
    assert failed["detail"] and failed["document"]["error"] == failed["detail"]

    async with httpx.AsyncClient(base_url=live_server, headers=account.headers) as http:
        listed = (await http.get("/api/v1/documents")).json()["documents"]
        [kept] = [d for d in listed if d["name"] == "broken.pdf"]
        assert (kept["status"], kept["ingest_status"], kept["error_code"]) == (
            "failed",
            "failed",
            "bad_request",
        )
        # A new version that fails leaves the indexed one searchable.
        good = await upload(live_server, account, [("handbook.md", HANDBOOK)])
        handbook_id = good.json()["files"][0]["document"]["id"]
        bad = await upload(live_server, account, [("handbook.md", b"\xff\xfe" + b"\x00" * 4000)])
        assert bad.status_code == 207 and bad.json()["files"][0]["status"] == "failed"
        after = await document(http, handbook_id)
        assert (after["status"], after["ingest_status"], after["chunk_count"]) == (
            "ready",
            "failed",
            2,
        )
        raw = await http.get(
            (await http.get(f"/api/v1/documents/{handbook_id}/link")).json()["url"]
        )
        assert raw.content == HANDBOOK


@pytest.fixture(scope="module")
def jobs_server(postgres: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An app of its own, so the uploads' jobs queue behind nobody else's."""
    settings = make_settings(
        database_url=new_database(postgres),
        data_dir=tmp_path_factory.mktemp("uploads"),
        memory=False,
        ingest_per_user=2,
        ingest_concurrency=4,
    )
    with serve_ready(create_app(settings)) as url:
        yield url


async def test_one_users_many_uploads_hold_up_neither_another_user_nor_more_lanes(
    jobs_server: str,
) -> None:
    busy, other = await sign_up(jobs_server), await sign_up(jobs_server)
    files = [(f"manual-{n}.md", sections(200, f"manual {n}")) for n in range(6)]
    many = await upload(jobs_server, busy, files, wait=0)
    assert many.status_code == 202, many.text
    ids = [result["document"]["id"] for result in many.json()["files"]]

    async with httpx.AsyncClient(base_url=jobs_server, headers=busy.headers) as http:
        watching = asyncio.create_task(_most_running_at_once(http, ids))
        single = await upload(jobs_server, other, [("handbook.md", HANDBOOK)])
        assert single.status_code == 200, single.text
        assert single.json()["files"][0]["status"] == "indexed"
        states = [(await document(http, i))["ingest_status"] for i in ids]
        # Started at once: when it is done, most of the busy user's uploads still wait.
        assert states.count("queued") >= 2, states
        most = await watching
    assert 1 <= most <= 2


async def _most_running_at_once(http: httpx.AsyncClient, ids: list[str]) -> int:
    most = 0
    deadline = time.monotonic() + _WITHIN_S
    while time.monotonic() < deadline:
        states = [(await document(http, i))["ingest_status"] for i in ids]
        most = max(most, states.count("ingesting"))
        if all(state == "indexed" for state in states):
            return most
        await asyncio.sleep(0.05)
    raise AssertionError(f"not all indexed: {states}")


async def test_a_queued_upload_is_cancelled(jobs_server: str) -> None:
    account = await sign_up(jobs_server)
    files = [(f"long-{n}.md", sections(400, f"long {n}")) for n in range(2)]
    files.append(("later.md", HANDBOOK))
    response = await upload(jobs_server, account, files, wait=0)
    later = response.json()["files"][2]["document"]
    async with httpx.AsyncClient(base_url=jobs_server, headers=account.headers) as http:
        cancelled = await http.post(f"/api/v1/documents/{later['id']}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        seen = await until_settled(http, later["id"])
        assert (seen[-1]["ingest_status"], seen[-1]["status"]) == ("cancelled", "failed")
        again = await http.post(f"/api/v1/documents/{later['id']}/cancel")
        assert again.status_code == 409 and again.json()["error"] == "conflict"
        # The others go on.
        first = await until_settled(http, response.json()["files"][0]["document"]["id"])
        assert first[-1]["ingest_status"] == "indexed"


async def test_a_running_ingestion_is_cancelled_and_leaves_nothing_indexed(
    jobs_server: str,
) -> None:
    account = await sign_up(jobs_server)
    response = await upload(jobs_server, account, [("huge.md", sections(900, "huge"))], wait=0)
    document_id = response.json()["files"][0]["document"]["id"]
    async with httpx.AsyncClient(base_url=jobs_server, headers=account.headers) as http:
        deadline = time.monotonic() + _WITHIN_S
        while (state := await document(http, document_id))["ingest_status"] != "ingesting":
            assert time.monotonic() < deadline, state
            await asyncio.sleep(0.05)
        cancelled = await http.post(f"/api/v1/documents/{document_id}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        final = (await until_settled(http, document_id))[-1]
        assert (final["ingest_status"], final["status"], final["chunk_count"]) == (
            "cancelled",
            "failed",
            0,
        )
        # What was stopped can be asked for again.
        again = await http.post(f"/api/v1/documents/{document_id}/reindex", params={"wait": 0})
        assert again.status_code == 202, again.text
        assert (await until_settled(http, document_id))[-1]["chunk_count"] == 900


async def test_a_worker_killed_mid_ingestion_is_replaced_and_nothing_is_indexed_twice(
    postgres: Any, tmp_path: Path
) -> None:
    from allin.services import Services

    # The app ingests nothing itself: a worker process does, until it is killed.
    settings = make_settings(
        database_url=new_database(postgres),
        data_dir=tmp_path / "data",
        memory=False,
        ingest_worker=False,
    )
    services = await Services.start(settings)
    try:
        async with worker_process(cli_env(settings), tmp_path / "worker.log") as worker:
            owner = Principal(user_id="killed-worker-owner")
            queued = await services.library.submit(owner, "big.md", sections(900), shared=False)
            assert isinstance(queued, Document)
            await _until_half_embedded(services, queued.id)
            worker.send_signal(signal.SIGKILL)
            await worker.wait()

            # Another worker notices the dead one (no heartbeat) and takes the job up again.
            replacement = asyncio.create_task(
                services.jobs.run_worker(
                    WorkerOptions(stalled_after_s=4, queues=frozenset({DOCUMENTS_QUEUE}))
                )
            )
            try:
                settled = await services.library.settle([queued.id], _WITHIN_S)
            finally:
                replacement.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await replacement
            final = settled[queued.id]
            assert (final.ingest_status, final.status, final.chunk_count) == (
                "indexed",
                "ready",
                900,
            )
            async with await psycopg.AsyncConnection.connect(str(settings.database_url)) as conn:
                cursor = await conn.execute(
                    "select count(*), count(distinct ord), count(distinct document_id)"
                    " from document_chunks c join documents d on d.id = c.document_id"
                    " where d.owner_id = %s",
                    (owner.user_id,),
                )
                assert await cursor.fetchone() == (900, 900, 1)
    finally:
        await services.stop()


async def test_a_passing_failure_is_retried_until_the_upload_is_indexed(
    postgres: Any, tmp_path: Path, supabase_url: str
) -> None:
    from allin.services import Services

    # The raw files are in Supabase Storage, behind a link the test cuts.
    link = CuttableProxy(urlsplit(supabase_url).port or 80)
    settings = make_settings(
        database_url=new_database(postgres),
        data_dir=tmp_path,
        memory=False,
        ingest_worker=False,
        blobs="supabase",
        supabase_url=link.url,
        supabase_service_key=SERVICE_KEY,
    )
    services = await Services.start(settings)
    worker: asyncio.Task[None] | None = None
    try:
        owner = Principal(user_id="passing-failure-owner")
        queued = await services.library.submit(owner, "handbook.md", HANDBOOK, shared=False)
        assert isinstance(queued, Document)
        link.cut()
        worker = asyncio.create_task(
            services.jobs.run_worker(WorkerOptions(queues=frozenset({DOCUMENTS_QUEUE})))
        )
        deadline = time.monotonic() + _WITHIN_S
        while True:
            [state] = (await services.library.settle([queued.id], 0)).values()
            if state.error_code == "unavailable":
                break
            assert time.monotonic() < deadline, state
            await asyncio.sleep(0.05)
        # Said, and waiting for its retry.
        assert state.ingest_status == "queued" and state.error, state
        link.restore()
        final = (await services.library.settle([queued.id], _WITHIN_S))[queued.id]
        assert (final.ingest_status, final.status, final.chunk_count) == ("indexed", "ready", 2)
        assert final.error_code is None and final.error is None
    finally:
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        await services.stop()
        link.close()


async def _until_half_embedded(services: Any, document_id: str) -> None:
    deadline = time.monotonic() + _WITHIN_S
    while time.monotonic() < deadline:
        [state] = (await services.library.settle([document_id], 0)).values()
        progress = state.progress
        if progress and progress.phase == "embedding" and 0 < progress.done < progress.total:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the worker never got half-way")


async def test_workers_that_lose_their_registration_start_again_and_take_uploads(
    postgres: Any, tmp_path: Path
) -> None:
    # Another process's worker may count this one dead (its heartbeat late on a busy machine)
    # and delete its row; its next fetch then fails. It must start again, not stop for good.
    database = new_database(postgres)
    settings = make_settings(database_url=database, data_dir=tmp_path, memory=False)
    with serve_ready(create_app(settings)) as url:
        account = await sign_up(url)
        first = await upload(url, account, [("before.md", HANDBOOK)])
        assert first.status_code == 200, first.text
        async with await psycopg.AsyncConnection.connect(database, autocommit=True) as conn:
            await conn.execute("delete from procrastinate_workers")
        response = await upload(url, account, [("after.md", sections(3))], wait=0)
        assert response.status_code == 202, response.text
        [queued] = response.json()["files"]
        async with httpx.AsyncClient(base_url=url, headers=account.headers) as http:
            final = (await until_settled(http, queued["document"]["id"]))[-1]
        assert final["ingest_status"] == "indexed", final

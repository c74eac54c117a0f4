"""Real app processes on one database: a resume that lands on another worker, and a server killed
mid-answer."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.conftest import ws_url
from tests.faults.conftest import TOKEN_DELAY_MS
from tests.support.accounts import Account, sign_up
from tests.support.processes import app_env, app_processes
from tests.support.wsclient import answer_text, frames_until, next_frame, send, until_done

pytestmark = pytest.mark.timeout(180)


async def stored_turns(url: str, account: Account, chat: str) -> list[dict[str, object]]:
    async with httpx.AsyncClient(base_url=url, headers=account.headers) as http:
        response = await http.get(f"/api/v1/chat/history/{account.user_id}/{chat}")
    assert response.status_code == 200, response.text
    return list(response.json()["turns"])


async def test_stream_started_on_one_worker_resumes_on_another(
    database_url: str, tmp_path: Path
) -> None:
    env = app_env(database_url, tmp_path, relay="true", offline_token_delay_ms=str(TOKEN_DELAY_MS))
    with app_processes(env, env, log=tmp_path / "workers.log") as (one, two):
        ann = await sign_up(one.url)
        async with connect(ws_url(two.url, ann, "c1")) as watcher:
            # A second tab, on the other worker, follows the chat from the start.
            await send(watcher, type="resume", last_seq=0)
            async with connect(ws_url(one.url, ann, "c1")) as socket:
                await send(socket, type="message", id="m1", content="Who are you?")
                before = await frames_until(socket, "token", 5)
            answer_id = before[-1]["turn_id"]
            async with connect(ws_url(two.url, ann, "c1")) as socket:
                await send(socket, type="resume", last_seq=before[-1]["seq"])
                after = await until_done(socket)
                # Sent again on this worker while it is answered on the other: answered once.
                await send(socket, type="message", id="m1", content="Who are you?")
                again = await until_done(socket)
            watched = await until_done(watcher)
        stored = await stored_turns(two.url, ann, "c1")
    content = after[-1]["turn"]["content"]
    assert [t["role"] for t in stored] == ["user", "assistant"]
    assert stored[1]["content"] == content
    assert answer_text(after, answer_id, answer_text(before, answer_id)) == content
    resumed_seqs = [f["seq"] for f in after]
    assert resumed_seqs == sorted(set(resumed_seqs)) and resumed_seqs[0] > before[-1]["seq"]
    assert [f["type"] for f in again] == ["ack", "done"] and again[-1]["turn"]["id"] == answer_id
    # The tab on the other worker saw the whole stream, relayed, in order.
    assert watched[0]["type"] == "ack" and watched[-1]["type"] == "done"
    assert answer_text(watched, answer_id) == content
    assert [f["seq"] for f in watched] == sorted(set(f["seq"] for f in watched))


async def test_server_killed_mid_answer_keeps_the_question_and_marks_the_answer(
    database_url: str, tmp_path: Path
) -> None:
    env = app_env(
        database_url, tmp_path, offline_token_delay_ms=str(TOKEN_DELAY_MS), run_stale_s="1"
    )
    log = tmp_path / "server.log"
    with app_processes(env, log=log) as (first,):
        ann = await sign_up(first.url)
        async with connect(ws_url(first.url, ann, "c1")) as socket:
            await send(socket, type="message", id="m1", content="Who are you?")
            before = await frames_until(socket, "token", 5)
            first.kill()
    with app_processes(env, log=log) as (second,):
        async with connect(ws_url(second.url, ann, "c1")) as socket:
            await send(socket, type="resume", last_seq=before[-1]["seq"])
            done = await next_frame(socket)
            assert done["type"] == "done", done
            # The user retries with a new message, and gets an answer.
            await send(socket, type="message", id="m2", content="Who are you?")
            retried = await until_done(socket)
        stored = await stored_turns(second.url, ann, "c1")
    interrupted = done["turn"]
    assert interrupted["metadata"]["status"] == "interrupted"
    # What was streamed before the crash is kept.
    assert interrupted["content"].startswith(answer_text(before, interrupted["id"]))
    assert retried[-1]["type"] == "done" and "Allin" in retried[-1]["turn"]["content"]
    assert [(t["role"], t["metadata"].get("status")) for t in stored] == [  # type: ignore[attr-defined]
        ("user", None),
        ("assistant", "interrupted"),
        ("user", None),
        ("assistant", None),
    ]

"""A dropped connection resumes where it was: the frames it missed once each, then live ones;
several tabs see one stream; `cancel` keeps what was written."""

from __future__ import annotations

import asyncio

import httpx
from websockets.asyncio.client import connect

from tests.conftest import ws_url
from tests.support.accounts import Account, sign_up
from tests.support.wsclient import answer_text, frames_until, next_frame, send, until_done


async def stored_turns(url: str, account: Account, chat: str) -> list[dict[str, object]]:
    async with httpx.AsyncClient(base_url=url, headers=account.headers) as http:
        response = await http.get(f"/api/v1/chat/history/{account.user_id}/{chat}")
    assert response.status_code == 200, response.text
    return list(response.json()["turns"])


def seqs(frames: list[dict[str, object]]) -> list[int]:
    return [int(frame["seq"]) for frame in frames]  # type: ignore[call-overload]


def assert_increasing(numbers: list[int]) -> None:
    assert numbers == sorted(set(numbers)), numbers


async def test_every_chat_frame_is_numbered_in_order(slow_server: str) -> None:
    ann = await sign_up(slow_server)
    async with connect(ws_url(slow_server, ann, "c1")) as socket:
        await send(socket, type="message", id="m1", content="Who are you?")
        first = await until_done(socket)
        await send(socket, type="message", id="m2", content="And what can you do?")
        second = await until_done(socket)
    assert_increasing(seqs(first + second))
    turns = await stored_turns(slow_server, ann, "c1")
    # Each stored turn keeps the seq of the frame that announced it.
    assert [t["seq"] for t in turns] == [
        first[0]["seq"],
        first[-1]["seq"],
        second[0]["seq"],
        second[-1]["seq"],
    ]


async def test_dropped_mid_answer_resumes_with_exactly_the_missed_frames(slow_server: str) -> None:
    ann = await sign_up(slow_server)
    async with connect(ws_url(slow_server, ann, "c1")) as socket:
        await send(socket, type="message", id="m1", content="Who are you?")
        before = await frames_until(socket, "token", 5)
    # The connection is gone mid-answer; the answer goes on being written.
    last_seq = before[-1]["seq"]
    answer_id = before[-1]["turn_id"]
    async with connect(ws_url(slow_server, ann, "c1")) as socket:
        await send(socket, type="resume", last_seq=last_seq)
        after = await until_done(socket)
    assert after[-1]["type"] == "done"
    assert_increasing(seqs(before + after))
    # From the chat's buffer: every token the client missed, one by one, none it had.
    assert seqs(after) == list(range(last_seq + 1, last_seq + 1 + len(after)))
    have = answer_text(before, answer_id)
    assert answer_text(after, answer_id, have) == after[-1]["turn"]["content"]
    assert [t["role"] for t in await stored_turns(slow_server, ann, "c1")] == ["user", "assistant"]


async def test_resume_after_the_answer_was_stored_sends_the_stored_answer(
    slow_server: str,
) -> None:
    ann = await sign_up(slow_server)
    async with connect(ws_url(slow_server, ann, "c1")) as socket:
        await send(socket, type="message", id="m1", content="Who are you?")
        before = await frames_until(socket, "token", 3)
    for _ in range(200):
        if len(await stored_turns(slow_server, ann, "c1")) == 2:
            break
        await asyncio.sleep(0.05)
    async with connect(ws_url(slow_server, ann, "c1")) as socket:
        await send(socket, type="resume", last_seq=before[-1]["seq"])
        after = await until_done(socket)
        await send(socket, type="ping")
        assert (await next_frame(socket))["type"] == "pong"
    # Nobody followed the chat any more, so the frames come from the table: the answer, whole.
    assert [f["type"] for f in after] == ["done"]
    stored = await stored_turns(slow_server, ann, "c1")
    assert after[0]["turn"]["content"] == stored[1]["content"]
    assert after[0]["seq"] == stored[1]["seq"]


async def test_resume_from_zero_replays_the_announced_turns(slow_server: str) -> None:
    ann = await sign_up(slow_server)
    async with connect(ws_url(slow_server, ann, "c1")) as socket:
        await send(socket, type="message", id="m1", content="hello")
        await until_done(socket)
        await send(socket, type="message", id="m2", content="Who are you?")
        await until_done(socket)
    async with connect(ws_url(slow_server, ann, "c1")) as socket:
        await send(socket, type="resume", last_seq=0)
        replayed = [await next_frame(socket) for _ in range(4)]
    assert [f["type"] for f in replayed] == ["ack", "done", "ack", "done"]
    assert [f["turn"]["content"] for f in replayed[::2]] == ["hello", "Who are you?"]
    assert_increasing(seqs(replayed))


async def test_two_tabs_see_the_same_stream(slow_server: str) -> None:
    ann = await sign_up(slow_server)
    async with (
        connect(ws_url(slow_server, ann, "c1")) as tab_a,
        connect(ws_url(slow_server, ann, "c1")) as tab_b,
    ):
        await send(tab_b, type="resume", last_seq=0)
        await send(tab_a, type="message", id="m1", content="Who are you?")
        seen_a = await until_done(tab_a)
        seen_b = await until_done(tab_b)
    assert seen_a == seen_b
    assert seen_a[-1]["turn"]["content"].startswith(answer_text(seen_a, seen_a[-1]["turn"]["id"]))


async def test_cancel_stops_the_answer_and_keeps_what_was_written(slow_server: str) -> None:
    ann = await sign_up(slow_server)
    async with connect(ws_url(slow_server, ann, "c1")) as socket:
        await send(socket, type="message", id="m1", content="Who are you?")
        before = await frames_until(socket, "token", 4)
        await send(socket, type="cancel")
        after = await until_done(socket)
        done = after[-1]
        assert done["type"] == "done" and done["turn"]["metadata"]["status"] == "cancelled"
        written = answer_text(before + after, done["turn"]["id"])
        assert done["turn"]["content"] == written and len(written) > 0
        # Nothing is being written any more.
        await send(socket, type="cancel")
        refusal = await next_frame(socket)
        assert refusal["type"] == "error" and refusal["code"] == "not_found"
    stored = await stored_turns(slow_server, ann, "c1")
    assert stored[1]["content"] == written
    assert stored[1]["metadata"]["status"] == "cancelled"


async def test_resume_must_come_first(slow_server: str) -> None:
    ann = await sign_up(slow_server)
    async with connect(ws_url(slow_server, ann, "c1")) as socket:
        await send(socket, type="ping")
        await next_frame(socket)
        await send(socket, type="resume", last_seq=0)
        error = await next_frame(socket)
    assert error["type"] == "error" and error["code"] == "bad_request"
    assert "first frame" in error["message"]

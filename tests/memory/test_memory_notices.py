"""A turn that teaches Allin something tells its chat: a `memory_updated` frame with the memories
and the answer's id, live on the chat socket, again to a client that resumes (from the buffer,
from the tables, through the relay), and kept on the answer for a page that loads the chat later.
Learning through the job queue tells it too."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from websockets.asyncio.client import connect

from allin.chat.frames import MemoryUpdated
from allin.chat.interaction import TurnRequest
from allin.chat.streams import Follower, Streams
from allin.jobs.queue import JobQueue
from allin.memory.manager import MemoryManager
from allin.services import Services
from tests.chat.test_interaction import Collected
from tests.conftest import ws_url
from tests.memory.test_learning_jobs import manager, queued, work_until_learned  # noqa: F401
from tests.support.accounts import Account
from tests.support.wsclient import ask, frames_until, send

TOLD = "My manager is Dana."


async def test_a_turn_that_teaches_a_memory_tells_its_chat(
    live_server: str, account: Account, services: Services
) -> None:
    chat = f"c-{uuid.uuid4().hex[:8]}"
    async with connect(ws_url(live_server, account, chat)) as socket:
        asked = await ask(socket, "m1", TOLD)
        done = asked[-1]
        assert done["type"] == "done", asked
        notice = (await frames_until(socket, "memory_updated"))[-1]
        # A question that teaches nothing is followed by no notice: the next one is the next
        # lesson's (a user's turns are learned one at a time, in order).
        await ask(socket, "m2", "How do I run the tests?")
        lesson = await ask(socket, "m3", "I'm new to Go.")
        next_notice = (await frames_until(socket, "memory_updated"))[-1]
    answer_id = done["turn"]["id"]
    assert notice["turn_id"] == answer_id and notice["seq"] > done["seq"]
    assert notice["memories"] == ["User's manager is Dana"]
    assert next_notice["turn_id"] == lesson[-1]["turn"]["id"]
    assert next_notice["memories"] == ["User is new to Go"]

    # A client that resumes after the answer gets the notice again.
    async with connect(ws_url(live_server, account, chat)) as socket:
        await send(socket, type="resume", last_seq=done["seq"])
        resumed = await frames_until(socket, "memory_updated")
    assert resumed[0] == notice

    # A page that loads the chat finds it on the answer.
    async with httpx.AsyncClient(base_url=live_server, headers=account.headers) as http:
        history = await http.get(f"/api/v1/chat/history/{account.user_id}/{chat}")
    stored = next(turn for turn in history.json()["turns"] if turn["id"] == answer_id)
    assert stored["metadata"]["memory_updated"] == {
        "memories": ["User's manager is Dana"],
        "seq": notice["seq"],
    }

    # Past any buffer, the tables say it; another process hears it through the relay.
    expected = MemoryUpdated(turn_id=answer_id, memories=["User's manager is Dana"])
    expected = expected.model_copy(update={"seq": notice["seq"]})
    from_tables = await resumed_from_tables(services, account.user_id, chat, done["seq"])
    assert [frame.turn_id for frame in from_tables] == [answer_id, next_notice["turn_id"]]
    assert from_tables[0] == expected
    assert await relayed(services, account.user_id, chat, notice) == [expected]


async def resumed_from_tables(
    services: Services, user_id: str, chat: str, last_seq: int
) -> list[Any]:
    streams = Streams(services.streams.log, services.chats, relay=False, buffer_frames=1)
    sink = Collected()
    follower = Follower(sink)
    async with streams.following(user_id, chat, follower) as stream:
        await stream.resume(follower, last_seq)
    return [frame for frame in sink.frames if isinstance(frame, MemoryUpdated)]


async def relayed(services: Services, user_id: str, chat: str, notice: dict[str, Any]) -> list[Any]:
    streams = Streams(services.streams.log, services.chats, relay=True, buffer_frames=10)
    sink = Collected()
    async with streams.following(user_id, chat, follower := Follower(sink)):
        await follower.start()
        streams.deliver_relayed(
            {
                "user_id": user_id,
                "chat_id": chat,
                "seq": notice["seq"],
                "type": "memory_updated",
                "turn_id": notice["turn_id"],
            }
        )
        for _ in range(200):
            if sink.frames:
                break
            await asyncio.sleep(0.01)
    return sink.frames


class Told:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int, list[str]]] = []

    async def learned(
        self, user_id: str, chat_id: str, answer_id: int, memories: list[str]
    ) -> None:
        self.calls.append((user_id, chat_id, answer_id, memories))


async def test_learning_as_a_job_tells_the_answer_it_learned_from(
    services: Services,
    queued: tuple[MemoryManager, JobQueue],  # noqa: F811
    user_id: str,
) -> None:
    memory, jobs = queued
    told = Told()
    memory.announce_through(told)
    turns = manager(services, memory)
    answered = Collected()
    await turns.ask(TurnRequest(user_id, "chat-a", "m1", TOLD), answered)
    await turns._runs.drain(10)
    assert told.calls == []  # learned later, by the job
    await work_until_learned(jobs, user_id)
    answer_id = answered.frames[-1].turn.id
    assert told.calls == [(user_id, "chat-a", answer_id, ["User's manager is Dana"])]

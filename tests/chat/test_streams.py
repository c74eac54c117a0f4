"""Chat streams below the socket: numbering, holding frames until a follower starts, catching up
from the buffer or from the tables, and a follower that let too many frames pile up."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from allin.chat.frames import Ack, ErrorOut, ServerFrame, Token
from allin.chat.interaction import InteractionManager, TurnRequest
from allin.chat.runs import Runs
from allin.chat.streams import Follower, Streams
from allin.services import Services
from allin.storage.chat_records import Turn
from allin.storage.frame_log import FrameLog
from tests.chat.test_interaction import ScriptedModel


@dataclass
class Collected:
    frames: list[ServerFrame] = field(default_factory=list)

    async def send(self, frame: ServerFrame) -> None:
        self.frames.append(frame)

    @property
    def contents(self) -> list[str]:
        return [frame.turn.content for frame in self.frames if isinstance(frame, Ack)]


async def announce(services: Services, streams: Streams, user_id: str, texts: list[str]) -> None:
    async with streams.using(user_id, "c") as stream:
        for n, text in enumerate(texts):
            turn, _ = await services.chats.append_user_turn(user_id, "c", f"{text}-{n}", text)
            await stream.publish(Ack(turn=turn), turn_id=turn.id)


async def test_a_follower_gets_frames_once_in_order_after_it_starts(
    services: Services, user_id: str
) -> None:
    streams = Streams(services.streams.log, services.chats, relay=False, buffer_frames=100)
    await announce(services, streams, user_id, ["before"])
    sink = Collected()
    follower = Follower(sink)
    async with streams.following(user_id, "c", follower) as stream:
        await announce(services, streams, user_id, ["one", "two"])
        assert sink.frames == []  # held until the client says where it is
        await stream.resume(follower, last_seq=0)
        await announce(services, streams, user_id, ["three"])
    assert sink.contents == ["before", "one", "two", "three"]
    numbers = [frame.seq or 0 for frame in sink.frames]
    assert numbers == sorted(set(numbers))


async def test_resume_past_the_buffer_reads_the_tables(services: Services, user_id: str) -> None:
    streams = Streams(services.streams.log, services.chats, relay=False, buffer_frames=2)
    sink = Collected()
    follower = Follower(sink)
    async with streams.following(user_id, "c", follower) as stream:
        await announce(services, streams, user_id, ["a", "b", "c", "d"])
        await stream.resume(follower, last_seq=0)
    assert sink.contents == ["a", "b", "c", "d"]


async def test_a_follower_that_lets_frames_pile_up_catches_up_from_the_tables(
    services: Services, user_id: str
) -> None:
    streams = Streams(services.streams.log, services.chats, relay=False, buffer_frames=2)
    sink = Collected()
    follower = Follower(sink, held_limit=2)
    async with streams.following(user_id, "c", follower) as stream:
        await announce(services, streams, user_id, ["a", "b", "c", "d", "e"])
        assert follower.dropped_after is not None
        # It asks for nothing in particular: live frames from when it connected, none lost.
        await stream.start(follower)
        await announce(services, streams, user_id, ["f"])
    assert sink.contents == ["a", "b", "c", "d", "e", "f"]


async def test_a_failed_turn_is_reported_to_a_client_that_resumes_later(
    services: Services, user_id: str
) -> None:
    failing = ScriptedModel(["never"], fail_after=0)
    manager = InteractionManager(
        services.settings, services.chats, failing, Runs(services.runs.log), services.streams
    )
    live = Collected()
    await manager.ask(TurnRequest(user_id, "c", "m1", "q"), live)
    ack, error = live.frames
    assert isinstance(ack, Ack) and isinstance(error, ErrorOut)
    # Nobody follows the chat now: a resume reads the tables.
    later = Collected()
    follower = Follower(later)
    async with services.streams.following(user_id, "c", follower) as stream:
        await stream.resume(follower, last_seq=ack.seq or 0)
    assert later.frames == [error]
    # Sent again and answered, the question no longer reports its failure.
    answering = InteractionManager(
        services.settings,
        services.chats,
        ScriptedModel(["fine"]),
        Runs(services.runs.log),
        services.streams,
    )
    await answering.ask(TurnRequest(user_id, "c", "m1", "q"), Collected())
    again = Collected()
    follower = Follower(again)
    async with services.streams.following(user_id, "c", follower) as stream:
        await stream.resume(follower, last_seq=ack.seq or 0)
    assert [frame.type for frame in again.frames] == ["ack", "done"]


class HeldLog(FrameLog):
    """Reads one turn back only once the test lets it."""

    def __init__(self, log: FrameLog, held_turn: int) -> None:
        self._log = log
        self.held_turn = held_turn
        self.release = asyncio.Event()

    async def turn(self, turn_id: int) -> Turn | None:
        if turn_id == self.held_turn:
            await self.release.wait()
        return await self._log.turn(turn_id)


async def test_relayed_frames_keep_their_chat_s_order_and_chats_do_not_wait_for_each_other(
    services: Services, user_id: str
) -> None:
    slow, _ = await services.chats.append_user_turn(user_id, "slow", "m1", "first question")
    fast, _ = await services.chats.append_user_turn(user_id, "fast", "m1", "other question")
    log = HeldLog(services.streams.log, held_turn=slow.id)
    streams = Streams(log, services.chats, relay=True, buffer_frames=100)
    sinks = {"slow": Collected(), "fast": Collected()}
    async with (
        streams.following(user_id, "slow", follower := Follower(sinks["slow"])),
        streams.following(user_id, "fast", other := Follower(sinks["fast"])),
    ):
        await follower.start()
        await other.start()

        def note(chat: str, seq: int, **frame: object) -> None:
            streams.deliver_relayed({"user_id": user_id, "chat_id": chat, "seq": seq, **frame})

        note("slow", 1, type="ack", turn_id=slow.id)
        note("slow", 2, type="token", turn_id=99, reply_to=slow.id, offset=0, text="Hi")
        note("fast", 1, type="ack", turn_id=fast.id)
        note("elsewhere", 1, type="ack", turn_id=fast.id)  # no one follows it here: dropped
        for _ in range(100):
            if sinks["fast"].frames:
                break
            await asyncio.sleep(0.01)
        # The other chat's ack came while this one's was still being read back...
        assert sinks["fast"].contents == ["other question"]
        # ... and this chat's token waits for the ack before it.
        assert sinks["slow"].frames == []
        log.release.set()
        for _ in range(100):
            if len(sinks["slow"].frames) == 2:
                break
            await asyncio.sleep(0.01)
    ack, token = sinks["slow"].frames
    assert isinstance(ack, Ack) and ack.turn.content == "first question" and ack.seq == 1
    assert isinstance(token, Token) and token.text == "Hi" and token.seq == 2


async def test_closing_stops_relayed_frames_still_waiting(services: Services, user_id: str) -> None:
    turn, _ = await services.chats.append_user_turn(user_id, "held", "m1", "question")
    streams = Streams(
        HeldLog(services.streams.log, held_turn=turn.id),
        services.chats,
        relay=True,
        buffer_frames=9,
    )
    sink = Collected()
    async with streams.following(user_id, "held", follower := Follower(sink)):
        await follower.start()
        streams.deliver_relayed(
            {"user_id": user_id, "chat_id": "held", "seq": 1, "type": "ack", "turn_id": turn.id}
        )
        await asyncio.sleep(0.05)
        await asyncio.wait_for(streams.aclose(), timeout=5)
    assert sink.frames == []

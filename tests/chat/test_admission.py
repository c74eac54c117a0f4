"""Back-pressure: past `max_concurrent_turns`, new turns wait their turn in order, their clients
are told `busy`, and /readyz says the process is saturated; nothing times out or is skipped."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx

from allin.app import create_app
from allin.chat.admission import TurnAdmission
from allin.chat.frames import Ack, Busy, Done, Token
from allin.chat.interaction import InteractionManager, TurnRequest
from allin.chat.runs import Runs
from allin.llm.base import Prompt
from allin.services import Services
from tests.chat.test_interaction import Collected


@dataclass
class GatedModel:
    """Answers each question with its own text, once the test opens the gate."""

    gate: asyncio.Event = field(default_factory=asyncio.Event)
    started: list[str] = field(default_factory=list)
    name: str = "gated"

    async def stream(self, prompt: Prompt) -> AsyncIterator[str]:
        self.started.append(prompt.user)
        await self.gate.wait()
        yield f"re: {prompt.user}"

    async def aclose(self) -> None:
        return None


async def until(condition: Callable[[], bool], timeout_s: float = 10) -> None:
    async with asyncio.timeout(timeout_s):
        while True:
            if condition():
                return
            await asyncio.sleep(0.01)


async def test_a_slot_is_handed_to_the_turns_waiting_in_order() -> None:
    admission = TurnAdmission(capacity=1)
    order: list[str] = []
    told: list[tuple[str, int]] = []

    async def turn(name: str, hold: asyncio.Event) -> None:
        async def waiting(ahead: int) -> None:
            told.append((name, ahead))

        async with admission.admitted(waiting):
            order.append(name)
            await hold.wait()

    holds = {name: asyncio.Event() for name in "abc"}
    tasks = {}
    for name in "abc":
        tasks[name] = asyncio.create_task(turn(name, holds[name]))
        await asyncio.sleep(0)
    assert order == ["a"] and told == [("b", 0), ("c", 1)]
    assert admission.saturated and (admission.in_flight, admission.waiting) == (1, 2)
    for name in "abc":
        holds[name].set()
        await tasks[name]
    assert order == ["a", "b", "c"]
    assert not admission.saturated and admission.in_flight == 0


async def test_a_turn_given_up_while_waiting_leaves_its_place() -> None:
    admission = TurnAdmission(capacity=1)
    first_done = asyncio.Event()

    async def hold() -> None:
        async with admission.admitted():
            await first_done.wait()

    async def then(name: str, log: list[str]) -> None:
        async with admission.admitted():
            log.append(name)

    log: list[str] = []
    holding = asyncio.create_task(hold())
    await asyncio.sleep(0)
    abandoned = asyncio.create_task(then("abandoned", log))
    kept = asyncio.create_task(then("kept", log))
    await asyncio.sleep(0)
    abandoned.cancel()
    first_done.set()
    await asyncio.gather(holding, kept)
    assert log == ["kept"] and admission.in_flight == 0 and not admission.saturated


async def test_past_its_capacity_a_turn_is_told_busy_then_answered_in_order(
    services: Services, user_id: str
) -> None:
    model = GatedModel()
    admission = TurnAdmission(capacity=1)
    manager = InteractionManager(
        services.settings,
        services.chats,
        model,
        Runs(services.runs.log),
        services.streams,
        admission=admission,
    )
    first, second = Collected(), Collected()
    answering = asyncio.create_task(
        manager.ask(TurnRequest(user_id, "chat-a", "m1", "first?"), first)
    )
    await until(lambda: bool(model.started))
    waiting = asyncio.create_task(
        manager.ask(TurnRequest(user_id, "chat-b", "m1", "second?"), second)
    )
    await until(lambda: bool(second.of(Busy)))
    (busy,) = second.of(Busy)
    assert isinstance(busy, Busy) and (busy.ahead, busy.reply_to) == (0, "m1")
    assert busy.seq is None  # a passing notice: never replayed on a resume
    assert [type(f) for f in second.frames] == [Ack, Busy]
    assert model.started == ["first?"]

    # The app's readiness follows the app's own admission.
    app = create_app(services.settings)
    app.state.services = services
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app")
    held = asyncio.Event()

    async def occupy() -> None:
        async with services.admission.admitted():
            await held.wait()

    occupying = [asyncio.create_task(occupy()) for _ in range(services.admission.capacity + 1)]
    await asyncio.sleep(0.05)
    saturated = await http.get("/readyz")
    assert saturated.status_code == 503 and "saturated" in saturated.json()["detail"]
    held.set()
    await asyncio.gather(*occupying)
    assert (await http.get("/readyz")).json() == {"status": "ready"}

    model.gate.set()
    await asyncio.gather(answering, waiting)
    assert model.started == ["first?", "second?"]
    assert [type(f) for f in second.frames] == [Ack, Busy, Token, Done]
    assert second.frames[-1].turn.content == "re: second?"  # type: ignore[union-attr]
    assert [type(f) for f in first.frames] == [Ack, Token, Done]

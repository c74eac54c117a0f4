"""The turn pipeline with scripted models standing in for a provider (the real providers are tested
against their wire protocols in tests/llm)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from allin.chat.context import Context, ContextSource, TurnListener
from allin.chat.frames import Ack, Done, ErrorOut, ServerFrame, Token
from allin.chat.interaction import InteractionManager, TurnRequest
from allin.chat.runs import Runs
from allin.llm.base import ContextBlock, ModelUnavailable, Prompt
from allin.rag.citations import Citation
from allin.services import Services
from allin.storage.chat_records import Turn


@dataclass
class ScriptedModel:
    chunks: list[str]
    fail_after: int | None = None
    stall_after: int | None = None
    prompts: list[Prompt] = field(default_factory=list)
    name: str = "scripted"

    async def stream(self, prompt: Prompt) -> AsyncIterator[str]:
        self.prompts.append(prompt)
        for n, chunk in enumerate(self.chunks):
            if n == self.fail_after:
                raise ModelUnavailable("upstream said no")
            if n == self.stall_after:
                await asyncio.sleep(3600)
            yield chunk

    async def aclose(self) -> None:
        return None


@dataclass
class Collected:
    frames: list[ServerFrame] = field(default_factory=list)

    async def send(self, frame: ServerFrame) -> None:
        self.frames.append(frame)

    def of(self, kind: type) -> list[ServerFrame]:
        return [f for f in self.frames if isinstance(f, kind)]


def pipeline(
    services: Services,
    model: ScriptedModel,
    sources: tuple[ContextSource, ...] = (),
    listeners: tuple[TurnListener, ...] = (),
    **overrides: float,
) -> InteractionManager:
    settings = services.settings.model_copy(update=overrides)
    return InteractionManager(
        settings,
        services.chats,
        model,
        Runs(services.runs.log),
        services.streams,
        sources,
        listeners,
    )


@dataclass
class Source:
    name: str
    context: Context | None  # None: fail

    async def context_for(self, question: Turn) -> Context:
        if self.context is None:
            raise RuntimeError(f"{self.name} is down")
        return self.context


@dataclass
class Listener:
    name: str
    fail: bool = False
    heard: asyncio.Queue[tuple[Turn, Turn]] = field(default_factory=asyncio.Queue)

    async def turn_completed(self, question: Turn, answer: Turn) -> None:
        await self.heard.put((question, answer))
        if self.fail:
            raise RuntimeError(f"{self.name} is down")


@dataclass
class Lockstep:
    """A model that writes its next chunk only once the previous one reached the client, as a
    slow model on an idle server does; and the client it watches."""

    chunks: list[str]
    name: str = "scripted"
    frames: list[ServerFrame] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, frame: ServerFrame) -> None:
        self.frames.append(frame)
        self.arrived.set()

    async def stream(self, prompt: Prompt) -> AsyncIterator[str]:
        for chunk in self.chunks:
            self.arrived.clear()
            yield chunk
            await self.arrived.wait()

    async def aclose(self) -> None:
        return None


async def test_answer_is_streamed_then_stored_with_metadata(
    services: Services, user_id: str
) -> None:
    model = Lockstep(["Hel", "lo ", "there"])
    sink = Collected()
    manager = InteractionManager(
        services.settings, services.chats, model, Runs(services.runs.log), services.streams
    )
    await manager.ask(TurnRequest(user_id, f"{user_id}-c", "m1", "hi"), model)
    sink.frames = model.frames
    kinds = [type(f) for f in sink.frames]
    # Each chunk is sent as it comes when nothing else is waiting to be sent.
    assert kinds == [Ack, Token, Token, Token, Done]
    assert [(t.text, t.offset) for t in sink.of(Token)] == [  # type: ignore[attr-defined]
        ("Hel", 0),
        ("lo ", 3),
        ("there", 6),
    ]
    done = sink.of(Done)[0]
    assert isinstance(done, Done)
    assert done.turn.content == "Hello there" and done.turn.reply_to == sink.frames[0].turn.id  # type: ignore[union-attr]
    assert all(t.turn_id == done.turn.id for t in sink.of(Token))  # type: ignore[union-attr]
    assert done.turn.metadata["model"] == "scripted"
    assert set(done.turn.metadata["timings"]) == {"first_token_ms", "total_ms"}
    stored = await services.chats.turns_before(user_id, f"{user_id}-c", None, 10)
    assert [(t.role, t.content) for t in stored] == [("user", "hi"), ("assistant", "Hello there")]


async def test_chunks_that_come_faster_than_they_are_sent_are_joined(
    services: Services, user_id: str
) -> None:
    # Written all at once: the first frame is not even out when the last chunk arrives.
    model = ScriptedModel(["Hel", "lo ", "there"])
    sink = Collected()
    await pipeline(services, model).ask(TurnRequest(user_id, f"{user_id}-c", "m1", "hi"), sink)
    assert [type(f) for f in sink.frames] == [Ack, Token, Done]
    (token,) = sink.of(Token)
    assert (token.text, token.offset) == ("Hello there", 0)  # type: ignore[attr-defined]


async def test_prompt_carries_system_prompt_and_history(services: Services, user_id: str) -> None:
    model = ScriptedModel(["ok"])
    manager = pipeline(services, model)
    chat = f"{user_id}-c"
    await manager.ask(TurnRequest(user_id, chat, "m1", "first"), Collected())
    await manager.ask(TurnRequest(user_id, chat, "m2", "second"), Collected())
    prompt = model.prompts[-1]
    assert "You are Allin" in prompt.system and "Team 8" in prompt.system
    assert [(m.role, m.content) for m in prompt.history] == [("user", "first"), ("assistant", "ok")]
    assert prompt.user == "second"


async def test_context_sources_reach_the_prompt_and_citations_the_done_frame(
    services: Services, user_id: str
) -> None:
    citation = Citation(
        n=1,
        document_id="d1",
        document="handbook.md",
        heading="Leave",
        chunk_id=7,
        snippet="25 days",
    )
    docs = Source("docs", Context(ContextBlock("Sources", ("[1] 25 days",)), (citation,)))
    memory = Source("memory", Context(ContextBlock("What you know about this user", ("Ann",))))
    broken = Source("broken", None)
    model = ScriptedModel(["25 days [1]"])
    sink = Collected()
    manager = pipeline(services, model, sources=(docs, broken, memory))
    await manager.ask(TurnRequest(user_id, f"{user_id}-c", "m1", "How much leave?"), sink)
    titles = [block.title for block in model.prompts[0].context]
    assert titles == ["Sources", "What you know about this user"]
    done = sink.of(Done)[0]
    assert isinstance(done, Done) and done.citations == [citation]
    stored = await services.chats.turns_before(user_id, f"{user_id}-c", None, 10)
    assert stored[-1].metadata["citations"] == [citation.model_dump(mode="json")]


async def test_listeners_hear_the_stored_turn_and_their_failure_is_contained(
    services: Services, user_id: str
) -> None:
    failing, listening = Listener("failing", fail=True), Listener("memory")
    manager = pipeline(services, ScriptedModel(["ok"]), listeners=(failing, listening))
    sink = Collected()
    await manager.ask(TurnRequest(user_id, f"{user_id}-c", "m1", "I use Flask"), sink)
    question, answer = await asyncio.wait_for(listening.heard.get(), 5)
    assert (question.content, answer.content) == ("I use Flask", "ok")
    await asyncio.wait_for(failing.heard.get(), 5)
    assert [type(f) for f in sink.frames] == [Ack, Token, Done]


async def test_retry_is_answered_once(services: Services, user_id: str) -> None:
    model = ScriptedModel(["answer"])
    manager = pipeline(services, model)
    await manager.ask(TurnRequest(user_id, f"{user_id}-c", "m1", "q"), Collected())
    retry = Collected()
    await manager.ask(TurnRequest(user_id, f"{user_id}-c", "m1", "q"), retry)
    assert [type(f) for f in retry.frames] == [Ack, Done]
    assert len(model.prompts) == 1


async def test_retry_while_answering_waits_for_the_same_answer(
    services: Services, user_id: str
) -> None:
    model = ScriptedModel(["a", "b"])
    manager = pipeline(services, model)
    first, second = Collected(), Collected()
    await asyncio.gather(
        manager.ask(TurnRequest(user_id, f"{user_id}-c", "m1", "q"), first),
        manager.ask(TurnRequest(user_id, f"{user_id}-c", "m1", "q"), second),
    )
    assert len(model.prompts) == 1
    assert first.of(Done)[0] == second.of(Done)[0]  # type: ignore[comparison-overlap]


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (ScriptedModel(["partial", "never"], fail_after=1), "upstream said no"),
        (ScriptedModel(["partial", "never"], stall_after=1), "sent nothing for 0.2 s"),
        (ScriptedModel([]), "empty answer"),
    ],
    ids=["provider-error", "stall", "empty"],
)
async def test_model_failure_is_an_unavailable_error_and_the_question_is_kept(
    services: Services, user_id: str, model: ScriptedModel, message: str
) -> None:
    sink = Collected()
    chat = f"{user_id}-c"
    await pipeline(services, model, llm_stall_timeout_s=0.2).ask(
        TurnRequest(user_id, chat, "m1", "q"), sink
    )
    error = sink.frames[-1]
    assert isinstance(error, ErrorOut)
    assert error.code == "unavailable" and message in error.message and error.reply_to == "m1"
    stored = await services.chats.turns_before(user_id, chat, None, 10)
    assert [t.role for t in stored] == ["user"]
    # The same message sent again is answered once the model works.
    retry = Collected()
    await pipeline(services, ScriptedModel(["fine"])).ask(
        TurnRequest(user_id, chat, "m1", "q"), retry
    )
    assert retry.of(Done)[0].turn.content == "fine"  # type: ignore[union-attr]


async def test_answer_survives_the_client_leaving(services: Services, user_id: str) -> None:
    model = ScriptedModel([f"w{n} " for n in range(50)])
    manager = pipeline(services, model)
    chat = f"{user_id}-c"
    waiting = asyncio.create_task(manager.ask(TurnRequest(user_id, chat, "m1", "q"), Collected()))
    await asyncio.sleep(0)
    waiting.cancel()  # what the socket does when its client disconnects
    await manager._runs.drain(5)
    stored = await services.chats.turns_before(user_id, chat, None, 10)
    assert [t.role for t in stored] == ["user", "assistant"]
    assert stored[1].content.startswith("w0 w1")

"""Provider-neutral scripts for the model stand-ins (`fake_gemini`, `fake_openai`): what the fake
model answers, and how (a reply in chunks, an HTTP error, a stall, a refusal)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.requests import Request

from allin.chat.prompt import system_prompt
from allin.llm.base import ChatModel, ContextBlock, Message, Prompt
from allin.llm.offline import identity

# Between two chunks of a streamed reply, as a real model writes over time: chunks that all
# arrived at once would be sent to the client joined (chat/publishing.py).
CHUNK_GAP_S = 0.03


def split(text: str, pieces: int) -> list[str]:
    """`text` cut at word boundaries into at most `pieces` chunks whose concatenation is `text`."""
    words = text.split(" ")
    step = max(1, -(-len(words) // pieces))
    groups = [" ".join(words[i : i + step]) for i in range(0, len(words), step)]
    return [group + " " for group in groups[:-1]] + groups[-1:]


@dataclass(frozen=True)
class Reply:
    """Answer `text`, streamed in `pieces` chunks."""

    text: str
    pieces: int = 3

    @property
    def chunks(self) -> list[str]:
        return split(self.text, self.pieces)


@dataclass(frozen=True)
class Failure:
    """Answer with an HTTP error and the provider's JSON error body carrying `message`."""

    status: int
    message: str


@dataclass(frozen=True)
class Stall:
    """Send `first` (nothing at all when empty: not even headers), then go silent for `seconds`."""

    seconds: float
    first: Sequence[str] = ()


@dataclass(frozen=True)
class Refusal:
    """Decline to answer, as safety filters do: a successful response that carries no text."""


Script = Reply | Failure | Stall | Refusal
# Given the system instruction and the last user message, decide how to answer.
Responder = Callable[[str, str], Script]
Behaviour = Script | Responder


def introduce(system: str, user: str) -> Script:
    """Behave like a model that follows its system prompt: say who it is when asked."""
    if "who are you" in user.lower():
        name, maker = identity(system)
        return Reply(f"I'm {name}, made by {maker}.")
    return Reply(f"You said: {user}")


def script_for(behaviour: Behaviour, system: str, user: str) -> Script:
    if isinstance(behaviour, Reply | Failure | Stall | Refusal):
        return behaviour
    return behaviour(system, user)


async def wait_for_disconnect(request: Request, seconds: float) -> None:
    """Sleep up to `seconds`, returning early once the client hangs up so that the server can stop
    promptly at the end of the test. Call it only after the request body has been read."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while (await request.receive())["type"] != "http.disconnect":
                pass


def asked(user: str, history: tuple[Message, ...] = ()) -> Prompt:
    """A prompt with Allin's system prompt, as the pipeline builds it."""
    return Prompt(system=system_prompt(), user=user, history=history)


# A follow-up from a user the pipeline knows something about: what each vendor's request must
# carry (system text with the context, the history in order, the question last).
NEWCOMER_HISTORY = (
    Message("user", "I'm Sam, I joined the payments team."),
    Message("assistant", "Hi!"),
)


def newcomer_prompt() -> Prompt:
    return Prompt(
        system=system_prompt(),
        user="What should I read first?",
        history=NEWCOMER_HISTORY,
        context=(ContextBlock("What you know about this user", ("Works on payments",)),),
    )


async def answer(model: ChatModel, prompt: Prompt) -> list[str]:
    return [chunk async for chunk in model.stream(prompt)]

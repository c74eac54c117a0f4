"""Answers pitched at the person asking: a `ContextSource` that puts a short profile (from the
user's memories) and their place on the onboarding path into the prompt, and records what was
used so the UI can say "Answered for: backend, Python; stage 2 of 4" under the answer. A chat
switched off (per chat) gets neither."""

from __future__ import annotations

import asyncio

from allin.chat.context import Context
from allin.llm.base import ContextBlock
from allin.memory.manager import MemoryManager
from allin.onboarding.path_records import Pitch
from allin.onboarding.profile import profile_of
from allin.onboarding.service import OnboardingService
from allin.storage.chat_records import Turn

TITLE = "Who is asking (pitch the answer at them)"
# The same block as an answer without a model quotes it to the user: where they are.
QUOTED_TITLE = "About you and your onboarding"
GUIDANCE = (
    "Pitch the answer at this person: explain the team's terms they may not know yet, don't "
    "explain what they already know, and point to their next onboarding step when it bears on "
    "the question."
)


class PitchContext:
    name = "onboarding"

    def __init__(
        self, service: OnboardingService, memory: MemoryManager | None, timeout_s: float
    ) -> None:
        self._service = service
        self._memory = memory
        self._timeout_s = timeout_s

    async def context_for(self, question: Turn) -> Context:
        store = self._service.store
        if self._memory is not None:
            await self._memory.ready()  # just after start-up: see `MemoryContext`
        async with asyncio.timeout(self._timeout_s):
            if not await store.pitched(question.user_id, question.chat_id):
                return Context()
            memories, found = await asyncio.gather(
                self._memories(question.user_id), self._service.next_step(question.user_id)
            )
        profile = profile_of(memories)
        if not profile.facts and found is None:
            return Context()
        items: list[str] = []
        if profile.facts:
            items.append("Profile (from what they told you): " + " · ".join(profile.facts))
        # Memories with no known role or technology in them still shaped the answer: say so.
        answered_for = profile.summary or ("what you told Allin" if profile.facts else "")
        pitch = Pitch(answered_for=answered_for)
        if found is not None:
            progress, next_step = found
            step = next_step.step
            owner = f" (owner: {step.owner})" if step.owner else ""
            items.append(
                f"Onboarding: stage {next_step.stage_number} of {next_step.stage_count} "
                f"(“{next_step.stage}”) of “{progress.title}”, {progress.done} of "
                f"{progress.total} steps done; next step: “{step.title}”{owner}."
            )
            pitch = Pitch(
                answered_for=answered_for,
                stage_number=next_step.stage_number,
                stage_count=next_step.stage_count,
                next_step=step.title,
            )
        await store.record_pitch(question.id, question.user_id, question.chat_id, pitch)
        # How to pitch the answer is for the model (`note`); an answer without one quotes the
        # profile and the next step alone.
        block = ContextBlock(TITLE, tuple(items), note=GUIDANCE, quoted_title=QUOTED_TITLE)
        return Context(block=block)

    async def _memories(self, user_id: str) -> list[str]:
        if self._memory is None:
            return []
        # All of them, not the closest to the question: who the person is bears on every answer;
        # oldest first, as they introduced themselves.
        memories = sorted(await self._memory.list_all(user_id), key=lambda m: m.created_at)
        return [memory.text for memory in memories]

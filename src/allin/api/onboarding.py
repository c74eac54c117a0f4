"""Onboarding paths over REST: each user reads and ticks their own progress and chooses, per
chat, whether answers are pitched at them; admins read the team overview (progress only, never
what anyone asked)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, Field

from allin.api.deps import ChatId, CurrentUser, OwnUserId, ServicesDep
from allin.api.errors import AUTHENTICATED, PER_USER, error_responses
from allin.errors import Forbidden
from allin.onboarding.overview import PathOverview
from allin.onboarding.path_records import NextStep, PathProgress, Pitch

router = APIRouter(prefix="/api/v1/onboarding", tags=["onboarding"])

PathId = Annotated[str, Path(pattern=r"^[0-9a-f-]{1,64}$", description="The path's id.")]
StepSlug = Annotated[
    str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,79}$", description="The step's slug.")
]


class MyOnboarding(BaseModel):
    paths: list[PathProgress]
    next: NextStep | None = Field(description="The next step of the first unfinished path.")


class TeamOverview(BaseModel):
    paths: list[PathOverview]


class AnsweredFor(Pitch):
    # As the UI shows it: "Answered for: backend, Python; stage 2 of 4".
    shown: str


class ChatPitch(BaseModel):
    pitched: bool = Field(description="Whether this chat's answers are pitched at the user.")
    # Keyed by the question's turn id (an answer's `reply_to`).
    answers: dict[int, AnsweredFor] = Field(default_factory=dict)


class PitchSwitch(BaseModel):
    pitched: bool


@router.get(
    "/overview",
    summary="The team's progress on every path (admins): stages, stuck steps, time per step",
    responses=error_responses(*AUTHENTICATED, 403),
)
async def team_overview(principal: CurrentUser, services: ServicesDep) -> TeamOverview:
    if not principal.is_admin:
        raise Forbidden("only admins see the team's onboarding overview")
    return TeamOverview(paths=await services.onboarding.overview())


@router.get(
    "/{user_id}",
    summary="One's progress on every onboarding path, and the next step",
    responses=error_responses(*PER_USER),
)
async def my_onboarding(user_id: OwnUserId, services: ServicesDep) -> MyOnboarding:
    paths = await services.onboarding.progress(user_id)
    return MyOnboarding(paths=paths, next=next((p.next for p in paths if p.next), None))


@router.post(
    "/{user_id}/paths/{path_id}/steps/{slug}/done",
    summary="Tick a step, or confirm a step suggested as done",
    responses=error_responses(*PER_USER, 404),
)
async def tick_step(
    user_id: OwnUserId, path_id: PathId, slug: StepSlug, services: ServicesDep
) -> PathProgress:
    return await services.onboarding.set_step(user_id, path_id, slug, done=True)


@router.delete(
    "/{user_id}/paths/{path_id}/steps/{slug}/done",
    summary="Un-tick a step, or dismiss a suggestion",
    responses=error_responses(*PER_USER, 404),
)
async def untick_step(
    user_id: OwnUserId, path_id: PathId, slug: StepSlug, services: ServicesDep
) -> PathProgress:
    return await services.onboarding.set_step(user_id, path_id, slug, done=False)


@router.get(
    "/{user_id}/chats/{chat_id}",
    summary="Whether a chat's answers are pitched at the user, and who each was answered for",
    responses=error_responses(*PER_USER),
)
async def chat_pitch(user_id: OwnUserId, chat_id: ChatId, services: ServicesDep) -> ChatPitch:
    return await _chat_pitch(services, user_id, chat_id)


@router.put(
    "/{user_id}/chats/{chat_id}/pitch",
    status_code=status.HTTP_200_OK,
    summary="Switch pitching answers at the user on or off for one chat",
    responses=error_responses(*PER_USER),
)
async def switch_pitch(
    user_id: OwnUserId, chat_id: ChatId, body: PitchSwitch, services: ServicesDep
) -> ChatPitch:
    await services.onboarding.store.set_pitched(user_id, chat_id, body.pitched)
    return await _chat_pitch(services, user_id, chat_id)


async def _chat_pitch(services: ServicesDep, user_id: str, chat_id: str) -> ChatPitch:
    store = services.onboarding.store
    pitches = await store.pitches(user_id, chat_id)
    return ChatPitch(
        pitched=await store.pitched(user_id, chat_id),
        answers={
            question: AnsweredFor(**pitch.model_dump(), shown=pitch.line())
            for question, pitch in pitches.items()
        },
    )

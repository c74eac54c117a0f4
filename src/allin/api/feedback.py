"""Feedback on answers: a user rates their own answers (thumbs up or down, with an optional
comment); admins read everyone's, the input of the knowledge-gap report."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import BaseModel, Field

from allin.api.deps import ROW_ID_MAX, ChatId, CurrentUser, OwnUserId, ServicesDep
from allin.api.errors import AUTHENTICATED, PER_USER, ErrorBody, error_responses
from allin.errors import Forbidden
from allin.storage.feedback import Feedback, FeedbackEntry, FeedbackStore, Rating
from allin.storage.text import StorableText

router = APIRouter(prefix="/api/v1", tags=["feedback"])

COMMENT_MAX_CHARS = 2000
LIST_MAX = 500


def get_feedback(services: ServicesDep) -> FeedbackStore:
    return FeedbackStore(services.db)


FeedbackDep = Annotated[FeedbackStore, Depends(get_feedback)]
TurnId = Annotated[
    int, Path(ge=1, le=ROW_ID_MAX, description="The answer's turn id (`id` in the history).")
]


class NewFeedback(BaseModel):
    rating: Rating
    comment: StorableText | None = Field(
        None,
        max_length=COMMENT_MAX_CHARS,
        description="What was wrong or missing; blank is no comment.",
    )


class FeedbackList(BaseModel):
    feedback: list[FeedbackEntry] = Field(description="Newest first.")


_TURN = "/chat/feedback/{user_id}/{chat_id}/{turn_id}"
# 404: no such answer of this user's in the chat (another user's turn included); 400: a question.
_OWN = {
    **error_responses(*PER_USER, 404),
    400: {"model": ErrorBody, "description": "bad_request: the turn is a question, not an answer"},
}


@router.put(
    _TURN, summary="Rate an answer of one's own (replaces one's earlier rating)", responses=_OWN
)
async def rate(
    user_id: OwnUserId,
    chat_id: ChatId,
    turn_id: TurnId,
    body: NewFeedback,
    store: FeedbackDep,
) -> Feedback:
    comment = body.comment.strip() if body.comment else None
    return await store.rate(user_id, chat_id, turn_id, body.rating, comment or None)


@router.delete(
    _TURN,
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Withdraw one's rating of an answer",
    responses=_OWN,
)
async def withdraw(
    user_id: OwnUserId, chat_id: ChatId, turn_id: TurnId, store: FeedbackDep
) -> Response:
    await store.withdraw(user_id, chat_id, turn_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/feedback",
    summary="Every user's feedback with the answers and questions it is about (admins)",
    responses=error_responses(*AUTHENTICATED, 403),
)
async def all_feedback(
    principal: CurrentUser,
    store: FeedbackDep,
    since: Annotated[
        datetime | None, Query(description="Only feedback given or changed since then.")
    ] = None,
    rating: Annotated[Rating | None, Query(description="Only this rating.")] = None,
    limit: Annotated[int, Query(ge=1, le=LIST_MAX)] = 100,
) -> FeedbackList:
    if not principal.is_admin:
        raise Forbidden("only admins read everyone's feedback")
    return FeedbackList(feedback=await store.all(since=since, rating=rating, limit=limit))

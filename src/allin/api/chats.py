"""Chats and their history, read from Postgres (`chats`, `chat_turns`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from allin.api.deps import ID_RULE, ROW_ID_MAX, ChatId, Id, OwnUserId, ServicesDep
from allin.api.errors import PER_USER, error_responses
from allin.errors import BadRequest
from allin.storage.chat_records import Chat, ChatMatch, Turn
from allin.storage.feedback import TurnRating
from allin.storage.text import StorableText

router = APIRouter(prefix="/api/v1/chat", tags=["chats"], responses=error_responses(*PER_USER, 404))


class ChatList(BaseModel):
    chats: list[Chat]


class NewChat(BaseModel):
    chat_id: Id | None = Field(None, description=f"{ID_RULE}; generated when omitted.")
    title: StorableText | None = Field(None, min_length=1, max_length=200)


class ChatRename(BaseModel):
    title: StorableText = Field(min_length=1, max_length=200)


class HistoryTurn(Turn):
    feedback: TurnRating | None = Field(
        None, description="The user's rating of an answer; null when none (and on questions)."
    )


class History(BaseModel):
    chat_id: str
    turns: list[HistoryTurn] = Field(description="Oldest first.")
    next_before: int | None = Field(
        description="Pass as `before` to get the older page; null when there is none."
    )


class SearchResult(BaseModel):
    matches: list[ChatMatch] = Field(description="Best first; one per chat.")


@router.get("/chats/{user_id}", summary="The user's chats, newest activity first")
async def list_chats(user_id: OwnUserId, services: ServicesDep) -> ChatList:
    return ChatList(chats=await services.chats.list_chats(user_id))


@router.post(
    "/chats/{user_id}",
    status_code=status.HTTP_201_CREATED,
    summary="Create a chat",
    responses=error_responses(409),
)
async def create_chat(user_id: OwnUserId, body: NewChat, services: ServicesDep) -> Chat:
    chat_id = body.chat_id or uuid.uuid4().hex
    return await services.chats.create_chat(user_id, chat_id, body.title)


@router.patch("/chats/{user_id}/{chat_id}", summary="Rename a chat")
async def rename_chat(
    user_id: OwnUserId, chat_id: ChatId, body: ChatRename, services: ServicesDep
) -> Chat:
    return await services.chats.rename_chat(user_id, chat_id, body.title)


@router.delete(
    "/chats/{user_id}/{chat_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a chat and all its turns",
)
async def delete_chat(user_id: OwnUserId, chat_id: ChatId, services: ServicesDep) -> Response:
    await services.chat_service.delete(user_id, chat_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/history/{user_id}/{chat_id}", summary="A chat's turns, oldest first, by pages")
async def history(
    user_id: OwnUserId,
    chat_id: ChatId,
    services: ServicesDep,
    before: Annotated[
        int | None, Query(ge=1, le=ROW_ID_MAX, description="Return turns older than this id.")
    ] = None,
    limit: Annotated[int, Query(ge=1, description="Page size.")] = 50,
) -> History:
    page = await services.chat_service.history(user_id, chat_id, before, limit)
    return History(
        chat_id=chat_id,
        turns=[
            HistoryTurn(**dict(turn), feedback=page.ratings.get(turn.id)) for turn in page.turns
        ],
        next_before=page.next_before,
    )


@router.get(
    "/search/{user_id}",
    summary="Search the user's chats: what was said in them, and their titles",
    responses=error_responses(422),
)
async def search_chats(
    user_id: OwnUserId,
    services: ServicesDep,
    q: Annotated[
        StorableText,
        Query(
            min_length=1,
            max_length=200,
            description='Words to find; "quoted phrases" and -excluded words work as on the web.',
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=50, description="At most this many chats.")] = 20,
) -> SearchResult:
    if not q.strip():
        raise BadRequest("the search is empty")
    return SearchResult(matches=await services.chats.search(user_id, q, limit))

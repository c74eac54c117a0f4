"""The audio of spoken turns: which turns of a chat were spoken, and their recordings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel

from allin.api.deps import ROW_ID_MAX, ChatId, OwnUserId, ServicesDep
from allin.api.errors import PER_USER, error_responses
from allin.errors import NotFound
from allin.storage.voice import VoiceTurn

router = APIRouter(
    prefix="/api/v1/voice", tags=["voice"], responses=error_responses(*PER_USER, 404)
)

TurnId = Annotated[int, Path(ge=1, le=ROW_ID_MAX, description="The chat turn's id.")]


class VoiceTurnList(BaseModel):
    turns: list[VoiceTurn]


@router.get("/{user_id}/{chat_id}", summary="The chat's spoken turns, oldest first")
async def list_voice_turns(
    user_id: OwnUserId, chat_id: ChatId, services: ServicesDep
) -> VoiceTurnList:
    await services.chats.get_chat(user_id, chat_id)
    return VoiceTurnList(turns=await services.archive.store.of_chat(user_id, chat_id))


@router.get(
    "/{user_id}/{chat_id}/{turn_id}/audio",
    summary="A spoken turn's audio (WAV)",
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}}}},
)
async def voice_turn_audio(
    user_id: OwnUserId, chat_id: ChatId, turn_id: TurnId, services: ServicesDep
) -> Response:
    voice_turn = await services.archive.store.get(user_id, chat_id, turn_id)
    if voice_turn is None:
        raise NotFound(f"turn {turn_id} of chat {chat_id!r} has no audio")
    audio = await services.archive.audio(voice_turn)
    return Response(audio, media_type="audio/wav", headers={"Cache-Control": "private"})

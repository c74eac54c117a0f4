"""What Allin remembers about a user: list, correct, forget (one or all)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status
from pydantic import AfterValidator, BaseModel, StringConstraints

from allin.api.deps import OwnUserId, ServicesDep
from allin.api.errors import PER_USER, error_responses
from allin.errors import NotFound
from allin.memory.manager import MemoryManager
from allin.memory.memory_records import Memory
from allin.storage.text import refuse_nul

# 404: a memory that does not exist, or memory turned off on the server.
router = APIRouter(
    prefix="/api/v1/memories", tags=["memories"], responses=error_responses(*PER_USER, 404)
)


def get_memory(services: ServicesDep) -> MemoryManager:
    if services.memory is None:
        raise NotFound("long-term memory is off on this server (ALLIN_MEMORY=off)")
    return services.memory


MemoryDep = Annotated[MemoryManager, Depends(get_memory)]
MemoryId = Annotated[uuid.UUID, Path(description="The memory's id.")]


class MemoryList(BaseModel):
    memories: list[Memory]


class MemoryEdit(BaseModel):
    text: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=1000),
        AfterValidator(refuse_nul),
    ]


@router.get("/{user_id}", summary="What Allin remembers about the user, newest first")
async def list_memories(user_id: OwnUserId, memory: MemoryDep) -> MemoryList:
    return MemoryList(memories=await memory.list_all(user_id))


@router.patch("/{user_id}/{memory_id}", summary="Correct a memory (it is embedded again)")
async def edit_memory(
    user_id: OwnUserId, memory_id: MemoryId, body: MemoryEdit, memory: MemoryDep
) -> Memory:
    return await memory.update(user_id, str(memory_id), body.text)


@router.delete(
    "/{user_id}/{memory_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Forget a memory"
)
async def delete_memory(user_id: OwnUserId, memory_id: MemoryId, memory: MemoryDep) -> Response:
    await memory.delete(user_id, str(memory_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Forget everything Allin remembers about the user",
)
async def delete_all_memories(user_id: OwnUserId, memory: MemoryDep) -> Response:
    await memory.delete_all(user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

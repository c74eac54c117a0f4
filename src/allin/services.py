"""The app's services, built once from settings: the only place concrete providers are chosen."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from allin.chat.interaction import InteractionManager
from allin.chat.runs import Runs
from allin.config import Settings
from allin.llm.base import ChatModel
from allin.llm.registry import build_chat_model
from allin.storage.chats import ChatRepository
from allin.storage.db import Database

logger = logging.getLogger(__name__)

# How long shutdown waits for answers being written, so they are stored rather than cut off.
_DRAIN_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    chats: ChatRepository
    model: ChatModel
    runs: Runs
    interaction: InteractionManager

    @classmethod
    async def start(cls, settings: Settings) -> Services:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = await Database.open(settings)
        chats = ChatRepository(db)
        model = build_chat_model(settings)
        runs = Runs()
        logger.info("chat model: %s", model.name)
        return cls(
            settings=settings,
            db=db,
            chats=chats,
            model=model,
            runs=runs,
            interaction=InteractionManager(settings, chats, model, runs),
        )

    async def stop(self) -> None:
        await self.runs.drain(_DRAIN_TIMEOUT_S)
        await self.model.aclose()
        await self.db.close()

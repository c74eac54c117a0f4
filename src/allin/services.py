"""The app's services, built once from settings: the only place concrete providers are chosen."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from allin.auth.principal import TokenVerifier
from allin.auth.service import AuthService
from allin.auth.tokens import LocalTokens, SupabaseTokens, load_or_create_secret
from allin.chat.interaction import InteractionManager
from allin.chat.runs import Runs
from allin.config import AuthMode, Settings
from allin.embeddings.base import Embedder
from allin.embeddings.registry import build_embedder
from allin.llm.base import ChatModel
from allin.llm.registry import build_chat_model
from allin.memory.build import open_memory
from allin.memory.manager import MemoryManager
from allin.memory.pipeline import MemoryContext, MemoryListener
from allin.storage.chat_store import ChatStore
from allin.storage.chats import PostgresChatStore
from allin.storage.db import Database
from allin.storage.users import UserRepository

logger = logging.getLogger(__name__)

# How long shutdown waits for answers being written, so they are stored rather than cut off.
_DRAIN_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    http: httpx.AsyncClient
    chats: ChatStore
    tokens: TokenVerifier
    auth: AuthService
    model: ChatModel
    runs: Runs
    interaction: InteractionManager
    embedder: Embedder
    # None when long-term memory is off (`ALLIN_MEMORY=off`).
    memory: MemoryManager | None

    @classmethod
    async def start(cls, settings: Settings) -> Services:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = await Database.open(settings)
        http = httpx.AsyncClient()
        chats = PostgresChatStore(db)
        users = UserRepository(db)
        tokens, local = _token_verifier(settings, users, http)
        model = build_chat_model(settings)
        runs = Runs()
        embedder = build_embedder(settings)
        memory = await open_memory(settings, db, embedder) if settings.memory else None
        logger.info(
            "chat model: %s; auth: %s; memory: %s",
            model.name,
            settings.auth_mode.value,
            "on" if memory else "off",
        )
        return cls(
            settings=settings,
            db=db,
            http=http,
            chats=chats,
            tokens=tokens,
            auth=AuthService(users, local),
            model=model,
            runs=runs,
            interaction=InteractionManager(
                settings,
                chats,
                model,
                runs,
                sources=[MemoryContext(memory, settings)] if memory else [],
                listeners=[MemoryListener(memory)] if memory else [],
            ),
            embedder=embedder,
            memory=memory,
        )

    async def stop(self) -> None:
        await self.runs.drain(_DRAIN_TIMEOUT_S)
        if self.memory is not None:
            await self.memory.aclose()
        await self.embedder.aclose()
        await self.model.aclose()
        await self.http.aclose()
        await self.db.close()


def _token_verifier(
    settings: Settings, users: UserRepository, http: httpx.AsyncClient
) -> tuple[TokenVerifier, LocalTokens | None]:
    """The verifier for this deployment, and the local issuer when accounts are ours."""
    if settings.auth_mode is AuthMode.SUPABASE:
        secret = settings.supabase_jwt_secret
        verifier = SupabaseTokens(
            settings.supabase_url, secret.get_secret_value() if secret else None, http
        )
        return verifier, None
    secret_value = (
        settings.jwt_secret.get_secret_value()
        if settings.jwt_secret
        else load_or_create_secret(settings.data_dir / "jwt_secret")
    )
    local = LocalTokens(secret_value, settings.token_ttl_s, users)
    return local, local

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
from allin.llm.base import ChatModel
from allin.llm.registry import build_chat_model
from allin.storage.blobs import BlobStore
from allin.storage.chat_store import ChatStore
from allin.storage.db import Database
from allin.storage.registry import build_blob_store, build_chat_store, open_supabase
from allin.storage.supabase_client import SupabaseConnection
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
    blobs: BlobStore
    # The Supabase client behind the Supabase-backed stores, when one is chosen.
    supabase: SupabaseConnection | None
    tokens: TokenVerifier
    auth: AuthService
    model: ChatModel
    runs: Runs
    interaction: InteractionManager

    @classmethod
    async def start(cls, settings: Settings) -> Services:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = await Database.open(settings)
        http = httpx.AsyncClient()
        supabase = await open_supabase(settings)
        chats = build_chat_store(settings, db, supabase)
        blobs = await build_blob_store(settings, supabase)
        users = UserRepository(db)
        tokens, local = _token_verifier(settings, users, http)
        model = build_chat_model(settings)
        runs = Runs()
        logger.info("chat model: %s; auth: %s", model.name, settings.auth_mode.value)
        return cls(
            settings=settings,
            db=db,
            http=http,
            chats=chats,
            blobs=blobs,
            supabase=supabase,
            tokens=tokens,
            auth=AuthService(users, local),
            model=model,
            runs=runs,
            interaction=InteractionManager(settings, chats, model, runs),
        )

    async def stop(self) -> None:
        await self.runs.drain(_DRAIN_TIMEOUT_S)
        await self.model.aclose()
        await self.http.aclose()
        if self.supabase is not None:
            await self.supabase.aclose()
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

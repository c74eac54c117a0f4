"""Personal access tokens: created, listed and revoked by their owner, and accepted wherever a
login token is (`Authorization: Bearer allin_pat_…`), limited to their scopes.

A token is 256 random bits, so a plain SHA-256 is enough to store it: a slow password hash
defends guessable secrets, and a hash lookup keeps verifying a token to one indexed query.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from allin.auth.principal import Principal, TokenScope, TokenVerifier
from allin.errors import BadRequest, Forbidden, Unauthorized
from allin.storage.personal_tokens import PersonalToken, PersonalTokenStore

PREFIX = "allin_pat_"
# Enough of the token to tell tokens apart in a list, far too little to guess the rest.
_HINT_CHARS = len(PREFIX) + 4
MAX_TOKENS_PER_USER = 50


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PersonalTokens:
    def __init__(self, store: PersonalTokenStore) -> None:
        self._store = store

    async def create(
        self, principal: Principal, name: str, scopes: list[TokenScope], expires_in_days: int
    ) -> tuple[PersonalToken, str]:
        """A new token for the caller, and the token itself (shown this once, never stored)."""
        if principal.personal_token_id is not None:
            # A token must not mint tokens: a leaked one would otherwise outlive its revocation.
            raise Forbidden("log in to create tokens; a personal access token cannot")
        live = [t for t in await self._store.of_user(principal.user_id) if t.revoked_at is None]
        if len(live) >= MAX_TOKENS_PER_USER:
            raise BadRequest(f"at most {MAX_TOKENS_PER_USER} live tokens; revoke one first")
        token = PREFIX + secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + timedelta(days=expires_in_days)
        created = await self._store.create(
            principal.user_id,
            name,
            _hash(token),
            token[:_HINT_CHARS] + "…",
            sorted(set(scopes)),
            expires,
        )
        return created, token

    async def list(self, principal: Principal) -> list[PersonalToken]:
        return await self._store.of_user(principal.user_id)

    async def revoke(self, principal: Principal, token_id: str) -> PersonalToken:
        return await self._store.revoke(principal.user_id, token_id)


class WithPersonalTokens:
    """A `TokenVerifier` that accepts personal access tokens and hands any other token to the
    deployment's verifier (local JWTs or Supabase's)."""

    def __init__(self, store: PersonalTokenStore, sessions: TokenVerifier) -> None:
        self._store = store
        self._sessions = sessions

    async def verify(self, token: str) -> Principal:
        if not token.startswith(PREFIX):
            return await self._sessions.verify(token)
        owner = await self._store.owner(_hash(token))
        if owner is None:
            raise Unauthorized("this personal access token is unknown, revoked or expired")
        return Principal(
            user_id=owner.user_id,
            email=owner.email,
            is_admin=owner.is_admin,
            scopes=frozenset(owner.scopes),
            personal_token_id=owner.token_id,
        )

"""Access tokens: our own (local mode) and Supabase Auth's.

Both are JWTs with audience `authenticated` and the user's id in `sub`, so the rest of the app sees
one `Principal` whatever issued the token. Algorithms are always pinned per key: a token cannot
choose `none`, nor get an HMAC check against a public key.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt

from allin.auth.principal import Principal
from allin.errors import Unauthorized, Unavailable
from allin.storage.users import User, UserRepository

AUDIENCE = "authenticated"
LOCAL_ISSUER = "allin"
_LEEWAY_S = 30
_MIN_SECRET_CHARS = 32


def _decode(token: str, key: Any, algorithms: list[str], issuer: str | None) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=AUDIENCE,
            issuer=issuer,
            leeway=_LEEWAY_S,
            options={"require": ["exp", "sub", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the token has expired; log in again") from None
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"invalid token: {exc}") from None
    return claims


class LocalTokens:
    """Issues and verifies our own HS256 tokens, each tied to a session row so logout revokes it."""

    def __init__(self, secret: str, ttl_s: int, users: UserRepository) -> None:
        if len(secret) < _MIN_SECRET_CHARS:
            raise ValueError(f"the JWT secret must be at least {_MIN_SECRET_CHARS} characters")
        self._secret = secret
        self._ttl = timedelta(seconds=ttl_s)
        self._users = users

    async def issue(self, user: User) -> tuple[str, datetime]:
        now = datetime.now(UTC)
        expires = now + self._ttl
        session_id = await self._users.open_session(user.id, expires)
        claims = {
            "iss": LOCAL_ISSUER,
            "aud": AUDIENCE,
            "sub": user.id,
            "email": user.email,
            "sid": session_id,
            "iat": now,
            "exp": expires,
        }
        return jwt.encode(claims, self._secret, algorithm="HS256"), expires

    async def verify(self, token: str) -> Principal:
        claims = _decode(token, self._secret, ["HS256"], LOCAL_ISSUER)
        session_id = claims.get("sid")
        user = None
        if isinstance(session_id, str):
            user = await self._users.session_user(session_id, claims["sub"])
        if user is None:
            raise Unauthorized("this session has ended; log in again")
        # Admin (and e-mail) as the database has them now, not as when the token was issued:
        # a demotion takes effect on the next request, not when the token expires.
        return Principal(
            user_id=user.id, email=user.email, is_admin=user.is_admin, session_id=session_id
        )


class SupabaseTokens:
    """Verifies Supabase Auth access tokens: HS256 with the project's legacy JWT secret, or
    RS256/ES256 with the project's published signing keys (JWKS), cached and refetched when a token
    names a key we have not seen (key rotation) or the cache is old."""

    _CACHE_S = 600.0
    # A flood of tokens with made-up key ids must not turn into a flood of JWKS requests.
    _MIN_REFETCH_S = 30.0

    def __init__(self, url: str | None, jwt_secret: str | None, http: httpx.AsyncClient) -> None:
        self._issuer = f"{url.rstrip('/')}/auth/v1" if url else None
        self._jwks_url = f"{self._issuer}/.well-known/jwks.json" if self._issuer else None
        self._secret = jwt_secret
        self._http = http
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = -float("inf")
        self._lock = asyncio.Lock()

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from None
        algorithm = header.get("alg")
        key: Any
        if algorithm == "HS256":
            if self._secret is None:
                raise Unauthorized("HS256 tokens are not accepted: no SUPABASE_JWT_SECRET is set")
            key = self._secret
        elif algorithm in ("RS256", "ES256"):
            key = await self._signing_key(str(header.get("kid")), algorithm)
        else:
            raise Unauthorized(f"token algorithm {algorithm!r} is not accepted")
        claims = _decode(token, key, [algorithm], self._issuer)
        app_metadata = claims.get("app_metadata") or {}
        return Principal(
            user_id=claims["sub"],
            email=claims.get("email"),
            is_admin=isinstance(app_metadata, dict) and app_metadata.get("role") == "admin",
        )

    async def _signing_key(self, kid: str, algorithm: str) -> Any:
        if self._jwks_url is None:
            raise Unauthorized("asymmetric tokens need SUPABASE_URL to find the signing keys")
        age = time.monotonic() - self._fetched_at
        if kid not in self._keys or age > self._CACHE_S:
            async with self._lock:
                age = time.monotonic() - self._fetched_at
                if age > self._CACHE_S or (kid not in self._keys and age > self._MIN_REFETCH_S):
                    await self._fetch_keys()
        found = self._keys.get(kid)
        if found is None:
            raise Unauthorized("the token was signed with an unknown key")
        if found.algorithm_name != algorithm:
            raise Unauthorized("the token's algorithm does not match its key")
        return found.key

    async def _fetch_keys(self) -> None:
        assert self._jwks_url is not None
        try:
            response = await self._http.get(self._jwks_url, timeout=10)
            response.raise_for_status()
            keys = response.json().get("keys", [])
        except (httpx.HTTPError, ValueError) as exc:
            raise Unavailable(f"cannot fetch Supabase's signing keys: {exc}") from None
        fresh: dict[str, jwt.PyJWK] = {}
        for data in keys:
            try:
                key = jwt.PyJWK.from_dict(data)
            except jwt.PyJWTError:
                continue  # a key type we cannot use never verifies anything
            if key.key_id:
                fresh[key.key_id] = key
        self._keys = fresh
        self._fetched_at = time.monotonic()

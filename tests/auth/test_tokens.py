from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from allin.auth.tokens import LocalTokens, SupabaseTokens
from allin.errors import Unauthorized, Unavailable
from allin.services import Services
from allin.storage.local_secrets import load_or_create_secret
from allin.storage.users import UserRepository
from tests.support.fake_supabase_auth import LEGACY_SECRET, FakeSupabaseAuth, SigningKey
from tests.support.servers import free_port, serve_in_thread

SECRET = "x" * 48


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(claims: dict[str, object], alg: str, hmac_key: bytes = b"") -> str:
    """A token made by hand, as an attacker would: `alg=none`, or HS256 with a chosen HMAC key
    (PyJWT itself refuses to sign such tokens)."""
    header = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    signing_input = f"{header}.{_b64(json.dumps(claims).encode())}"
    if alg == "none":
        return f"{signing_input}."
    signature = hmac.new(hmac_key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


@pytest.fixture
async def local(services: Services) -> LocalTokens:
    return LocalTokens(SECRET, 3600, UserRepository(services.db))


async def test_local_token_round_trip_and_logout(
    services: Services, local: LocalTokens, user_id: str
) -> None:
    user = await UserRepository(services.db).create(f"{user_id}@example.com", "hash")
    token, expires = await local.issue(user)
    assert expires > datetime.now(UTC)
    principal = await local.verify(token)
    assert principal.user_id == user.id and principal.email == user.email
    assert principal.session_id is not None
    await UserRepository(services.db).close_session(principal.session_id)
    with pytest.raises(Unauthorized, match="session has ended"):
        await local.verify(token)


async def test_local_tokens_refuse_forgeries(
    services: Services, local: LocalTokens, user_id: str
) -> None:
    user = await UserRepository(services.db).create(f"{user_id}@example.com", "hash")
    token, _ = await local.issue(user)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="authenticated")
    expired = jwt.encode({**claims, "exp": int(time.time()) - 3600}, SECRET, algorithm="HS256")
    other_secret = jwt.encode(claims, "y" * 48, algorithm="HS256")
    other_user = jwt.encode({**claims, "sub": "someone-else"}, SECRET, algorithm="HS256")
    no_session = jwt.encode({k: v for k, v in claims.items() if k != "sid"}, SECRET, "HS256")
    for bad, reason in [
        (expired, "expired"),
        (other_secret, "Signature verification failed"),
        (forged(claims, "none"), "alg"),
        ("not.a.jwt", "invalid token"),
        ("", "invalid token"),
        (other_user, "session has ended"),
        (no_session, "session has ended"),
        (token[:-4] + "AAAA", "Signature verification failed"),
    ]:
        with pytest.raises(Unauthorized, match=reason):
            await local.verify(bad)


def test_secret_is_created_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "jwt_secret"
    first = load_or_create_secret(path)
    assert load_or_create_secret(path) == first and len(first) >= 48
    assert path.stat().st_mode & 0o777 == 0o600


def test_short_secrets_are_refused(services: Services) -> None:
    with pytest.raises(ValueError, match="at least 32"):
        LocalTokens("short", 60, UserRepository(services.db))


@pytest.fixture(scope="module")
def supabase_auth() -> Iterator[FakeSupabaseAuth]:
    fake = FakeSupabaseAuth(keys=[SigningKey.new("ES256"), SigningKey.new("RS256")])
    with serve_in_thread(fake.app) as url:
        fake.url = url
        yield fake


@pytest.fixture
async def supabase(supabase_auth: FakeSupabaseAuth) -> AsyncIterator[SupabaseTokens]:
    async with httpx.AsyncClient() as http:
        yield SupabaseTokens(supabase_auth.url, LEGACY_SECRET, http)


async def test_supabase_tokens_of_every_kind_verify(
    supabase: SupabaseTokens, supabase_auth: FakeSupabaseAuth
) -> None:
    for key in supabase_auth.keys:
        principal = await supabase.verify(supabase_auth.token("user-1", key))
        assert principal.user_id == "user-1" and principal.email == "user-1@example.com"
    legacy = await supabase.verify(supabase_auth.legacy_token("user-2"))
    assert legacy.user_id == "user-2" and not legacy.is_admin
    admin = await supabase.verify(supabase_auth.token("boss", app_metadata={"role": "admin"}))
    assert admin.is_admin
    # A user cannot make themselves admin: user_metadata is theirs to edit, app_metadata is not.
    pretender = await supabase.verify(supabase_auth.token("x", user_metadata={"role": "admin"}))
    assert not pretender.is_admin


async def test_supabase_forgeries_are_refused(
    supabase: SupabaseTokens, supabase_auth: FakeSupabaseAuth
) -> None:
    es256 = supabase_auth.keys[0]
    stranger = SigningKey.new("ES256")
    stranger.kid = es256.kid  # same key id, different key
    claims = supabase_auth.claims("user-1")
    public_pem = es256.private.public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    cases = [
        (supabase_auth.token("user-1", stranger), "Signature verification failed"),
        (supabase_auth.token("user-1", exp=int(time.time()) - 3600), "expired"),
        (supabase_auth.token("user-1", aud="anon"), "Audience"),
        (supabase_auth.token("user-1", iss="https://evil.example/auth/v1"), "issuer"),
        (supabase_auth.legacy_token("user-1", secret="w" * 40), "Signature verification failed"),
        (forged(claims, "none"), "'none' is not accepted"),
        # The public key used as an HMAC secret: the classic algorithm-confusion attack.
        (forged(claims, "HS256", public_pem), "Signature verification failed"),
    ]
    for bad, reason in cases:
        with pytest.raises(Unauthorized, match=reason):
            await supabase.verify(bad)


async def test_rotated_key_is_fetched_once_and_unknown_keys_do_not_flood(
    supabase: SupabaseTokens, supabase_auth: FakeSupabaseAuth
) -> None:
    await supabase.verify(supabase_auth.token("user-1"))
    fetched = supabase_auth.jwks_requests
    rotated = SigningKey.new("ES256")
    supabase_auth.keys.append(rotated)
    supabase._fetched_at -= 60  # the cache is older than the minimum refetch interval
    assert (await supabase.verify(supabase_auth.token("user-1", rotated))).user_id == "user-1"
    assert supabase_auth.jwks_requests == fetched + 1
    for _ in range(5):
        with pytest.raises(Unauthorized, match="unknown key"):
            await supabase.verify(supabase_auth.token("user-1", SigningKey.new("ES256")))
    assert supabase_auth.jwks_requests == fetched + 1


async def test_legacy_tokens_need_the_secret(supabase_auth: FakeSupabaseAuth) -> None:
    async with httpx.AsyncClient() as http:
        verifier = SupabaseTokens(supabase_auth.url, None, http)
        with pytest.raises(Unauthorized, match="SUPABASE_JWT_SECRET"):
            await verifier.verify(supabase_auth.legacy_token("user-1"))


async def test_unreachable_jwks_is_unavailable(supabase_auth: FakeSupabaseAuth) -> None:
    async with httpx.AsyncClient() as http:
        verifier = SupabaseTokens(f"http://127.0.0.1:{free_port()}", None, http)
        with pytest.raises(Unavailable, match="signing keys"):
            await verifier.verify(supabase_auth.token("user-1"))

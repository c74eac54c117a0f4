"""Password hashing with argon2id (argon2-cffi), off the event loop on its own threads: a hash
costs tens of ms."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from allin.workers import run_in

_hasher = PasswordHasher()

MIN_PASSWORD_CHARS = 8


@cache
def _unknown_user_hash() -> str:
    return _hasher.hash("no account has this password")


async def hash_password(password: str) -> str:
    return await run_in("hashing", _hasher.hash, password)


async def check_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; with no account (`None`), the same work is done and the answer
    is no, so response times do not reveal which emails have accounts."""
    try:
        matches = await run_in(
            "hashing", _hasher.verify, password_hash or _unknown_user_hash(), password
        )
    except (VerificationError, InvalidHashError):
        return False
    return matches and password_hash is not None

"""Local accounts: sign up, log in, log out. In Supabase mode, Supabase Auth does all three."""

from __future__ import annotations

import re
from datetime import datetime

from allin.auth.passwords import MIN_PASSWORD_CHARS, check_password, hash_password
from allin.auth.principal import Principal
from allin.auth.tokens import LocalTokens
from allin.errors import BadRequest, Unauthorized
from allin.storage.users import User, UserRepository

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AuthService:
    def __init__(self, users: UserRepository, tokens: LocalTokens | None) -> None:
        self._users = users
        self._tokens = tokens

    async def signup(self, email: str, password: str) -> tuple[User, str, datetime]:
        tokens = self._local()
        email = email.strip()
        if not _EMAIL.match(email):
            raise BadRequest("enter a valid email address")
        if len(password) < MIN_PASSWORD_CHARS:
            raise BadRequest(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
        user = await self._users.create(email, await hash_password(password))
        token, expires = await tokens.issue(user)
        return user, token, expires

    async def login(self, email: str, password: str) -> tuple[User, str, datetime]:
        tokens = self._local()
        user = await self._users.by_email(email.strip())
        if not await check_password(user.password_hash if user else None, password) or not user:
            raise Unauthorized("wrong email or password")
        token, expires = await tokens.issue(user)
        return user, token, expires

    async def logout(self, principal: Principal) -> None:
        if principal.session_id is not None:
            await self._users.close_session(principal.session_id)

    def _local(self) -> LocalTokens:
        if self._tokens is None:
            raise BadRequest("accounts are managed by Supabase Auth in this deployment")
        return self._tokens

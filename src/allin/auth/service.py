"""Local accounts: sign up, log in, log out. In Supabase mode, Supabase Auth does all three."""

from __future__ import annotations

import re
from datetime import datetime

from allin.auth.passwords import MIN_PASSWORD_CHARS, check_password, hash_password
from allin.auth.principal import Principal
from allin.auth.tokens import LocalTokens
from allin.errors import BadRequest, Unauthorized
from allin.guard.auth_throttle import AuthThrottle
from allin.guard.signup import SignupPolicy
from allin.storage.users import User, UserRepository

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AuthService:
    def __init__(
        self,
        users: UserRepository,
        tokens: LocalTokens | None,
        throttle: AuthThrottle,
        signup_policy: SignupPolicy,
    ) -> None:
        self._users = users
        self._tokens = tokens
        self.throttle = throttle
        self.signup_policy = signup_policy

    async def signup(
        self, email: str, password: str, *, address: str | None = None, invite: str | None = None
    ) -> tuple[User, str, datetime]:
        """A new account from client `address` (None when unknown), logged in."""
        tokens = self._local()
        email = email.strip()
        # Counted before anything else, so that a flood of sign-ups, valid or not, waits.
        attempt = await self.throttle.signup(email, address)
        if not _EMAIL.match(email):
            raise BadRequest("enter a valid email address")
        if len(password) < MIN_PASSWORD_CHARS:
            raise BadRequest(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
        user = await self._users.create(
            email,
            await hash_password(password),
            admit=self.signup_policy.admission(email, invite),
        )
        await attempt.succeeded()
        token, expires = await tokens.issue(user)
        return user, token, expires

    async def login(
        self, email: str, password: str, *, address: str | None = None
    ) -> tuple[User, str, datetime]:
        tokens = self._local()
        email = email.strip()
        # Counted before the password is hashed: guesses past the allowance cost no hashing.
        attempt = await self.throttle.login(email, address)
        user = await self._users.by_email(email)
        if not await check_password(user.password_hash if user else None, password) or not user:
            raise Unauthorized("wrong email or password")
        await attempt.succeeded()
        token, expires = await tokens.issue(user)
        return user, token, expires

    async def logout(self, principal: Principal) -> None:
        if principal.session_id is not None:
            await self._users.close_session(principal.session_id)

    def _local(self) -> LocalTokens:
        if self._tokens is None:
            raise BadRequest("accounts are managed by Supabase Auth in this deployment")
        return self._tokens

"""Who may sign up (`ALLIN_SIGNUP`, `ALLIN_SIGNUP_DOMAINS`), and the invitations admins hand out
when sign-up is not open to everyone.

An invitation code is 256 random bits, stored as a SHA-256 (as personal access tokens are), and
used once, in the same transaction that makes the account: a sign-up that fails (an e-mail
already taken) leaves it unused."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from allin.auth.principal import Principal
from allin.config import Settings, SignupMode
from allin.errors import Forbidden
from allin.storage.db import Connection
from allin.storage.invites import Invite, InviteStore
from allin.storage.users import Admission

PREFIX = "allin_inv_"
_HINT_CHARS = len(PREFIX) + 4


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


class SignupPolicy:
    def __init__(self, settings: Settings, invites: InviteStore) -> None:
        self.mode = settings.signup
        self.domains = frozenset(settings.signup_domains)
        self._invites = invites

    def admission(self, email: str, invite: str | None) -> Admission:
        """The check `UserRepository.create` runs in the sign-up's transaction."""

        async def admit(conn: Connection, first_account: bool) -> None:
            # The first account is the admin, who makes the invitations: it is never refused.
            if first_account:
                return
            if invite and await self._invites.use(conn, _hash(invite.strip()), email):
                return
            if invite:
                raise Forbidden(
                    "this invitation is unknown, used, revoked, expired or for another address"
                )
            if self.domains:
                if email_domain(email) in self.domains:
                    return
                allowed = ", ".join(sorted(self.domains))
                raise Forbidden(f"sign-up is open to addresses at {allowed}, or by invitation")
            if self.mode is SignupMode.INVITE:
                raise Forbidden("sign-up is by invitation: ask an admin for one")

        return admit

    async def invite(
        self, admin: Principal, email: str | None, expires_in_days: int
    ) -> tuple[Invite, str]:
        """A new invitation, and its code (shown this once, never stored)."""
        _require_admin(admin)
        code = PREFIX + secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + timedelta(days=expires_in_days)
        created = await self._invites.create(
            _hash(code), code[:_HINT_CHARS] + "…", email, admin.user_id, expires
        )
        return created, code

    async def list(self, admin: Principal) -> list[Invite]:
        _require_admin(admin)
        return await self._invites.all()

    async def revoke(self, admin: Principal, invite_id: str) -> Invite:
        _require_admin(admin)
        return await self._invites.revoke(invite_id)


def _require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("only admins manage invitations")

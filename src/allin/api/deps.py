"""Dependencies shared by the routers: the services, and who is calling."""

from __future__ import annotations

import re
from typing import Annotated, cast

from fastapi import Depends, Path
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator
from starlette.requests import HTTPConnection

from allin.auth.principal import Principal
from allin.errors import BadRequest, Forbidden, Unauthorized
from allin.services import Services

# User ids are UUIDs from local or Supabase auth; chat ids come from clients. `fullmatch`, as `$`
# would let a trailing newline through; "." and ".." would name a folder's parent in a path.
_ID = re.compile(r"[A-Za-z0-9._@-]{1,128}")
ID_RULE = "1 to 128 letters, digits or '._@-', other than '.' and '..'"


def valid_id(value: str) -> str:
    """The one check for user and chat ids, on every REST and WebSocket route."""
    if _ID.fullmatch(value) is None or value in {".", ".."}:
        raise ValueError(f"an id is {ID_RULE}")
    return value


def checked_ids(*values: str) -> None:
    """`valid_id` for routes that validate by hand (the WebSocket, which must accept first)."""
    for value in values:
        try:
            valid_id(value)
        except ValueError as error:
            raise BadRequest(f"{value!r}: {error}") from None


Id = Annotated[str, AfterValidator(valid_id)]
# Row ids are Postgres bigints: a larger number is refused here rather than by the database (500).
ROW_ID_MAX = 2**63 - 1


def get_services(connection: HTTPConnection) -> Services:
    return cast(Services, connection.app.state.services)


ServicesDep = Annotated[Services, Depends(get_services)]
ChatId = Annotated[Id, Path(description=f"The chat's id: {ID_RULE}.")]

_bearer = HTTPBearer(auto_error=False, description="An access token from /api/v1/auth/login.")


# What a personal access token may do over REST: read. Changes (uploads, deletions, new tokens)
# take a login session, so a token pasted into an editor's config cannot do more than look.
_SAFE_METHODS = frozenset({"GET", "HEAD"})


async def current_principal(
    services: ServicesDep,
    connection: HTTPConnection,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthorized("log in first: send 'Authorization: Bearer <access token>'")
    principal = await services.tokens.verify(credentials.credentials)
    if principal.personal_token_id is not None:
        if connection.scope.get("method") not in _SAFE_METHODS:
            raise Forbidden("a personal access token only reads over REST; log in to make changes")
        principal.require("read")
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


def check_owner(principal: Principal, user_id: str) -> None:
    """Only the user reads or writes their own data; being admin changes nothing here."""
    if principal.user_id != user_id:
        raise Forbidden("this belongs to another user")


def authorized_user_id(
    user_id: Annotated[Id, Path(description="The user's id.")],
    principal: CurrentUser,
) -> str:
    check_owner(principal, user_id)
    return user_id


OwnUserId = Annotated[str, Depends(authorized_user_id)]

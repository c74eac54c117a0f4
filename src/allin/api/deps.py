"""Dependencies shared by the routers: the services, and who is calling."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Path
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from allin.auth.principal import Principal
from allin.errors import Forbidden, Unauthorized
from allin.services import Services

# User ids are UUIDs from local or Supabase auth; chat ids come from clients.
ID_PATTERN = r"^[A-Za-z0-9._@-]{1,128}$"


def get_services(connection: HTTPConnection) -> Services:
    return cast(Services, connection.app.state.services)


ServicesDep = Annotated[Services, Depends(get_services)]
ChatId = Annotated[str, Path(pattern=ID_PATTERN, description="The chat's id.")]

_bearer = HTTPBearer(auto_error=False, description="An access token from /api/v1/auth/login.")


async def current_principal(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthorized("log in first: send 'Authorization: Bearer <access token>'")
    return await services.tokens.verify(credentials.credentials)


CurrentUser = Annotated[Principal, Depends(current_principal)]


def check_owner(principal: Principal, user_id: str) -> None:
    """Only the user reads or writes their own data; being admin changes nothing here."""
    if principal.user_id != user_id:
        raise Forbidden("this belongs to another user")


def authorized_user_id(
    user_id: Annotated[str, Path(pattern=ID_PATTERN, description="The user's id.")],
    principal: CurrentUser,
) -> str:
    check_owner(principal, user_id)
    return user_id


OwnUserId = Annotated[str, Depends(authorized_user_id)]

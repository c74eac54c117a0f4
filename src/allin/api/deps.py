"""Dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Path
from starlette.requests import HTTPConnection

from allin.services import Services

# User ids come from the path today and from auth later (UUIDs); chat ids from clients.
ID_PATTERN = r"^[A-Za-z0-9._@-]{1,128}$"


def get_services(connection: HTTPConnection) -> Services:
    return cast(Services, connection.app.state.services)


ServicesDep = Annotated[Services, Depends(get_services)]
UserId = Annotated[str, Path(pattern=ID_PATTERN, description="The user's id.")]
ChatId = Annotated[str, Path(pattern=ID_PATTERN, description="The chat's id.")]

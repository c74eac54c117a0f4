from __future__ import annotations

from fastapi import APIRouter

from allin.api.deps import ServicesDep
from allin.api.errors import error_responses

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database is reachable", responses=error_responses(503))
async def readyz(services: ServicesDep) -> dict[str, str]:
    await services.db.ping()
    return {"status": "ready"}

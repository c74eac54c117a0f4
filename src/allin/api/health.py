from __future__ import annotations

from fastapi import APIRouter

from allin.api.deps import ServicesDep
from allin.api.errors import error_responses
from allin.errors import Unavailable

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database is reachable, memory is loaded and no turn waits for a slot",
    description=(
        "503 while long-term memory is still being loaded after start-up (turns that need it"
        " wait for it meanwhile), and while the process answers as many turns as it may"
        " (`ALLIN_MAX_CONCURRENT_TURNS`) and more wait: a load balancer should send new users"
        " elsewhere meanwhile."
    ),
    responses=error_responses(503),
)
async def readyz(services: ServicesDep) -> dict[str, str]:
    memory = services.memory
    if memory is not None and memory.status != "ready":
        raise Unavailable(f"long-term memory: {memory.status}")
    admission = services.admission
    if admission.saturated:
        raise Unavailable(
            f"saturated: {admission.in_flight} turns being answered, {admission.waiting} waiting"
        )
    await services.db.ping()
    return {"status": "ready"}

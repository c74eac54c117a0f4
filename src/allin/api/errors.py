"""Render every error as `{"error": <code>, "detail": <message>}` with its status."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
import psycopg_pool
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from allin.errors import AllinError, RateLimited, as_allin_error

logger = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """The body of every error response (and, with `type: "error"`, of a WebSocket error frame)."""

    error: str = Field(description="A stable code: bad_request, unauthorized, forbidden, …")
    detail: str = Field(description="What went wrong, for a person to read.")


_MEANINGS = {
    401: "unauthorized: no valid access token; log in again",
    403: "forbidden: the token is valid, but the resource belongs to someone else",
    404: "not_found: no such resource (or not one this user may see)",
    409: "conflict: it exists already",
    413: "too_large: over the server's size limit",
    422: "bad_request: the request does not match the schema; `detail` says where",
    429: "rate_limited: too many requests or attempts; wait the `Retry-After` seconds",
    503: "unavailable: the database or a model provider failed; retry shortly",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses=` entries for the error statuses a route can answer with, all
    with the one `{error, detail}` body the handlers below render."""
    return {status: {"model": ErrorBody, "description": _MEANINGS[status]} for status in statuses}


# Every route behind a token: a missing or stale token, a malformed request, a lost database.
AUTHENTICATED = (401, 422, 503)
# Routes whose path names a user: someone else's id is refused.
PER_USER = (*AUTHENTICATED, 403)


def error_response(error: AllinError) -> JSONResponse:
    headers = {}
    if isinstance(error, RateLimited) and error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(
        {"error": error.code, "detail": error.message}, status_code=error.status, headers=headers
    )


async def _on_allin_error(_: Request, exc: Exception) -> JSONResponse:
    return error_response(as_allin_error(exc))


async def _on_validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
    )
    return JSONResponse({"error": "bad_request", "detail": problems}, status_code=422)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    error = as_allin_error(exc)
    if error.code == "internal":
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(error)


def install_error_handlers(app: FastAPI) -> None:
    # Expected failures go through handlers of their own; only the catch-all reaches Starlette's
    # server-error middleware, which logs and re-raises.
    for expected in (AllinError, psycopg.OperationalError, psycopg_pool.PoolTimeout):
        app.add_exception_handler(expected, _on_allin_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(Exception, _on_unexpected)

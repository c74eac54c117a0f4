"""Render every error as `{"error": <code>, "detail": <message>}` with its status."""

from __future__ import annotations

import logging

import psycopg
import psycopg_pool
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from allin.errors import AllinError, as_allin_error

logger = logging.getLogger(__name__)


def error_response(error: AllinError) -> JSONResponse:
    return JSONResponse({"error": error.code, "detail": error.message}, status_code=error.status)


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

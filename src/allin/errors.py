"""One error family, rendered both as HTTP responses and as WebSocket `error` frames."""

from __future__ import annotations

import math
from typing import ClassVar


class AllinError(Exception):
    code: ClassVar[str] = "internal"
    status: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(AllinError):
    code = "bad_request"
    status = 400


class Unauthorized(AllinError):
    """No valid credentials: the client should (re)authenticate."""

    code = "unauthorized"
    status = 401


class Forbidden(AllinError):
    """Valid credentials for someone else's data."""

    code = "forbidden"
    status = 403


class NotFound(AllinError):
    code = "not_found"
    status = 404


class TooLarge(AllinError):
    code = "too_large"
    status = 413


class RateLimited(AllinError):
    code = "rate_limited"
    status = 429

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        # How long to wait before trying again, when the limit knows (HTTP `Retry-After`).
        self.retry_after_s = retry_after_s

    @property
    def retry_after(self) -> int | None:
        """Whole seconds, rounded up: a client that waits that long is let through."""
        return None if self.retry_after_s is None else max(1, math.ceil(self.retry_after_s))


class Unavailable(AllinError):
    """A dependency (database, model provider) failed; the request may succeed if retried."""

    code = "unavailable"
    status = 503


class Conflict(AllinError):
    code = "conflict"
    status = 409


class Internal(AllinError):
    code = "internal"
    status = 500


def as_allin_error(exc: BaseException) -> AllinError:
    """The error a client sees for any exception: ours as they are, a lost database as
    `unavailable`, anything else as `internal` without leaking details."""
    import psycopg
    import psycopg_pool

    if isinstance(exc, AllinError):
        return exc
    if isinstance(exc, psycopg.OperationalError | psycopg_pool.PoolTimeout):
        return Unavailable("the database is unavailable; try again shortly")
    return Internal("something went wrong on the server; it has been logged")

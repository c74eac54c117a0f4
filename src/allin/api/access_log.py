"""Credentials kept out of the server's log. A browser cannot set headers on a WebSocket, so the
chat socket accepts its access token as `?token=`, and a signed link's `sig` is its credential;
uvicorn logs every request line and WebSocket handshake with its query string. Their values are
replaced by `[redacted]` before any handler sees the record."""

from __future__ import annotations

import logging
from urllib.parse import unquote_plus

# Compared with the decoded, lower-cased name, as the app reads it (`%74oken` is `token`).
CREDENTIAL_PARAMS = frozenset(
    {
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "ticket",
        "sig",
        "signature",
        "key",
        "api_key",
        "apikey",
        "password",
        "secret",
        # An invitation link (`/?invite=`): a one-use credential to make an account.
        "invite",
    }
)
# Request lines go to the access log; WebSocket handshakes to uvicorn's main logger.
_SERVER_LOGGERS = ("uvicorn.access", "uvicorn.error")
REDACTED = "[redacted]"


def redact_query(target: str) -> str:
    """`target` (a path with its query string) with credential parameters' values redacted."""
    path, mark, query = target.partition("?")
    if not mark:
        return target
    parts = []
    for part in query.split("&"):
        name, equals, _ = part.partition("=")
        if equals and unquote_plus(name).strip().lower() in CREDENTIAL_PARAMS:
            part = f"{name}={REDACTED}"
        parts.append(part)
    return f"{path}?{'&'.join(parts)}"


class RedactCredentials(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn passes the request target as an argument; its access formatter unpacks them.
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_query(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def redact_server_logs() -> None:
    """Install the filter on uvicorn's loggers (once per process, however many apps it serves).
    A logger's filters survive uvicorn (re)applying its logging configuration."""
    for name in _SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactCredentials) for existing in logger.filters):
            logger.addFilter(RedactCredentials())

"""Credentials in a URL (`?token=` on the chat socket, a signed link's `sig`) stay out of the
server's logs: the log lines of real requests to a served app carry `[redacted]` instead."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect

from allin.app import create_app
from allin.config import Settings
from tests.conftest import ws_url
from tests.support.accounts import sign_up
from tests.support.servers import serve_ready
from tests.support.wsclient import ask

# What uvicorn logs each request and WebSocket handshake to.
SERVER_LOGGERS = ("uvicorn.access", "uvicorn.error")


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def logged(settings: Settings) -> Iterator[tuple[str, list[str]]]:
    """A served app logging at INFO, as in production, and the lines its server logs."""
    lines = Lines()
    with serve_ready(create_app(settings), log_level="info") as url:
        for name in SERVER_LOGGERS:
            logging.getLogger(name).addHandler(lines)
        try:
            yield url, lines.lines
        finally:
            for name in SERVER_LOGGERS:
                logging.getLogger(name).removeHandler(lines)


async def test_tokens_in_urls_are_redacted_from_the_server_log(
    logged: tuple[str, list[str]],
) -> None:
    url, lines = logged
    account = await sign_up(url)
    async with connect(ws_url(url, account, "c1")) as socket:
        assert (await ask(socket, "m1", "hello"))[-1]["type"] == "done"
    async with httpx.AsyncClient(base_url=url) as http:
        # Also spelled with an escape, which the app decodes to the same name, and next to an
        # ordinary parameter that stays readable.
        await http.get(f"/api/v1/config?%74oken={account.token}&lang=en")
        await http.get(f"/api/v1/blobs/documents/x.md?expires=1&sig={'ab' * 32}")
        await http.get(f"/healthz?access_token={account.token}&ticket=t1cket")
    socket_lines = [line for line in lines if "WebSocket" in line]
    assert socket_lines and all("token=[redacted]" in line for line in socket_lines)
    assert any("%74oken=[redacted]&lang=en" in line for line in lines), lines
    assert any("sig=[redacted]" in line for line in lines), lines
    assert any("access_token=[redacted]&ticket=[redacted]" in line for line in lines), lines
    for line in lines:
        assert account.token not in line and "ab" * 32 not in line and "t1cket" not in line

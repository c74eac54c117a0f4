"""Conversations a test holds with the running app before checking something else: each message
asked over a real WebSocket and answered to the end."""

from __future__ import annotations

import uuid

from websockets.asyncio.client import connect

from tests.conftest import ws_url
from tests.support.accounts import Account
from tests.support.wsclient import ask


async def converse(base_url: str, account: Account, chat: str, *messages: str) -> None:
    async with connect(ws_url(base_url, account, chat)) as socket:
        for message in messages:
            frames = await ask(socket, uuid.uuid4().hex, message)
            assert frames[-1]["type"] == "done"

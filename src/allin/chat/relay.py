"""The relay between app processes (`ALLIN_RELAY`): every process listens to Postgres
notifications on the frame channel and delivers each frame to its own followers of the chat, in
the order Postgres committed them (chats apart do not wait for each other: `Streams`); the
control channel carries requests for the process that owns a run (`cancel <question id>`)."""

from __future__ import annotations

import asyncio
import json
import logging

import psycopg

from allin.chat.runs import Runs
from allin.chat.streams import Streams
from allin.storage.frame_log import FRAMES_CHANNEL
from allin.storage.runs import CONTROL_CHANNEL

logger = logging.getLogger(__name__)

_RETRY_S = (0.2, 0.5, 1.0, 2.0, 5.0)


class Relay:
    def __init__(self, url: str, streams: Streams, runs: Runs) -> None:
        self._url = url
        self._streams = streams
        self._runs = runs
        self.listening = asyncio.Event()

    async def listen(self) -> None:
        """Listen until cancelled, reconnecting when the database goes away."""
        failures = 0
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True
                ) as conn:
                    await conn.execute(f"listen {FRAMES_CHANNEL}")
                    await conn.execute(f"listen {CONTROL_CHANNEL}")
                    self.listening.set()
                    failures = 0
                    async for note in conn.notifies():
                        self._handle(note.channel, note.payload)
            except psycopg.OperationalError as exc:
                self.listening.clear()
                delay = _RETRY_S[min(failures, len(_RETRY_S) - 1)]
                failures += 1
                logger.warning("relay lost the database (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)

    def _handle(self, channel: str, payload: str) -> None:
        try:
            if channel == FRAMES_CHANNEL:
                self._streams.deliver_relayed(json.loads(payload))
            elif channel == CONTROL_CHANNEL:
                command, _, argument = payload.partition(" ")
                if command == "cancel":
                    self._runs.cancel_answer(int(argument))
        except Exception:
            # One bad notification must not stop the relay for every chat.
            logger.exception("relay could not handle %s notification %.200s", channel, payload)

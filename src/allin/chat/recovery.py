"""Answers whose process died: a run sends heartbeats while it is written; one that stops
(the process was killed, or lost the database for too long) is stored as far as it got, marked
`interrupted`, and announced on its chat, so the user sees it and can ask again."""

from __future__ import annotations

import asyncio
import logging

from allin.chat.frames import Done
from allin.chat.runs import Runs
from allin.chat.streams import Streams
from allin.storage.chat_store import ChatStore
from allin.storage.runs import RunRow

logger = logging.getLogger(__name__)


class RunKeeper:
    def __init__(self, chats: ChatStore, streams: Streams, runs: Runs, stale_after_s: float):
        self._chats = chats
        self._streams = streams
        self._runs = runs
        self._stale_after_s = stale_after_s

    @property
    def interval_s(self) -> float:
        # Three heartbeats per staleness period: one lost beat does not make a run abandoned.
        return min(self._stale_after_s / 3, 10.0)

    async def keep(self) -> None:
        """Heartbeat and sweep until cancelled; a failing database only delays the next round."""
        while True:
            try:
                await self.sweep()
            except Exception as exc:
                logger.warning("run keeper: %s", exc)
            await asyncio.sleep(self.interval_s)

    async def sweep(self) -> int:
        """Beat for this process's runs and store abandoned ones; returns how many were stored."""
        log = self._runs.log
        ours = self._runs.answering_now()
        if ours:
            await log.heartbeat(ours)
        stored = 0
        for run in await log.abandoned(self._stale_after_s):
            if run.question_id in ours:
                continue
            if await log.take_over(run.question_id, self._runs.worker, self._stale_after_s):
                await self._store_interrupted(run)
                stored += 1
        return stored

    async def _store_interrupted(self, run: RunRow) -> None:
        question = await self._streams.log.turn(run.question_id)
        if question is not None and await self._chats.answer_to(question) is None:
            async with self._streams.using(run.user_id, run.chat_id) as stream:
                answer = await self._chats.append_assistant_turn(
                    run.answer_id, question, run.partial, {"status": "interrupted"}
                )
                await stream.publish(Done.of(answer), turn_id=answer.id)
            logger.warning(
                "answer to turn %s was interrupted (its process %s stopped); stored %d chars",
                run.question_id,
                run.worker,
                len(run.partial),
            )
        await self._runs.release(run.question_id)

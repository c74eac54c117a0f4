"""The link to Google of the Live bridge (`voice/live.py`): one upstream session at a time,
opened with the chat's newest resumption handle, kept open across `goAway`s and dropped
connections, and given up on (and reported) after `CONNECT_ATTEMPTS` failures in a row."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from google import genai
from google.genai import types
from google.genai.live import AsyncSession

from allin.config import Settings
from allin.llm.base import ContextBlock
from allin.storage.chat_records import Turn
from allin.storage.voice import VoiceStore
from allin.voice.live_config import FAILURES, connect_config, content_of
from allin.voice.live_config import may_have_refused_the_handle as _may_have_refused

logger = logging.getLogger(__name__)

# A failed connection is tried this many times in a row before the user is told.
CONNECT_ATTEMPTS = 3
_RETRY_PAUSE_S = 0.5
# How long a session about to end waits for the handle of its last turn.
_LINGER_S = 2.0


class LinkOwner(Protocol):
    """The conversation a link serves."""

    def quiet(self) -> bool:
        """No recording, unanswered question or answer in progress: a session may end now."""
        ...

    def done(self) -> bool:
        """The conversation is over: no session is needed any more."""
        ...

    async def context_at_connection(self) -> tuple[list[Turn], tuple[ContextBlock, ...]]: ...

    async def attached(self, session: AsyncSession) -> None:
        """A new session is open (sends to it are held until this returns)."""
        ...

    async def on_content(self, content: types.LiveServerContent) -> None: ...

    def session_ended(self) -> None:
        """The session ended by itself, or was lost; another may follow."""
        ...

    async def lost(self, exc: BaseException | None) -> None:
        """Live could not be reached again."""
        ...

    def link_over(self) -> None: ...


class LiveLink:
    def __init__(
        self,
        client: genai.Client,
        model: str,
        settings: Settings,
        handles: VoiceStore,
        user_id: str,
        chat_id: str,
        owner: LinkOwner,
    ) -> None:
        self._client = client
        self._model = model
        self._settings = settings
        self._handles = handles
        self._user_id = user_id
        self._chat_id = chat_id
        self._owner = owner
        self._task: asyncio.Task[None] | None = None
        self._session: AsyncSession | None = None
        # Sends to the session one at a time, so a replay after reconnecting and new audio
        # keep their order.
        self._sending = asyncio.Lock()
        # Live said `goAway`: reconnect at the next quiet moment.
        self._leaving = False
        # The newest handle Live sent, and whether no turn began since (or since connecting).
        self._handle: str | None = None
        self._handle_current = True

    def connect(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._keep_linked(), name=f"live-{self._chat_id}")

    async def stop(self) -> None:
        task = self._task
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def turn_began(self) -> None:
        self._handle_current = False

    async def send(self, step: Callable[[AsyncSession], Awaitable[None]]) -> None:
        """`step` with the open session, in turn with every other send; nothing if there is no
        session (the next one is given what it needs when it opens)."""
        async with self._sending:
            if self._session is not None:
                await step(self._session)

    async def keep_handle(self, handle: str | None = None) -> None:
        """Keep `handle` (default: the newest Live sent) as the chat's newest. A chat's first
        handle can come before its first question is stored, when there is no chat to keep it
        for yet: it is kept again once the question is."""
        handle = handle or self._handle
        if handle is None:
            return
        self._handle = handle
        try:
            # Shielded: a session ending at this moment must not lose the handle it ends with.
            await asyncio.shield(
                self._handles.keep_live_handle(self._user_id, self._chat_id, handle)
            )
        except Exception:
            logger.exception("could not keep the Live handle of chat %s", self._chat_id)

    async def _keep_linked(self) -> None:
        """Keep a session open until the conversation is over, reconnecting as needed."""
        failures = 0
        resume = True
        try:
            while not self._owner.done():
                error: BaseException | None = None
                try:
                    worked = await self._session_once(resume=resume)
                except FAILURES as exc:
                    worked, error = False, exc
                    logger.warning(
                        "Gemini Live connection for chat %s failed: %s", self._chat_id, exc
                    )
                except Exception as exc:
                    # The database, most likely (the handle, the context): tried again too.
                    worked, error = False, exc
                    logger.exception("Gemini Live session for chat %s failed", self._chat_id)
                if worked:
                    failures, resume = 0, True
                    continue
                failures += 1
                # Start afresh only when Live itself may have turned the handle down: a network
                # or database failure says nothing against it, and a fresh session forgets the
                # conversation's audio.
                resume = not _may_have_refused(error)
                if failures >= CONNECT_ATTEMPTS:
                    await self._owner.lost(error)
                    return
                await asyncio.sleep(_RETRY_PAUSE_S * failures)
        finally:
            self._session = None
            self._owner.link_over()

    async def _session_once(self, *, resume: bool) -> bool:
        """One session, from connecting until it ends; whether Live said anything in it (one that
        closes at once counts as a failure). Raises if it could not connect."""
        if not resume:
            self._handle = None
        handle = self._handle or (
            await self._handles.live_handle(self._user_id, self._chat_id) if resume else None
        )
        history, blocks = await self._owner.context_at_connection()
        config = connect_config(self._settings, handle, blocks)
        async with contextlib.AsyncExitStack() as stack:
            connecting = self._client.aio.live.connect(model=self._model, config=config)
            session = await asyncio.wait_for(
                stack.enter_async_context(connecting), self._settings.llm_timeout_s
            )
            await self._attach(session, [] if handle else history)
            try:
                worked = await self._receive(session)
            finally:
                self._session = None
        self._owner.session_ended()
        return worked

    async def _attach(self, session: AsyncSession, history: list[Turn]) -> None:
        async with self._sending:
            self._session = session
            self._leaving = False
            if history:
                await session.send_client_content(
                    turns=[content_of(turn) for turn in history], turn_complete=False
                )
            await self._owner.attached(session)

    async def _receive(self, session: AsyncSession) -> bool:
        """Handle Live's messages until the session should end or ends by itself; whether there
        were any."""
        heard = False
        try:
            async with asyncio.timeout(None) as linger:
                while True:
                    async for message in session.receive():
                        heard = True
                        await self._on_message(message)
                        if not ((self._leaving and self._owner.quiet()) or self._owner.done()):
                            continue
                        if self._handle_current:
                            return heard
                        # Live sends the handle for a turn just after it: wait for it a little,
                        # or the next session would resume from before that turn.
                        if linger.when() is None:
                            linger.reschedule(asyncio.get_running_loop().time() + _LINGER_S)
        except FAILURES as exc:
            if not isinstance(exc, TimeoutError):
                logger.info("Gemini Live session for chat %s ended: %s", self._chat_id, exc)
        return heard

    async def _on_message(self, message: types.LiveServerMessage) -> None:
        update = message.session_resumption_update
        if update is not None and update.resumable and update.new_handle:
            await self.keep_handle(update.new_handle)
            self._handle_current = True
        if message.go_away is not None:
            logger.info(
                "Gemini Live asks chat %s to reconnect (%s left)",
                self._chat_id,
                message.go_away.time_left,
            )
            self._leaving = True
        content = message.server_content
        if content is not None:
            await self._owner.on_content(content)

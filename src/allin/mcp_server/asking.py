"""`ask_allin`: one turn through the same pipeline as the chat socket (`InteractionManager`), so
the question and its answer are stored in the user's chat, stream to any tab open on that chat,
and teach memory as a typed question does."""

from __future__ import annotations

import uuid

from allin.chat.frames import Ack, Done, ErrorOut, ServerFrame
from allin.chat.interaction import TurnRequest
from allin.errors import AllinError, Internal
from allin.mcp_server.schemas import Answer, Citation
from allin.rag.citations import Citation as AnswerCitation
from allin.services import Services
from allin.storage.chat_records import Turn


class _Outcome:
    """Picks this question's outcome out of the chat's frames: the chat may be carrying other
    turns at the same time (a browser tab asking too), so frames are matched to the message."""

    def __init__(self, message_id: str) -> None:
        self._message_id = message_id
        self._question: Turn | None = None
        self.answer: Turn | None = None
        self.citations: list[AnswerCitation] = []
        self.error: ErrorOut | None = None

    async def send(self, frame: ServerFrame) -> None:
        if isinstance(frame, Ack) and frame.turn.client_msg_id == self._message_id:
            self._question = frame.turn
        elif isinstance(frame, Done) and self._question is not None:
            if frame.turn.reply_to == self._question.id:
                self.answer = frame.turn
                self.citations = frame.citations
        elif isinstance(frame, ErrorOut) and frame.reply_to == self._message_id:
            self.error = frame


def _error_of(frame: ErrorOut) -> AllinError:
    """The error an error frame was made from, raised again with its code and message."""
    for kind in AllinError.__subclasses__():
        if kind.code == frame.code:
            return kind(frame.message)
    return Internal(frame.message)


async def ask(services: Services, user_id: str, chat_id: str, question: str) -> Answer:
    message_id = f"mcp-{uuid.uuid4().hex}"
    outcome = _Outcome(message_id)
    await services.interaction.ask(TurnRequest(user_id, chat_id, message_id, question), outcome)
    if outcome.error is not None:
        raise _error_of(outcome.error)
    answer = outcome.answer
    if answer is None or answer.reply_to is None:
        raise Internal("the answer was not stored; ask again")
    model = answer.metadata.get("model")
    return Answer(
        answer=answer.content,
        citations=[Citation.of(c) for c in outcome.citations],
        chat_id=chat_id,
        question_turn_id=answer.reply_to,
        answer_turn_id=answer.id,
        model=model if isinstance(model, str) else None,
        history=f"/api/v1/chat/history/{user_id}/{chat_id}",
    )

"""WebSocket frames (DESIGN "Wire protocol"), validated as one discriminated union per direction."""

from __future__ import annotations

import logging
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from allin.errors import AllinError, BadRequest, RateLimited, as_allin_error
from allin.rag.citations import Citation
from allin.storage.chat_records import Turn
from allin.storage.text import StorableText

# seqs travel through JavaScript numbers.
_MAX_SEQ = 2**53 - 1


class MessageIn(BaseModel):
    type: Literal["message"]
    id: str = Field(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")
    content: StorableText


class PingIn(BaseModel):
    type: Literal["ping"]


class ResumeIn(BaseModel):
    """Sent first after (re)connecting: replay every frame of the chat after `last_seq`."""

    type: Literal["resume"]
    last_seq: int = Field(ge=0, le=_MAX_SEQ)


class CancelIn(BaseModel):
    """Stop the chat's answer being written; what was written so far is stored, marked cancelled."""

    type: Literal["cancel"]


class AudioStartIn(BaseModel):
    """A recording starts: binary frames of `format` audio at `sample_rate` follow, then
    `audio_end`. The server checks the format itself, to say what it accepts."""

    type: Literal["audio_start"]
    format: str = Field(max_length=32)
    sample_rate: int


class AudioEndIn(BaseModel):
    type: Literal["audio_end"]


AnyClientFrame = MessageIn | PingIn | ResumeIn | CancelIn | AudioStartIn | AudioEndIn
ClientFrame = Annotated[AnyClientFrame, Field(discriminator="type")]
_client_frame: TypeAdapter[AnyClientFrame] = TypeAdapter(ClientFrame)


def parse_client_frame(raw: str) -> AnyClientFrame:
    try:
        return _client_frame.validate_json(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        kind = error["type"]
        if kind == "json_invalid":
            raise BadRequest("frame is not valid JSON") from None
        if kind == "union_tag_invalid":
            tag = error.get("input", {}).get("type") if isinstance(error["input"], dict) else None
            raise BadRequest(f"unknown frame type {tag!r}") from None
        if kind in ("union_tag_not_found", "dict_type"):
            raise BadRequest("a frame is a JSON object with a 'type'") from None
        where = ".".join(str(part) for part in error["loc"][1:])
        raise BadRequest(f"invalid frame: {where}: {error['msg']}") from None


class Sequenced(BaseModel):
    # The frame's place in its chat's stream (`chat/streams.py`), increasing per chat, so a client
    # resumes after the last one it saw. None on replies to one socket that are never replayed
    # (`pong`, the refusal of a malformed frame), and then left out.
    seq: int | None = Field(None, exclude_if=lambda seq: seq is None)


class Ack(Sequenced):
    type: Literal["ack"] = "ack"
    turn: Turn


class Token(Sequenced):
    type: Literal["token"] = "token"
    turn_id: int
    reply_to: int
    text: str
    # Where `text` starts in the answer (in characters): a client that already has it, after a
    # resume that caught up from the stored partial answer, keeps what it has.
    offset: int = 0


class Done(Sequenced):
    type: Literal["done"] = "done"
    turn: Turn
    citations: list[Citation] = Field(default_factory=list)

    @classmethod
    def of(cls, answer: Turn) -> Done:
        return cls(turn=answer, citations=answer.metadata.get("citations", []), seq=answer.seq)


class Pong(Sequenced):
    type: Literal["pong"] = "pong"


class ErrorOut(Sequenced):
    type: Literal["error"] = "error"
    code: str
    message: str
    reply_to: str | None = None
    # Seconds to wait before trying again, on a `rate_limited` refusal that knows; else left out.
    retry_after: int | None = Field(None, exclude_if=lambda seconds: seconds is None)

    @classmethod
    def of(cls, error: AllinError, reply_to: str | None = None) -> ErrorOut:
        retry_after = error.retry_after if isinstance(error, RateLimited) else None
        return cls(
            code=error.code, message=error.message, reply_to=reply_to, retry_after=retry_after
        )


class Busy(Sequenced):
    """The server is answering as many turns as it can: this question (stored, acknowledged)
    waits for a slot behind `ahead` others, then is answered as usual. Not numbered, not kept:
    a notice for the clients following the chat at that moment."""

    type: Literal["busy"] = "busy"
    turn_id: int
    reply_to: str | None = None
    ahead: int
    message: str = "Allin is answering other questions; yours is next in line."


class Transcript(Sequenced):
    """What the user is heard saying: `final` once the recording is over (the text then becomes
    the question, announced by its `ack`), interim ones while they speak."""

    type: Literal["transcript"] = "transcript"
    text: str
    final: bool


class AudioStartOut(Sequenced):
    """The answer's audio follows as binary frames of `format` at `sample_rate`."""

    type: Literal["audio_start"] = "audio_start"
    format: Literal["pcm16"] = "pcm16"
    sample_rate: int
    # The answer being spoken (its `token` frames' `turn_id`).
    turn_id: int


class AudioEndOut(Sequenced):
    """The answer's audio is over: complete, or `stopped` by the user (barge-in, cancel)."""

    type: Literal["audio_end"] = "audio_end"
    turn_id: int
    stopped: bool = False


class MemoryUpdated(Sequenced):
    """Learning from an answer's turn (a job after the turn) saved or changed what Allin
    remembers about the user. Kept on the answer (its `memory_updated` metadata), so a client
    that resumes or loads the chat later learns it too."""

    type: Literal["memory_updated"] = "memory_updated"
    # The answer whose turn taught it.
    turn_id: int
    memories: list[str]

    @classmethod
    def of(cls, answer: Turn) -> MemoryUpdated:
        """The frame as kept on the answer (with the seq it was sent under)."""
        kept = answer.metadata["memory_updated"]
        return cls(turn_id=answer.id, memories=kept["memories"], seq=kept["seq"])


ServerFrame = (
    Ack
    | Token
    | Done
    | Pong
    | ErrorOut
    | Busy
    | Transcript
    | AudioStartOut
    | AudioEndOut
    | MemoryUpdated
)


class Replier(Protocol):
    async def reply(self, frame: ServerFrame) -> None: ...


async def reply_failure(
    to: Replier,
    exc: BaseException,
    log: logging.Logger,
    what: str,
    *args: object,
    reply_to: str | None = None,
) -> None:
    """Tell the client a step failed with an `error` frame, having first logged the failure with
    its traceback if it is unexpected. Our own errors are not logged: they are refusals or a
    provider being down, and their message says all there is."""
    if not isinstance(exc, AllinError):
        log.error(what, *args, exc_info=exc)
    await to.reply(ErrorOut.of(as_allin_error(exc), reply_to=reply_to))

"""What a Gemini Live session is opened with, and how its wire format and failures read: the
parts of the Live bridge (`voice/live.py`) that hold no state."""

from __future__ import annotations

from google import genai
from google.genai import errors, types
from websockets.exceptions import ConnectionClosed, WebSocketException

from allin.chat.prompt import build_prompt
from allin.config import Settings
from allin.llm.base import ContextBlock
from allin.providers.google import GoogleProvider
from allin.storage.chat_records import Turn
from allin.voice.recording import ACCEPTED_RATE

INPUT_MIME = f"audio/pcm;rate={ACCEPTED_RATE}"
# What Live speaks in, unless a chunk's mime type says otherwise.
OUTPUT_RATE = 24000
# The SDK raises its own errors for a refused or closed connection, the websockets ones for a
# failed handshake, OSError (ssl.SSLError included) for the network.
FAILURES = (errors.APIError, WebSocketException, OSError, TimeoutError)
_ABNORMAL_CLOSURE = 1006


def live_client(settings: Settings) -> genai.Client:
    provider = GoogleProvider.from_settings(settings, needed_by="ALLIN_VOICE=live")
    return provider.live_client()


def connect_config(
    settings: Settings, handle: str | None, blocks: tuple[ContextBlock, ...]
) -> types.LiveConnectConfig:
    speech = (
        types.SpeechConfig(
            voice_config=types.VoiceConfig(
                prebuilt_voice_config=types.PrebuiltVoiceConfig(
                    voice_name=settings.gemini_live_voice
                )
            )
        )
        if settings.gemini_live_voice
        else None
    )
    return types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO],
        system_instruction=build_prompt("", [], _found(blocks)).system_text(),
        input_audio_transcription=types.AudioTranscriptionConfig(),
        output_audio_transcription=types.AudioTranscriptionConfig(),
        # Without it, an audio session ends after about 15 minutes.
        context_window_compression=types.ContextWindowCompressionConfig(
            sliding_window=types.SlidingWindow()
        ),
        # Given even with no handle: it is what makes Live send handles at all.
        session_resumption=types.SessionResumptionConfig(handle=handle),
        speech_config=speech,
    )


def _found(blocks: tuple[ContextBlock, ...]) -> tuple[ContextBlock, ...]:
    """Only blocks with something in them: that nothing matched one question says nothing about
    the next one."""
    return tuple(block for block in blocks if block.items)


def context_text(question: str, blocks: tuple[ContextBlock, ...]) -> str:
    found = _found(blocks)
    if not found:
        return ""
    rendered = "\n\n".join(block.render() for block in found)
    return (
        f"(Context found for the question {question!r}, for this and the following turns;"
        f" not a new question.)\n\n{rendered}"
    )


def content_of(turn: Turn) -> types.Content:
    return types.Content(
        role="user" if turn.role == "user" else "model", parts=[types.Part(text=turn.content)]
    )


def audio_parts(turn: types.Content | None) -> list[tuple[bytes, int]]:
    if turn is None or not turn.parts:
        return []
    found = []
    for part in turn.parts:
        blob = part.inline_data
        if blob is not None and blob.data and (blob.mime_type or "").startswith("audio/pcm"):
            found.append((blob.data, _rate(blob.mime_type or "")))
    return found


def _rate(mime_type: str) -> int:
    for parameter in mime_type.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name == "rate" and value.isdigit():
            return int(value)
    return OUTPUT_RATE


def may_have_refused_the_handle(error: BaseException | None) -> bool:
    """Whether a failed attempt may be Live refusing the session it was asked to resume: Live
    closed it (while setting it up, or at once after), rather than the network, the HTTP handshake
    or our own database failing before it began. `None`: the session closed without a word."""
    if error is None:
        return True
    # The SDK turns a close during setup into an APIError with the close code; 1006 means no
    # close frame came at all, which is the network, not Live.
    if isinstance(error, errors.APIError):
        return error.code != _ABNORMAL_CLOSURE
    return isinstance(error, ConnectionClosed) and error.rcvd is not None


def describe(exc: BaseException | None) -> str:
    if isinstance(exc, errors.APIError):
        return " ".join(str(part) for part in (exc.code, exc.message or exc.status) if part)
    if exc is None:
        return "the connection kept closing"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__

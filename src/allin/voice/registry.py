"""The voice engine a deployment uses, from `ALLIN_VOICE`: the one place its parts are chosen."""

from __future__ import annotations

import logging

from allin.chat.interaction import InteractionManager
from allin.chat.runs import Runs
from allin.chat.streams import Streams
from allin.config import ChatStoreBackend, Settings, VoiceMode
from allin.storage.chat_store import ChatStore
from allin.voice.conversation import VoiceEngine
from allin.voice.recorder import VoiceRecorder

logger = logging.getLogger(__name__)


def build_voice(
    settings: Settings,
    *,
    recorder: VoiceRecorder,
    chats: ChatStore,
    interaction: InteractionManager,
    streams: Streams,
    runs: Runs,
) -> VoiceEngine | None:
    if settings.voice is VoiceMode.OFF:
        return None
    if settings.chat_store is ChatStoreBackend.SUPABASE:
        # Spoken turns are linked to their chat turns in Postgres (`voice_turns`), which this
        # deployment does not reach directly.
        logger.warning("voice is off: it needs ALLIN_CHAT_STORE=postgres")
        return None
    if settings.voice is VoiceMode.LIVE:
        from allin.voice.live import LiveVoice

        return LiveVoice(
            settings,
            recorder=recorder,
            chats=chats,
            interaction=interaction,
            streams=streams,
            runs=runs,
        )
    from allin.voice.offline import OfflineVoice
    from allin.voice.piper import PiperTextToSpeech
    from allin.voice.silero import SileroSpeechDetector
    from allin.voice.whisper import WhisperSpeechToText

    return OfflineVoice(
        settings,
        stt=WhisperSpeechToText(settings.voice_stt_threads),
        tts=PiperTextToSpeech(),
        detector=SileroSpeechDetector(),
        recorder=recorder,
        interaction=interaction,
        streams=streams,
        runs=runs,
    )

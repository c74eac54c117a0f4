"""The voice engine a deployment uses, from `ALLIN_VOICE`: the one place its parts are chosen."""

from __future__ import annotations

import logging

from allin.config import ChatStoreBackend, VoiceMode
from allin.voice.conversation import VoiceApp, VoiceEngine

logger = logging.getLogger(__name__)


def build_voice(app: VoiceApp) -> VoiceEngine | None:
    settings = app.settings
    if settings.voice is VoiceMode.OFF:
        return None
    if settings.chat_store is ChatStoreBackend.SUPABASE:
        # Spoken turns are linked to their chat turns in Postgres (`voice_turns`), which this
        # deployment does not reach directly.
        logger.warning("voice is off: it needs ALLIN_CHAT_STORE=postgres")
        return None
    if settings.voice is VoiceMode.LIVE:
        from allin.voice.live import LiveVoice

        return LiveVoice(app)
    from allin.voice.offline import OfflineVoice
    from allin.voice.piper import PiperTextToSpeech
    from allin.voice.silero import SileroSpeechDetector
    from allin.voice.whisper import WhisperSpeechToText

    return OfflineVoice(
        app,
        stt=WhisperSpeechToText(settings.voice_stt_threads),
        tts=PiperTextToSpeech(),
        detector=SileroSpeechDetector(),
    )

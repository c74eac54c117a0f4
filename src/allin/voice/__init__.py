"""Voice: audio over the chat socket, answered in voice (offline speech models, or Gemini Live)."""

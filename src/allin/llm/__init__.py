"""Chat models behind one protocol; `registry.build_chat_model` picks one from settings."""

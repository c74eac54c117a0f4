"""One object per vendor (pydantic-ai's provider/model split): a provider owns the credentials,
base URL, timeouts and TLS of the vendor's SDK client, and reads the SDK's failures; the models
that use it (chat, embeddings, voice, memory) own only their wire format."""

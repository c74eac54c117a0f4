"""Long-term memory: what Allin remembers about each user across chats, kept by mem0 in the app's
own Postgres (pgvector) and embedded with the app's own embedder."""

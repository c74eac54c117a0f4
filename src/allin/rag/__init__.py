"""The team knowledge base: ingest documents, chunk, embed, retrieve with citations."""

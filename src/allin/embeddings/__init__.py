"""Text embeddings for retrieval and memory, behind one protocol."""

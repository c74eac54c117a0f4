-- The token vectors of a chunk, from the same forward pass as its embedding (int8 rows of unit
-- vectors, `embedder`'s dimension wide): the late-interaction reranker (allin.rag.rerank) scores
-- the best passages against the question's tokens with them. Null for chunks of an embedder that
-- does not give them, or ingested before; those keep their fused rank.
alter table document_chunks add column tokens bytea;
-- Vectors compress badly: store them out of line as they are rather than spend CPU trying.
alter table document_chunks alter column tokens set storage external;

"""The knowledge base's policies, read from the settings: how documents are chunked and what
reading one may cost, which files of a repository are indexed, how retrieval ranks."""

from __future__ import annotations

from allin.config import Settings
from allin.rag.hybrid import Fusion
from allin.rag.ingest import ChunkingPolicy
from allin.rag.limits import DocumentLimits
from allin.rag.retrieval import RetrievalPolicy
from allin.sources.sync import SourcePolicy


def chunking_policy(settings: Settings) -> ChunkingPolicy:
    return ChunkingPolicy(
        max_tokens=settings.rag_chunk_tokens,
        overlap_tokens=settings.rag_chunk_overlap,
        max_bytes=settings.max_document_bytes,
        limits=DocumentLimits(
            uncompressed_bytes=settings.max_document_uncompressed_bytes,
            compression_ratio=settings.max_document_compression_ratio,
            pages=settings.max_document_pages,
            chars=settings.max_document_chars,
            chunks=settings.max_document_chunks,
            parse_timeout_s=settings.document_parse_timeout_s,
            parser_memory_bytes=settings.document_parser_memory_bytes,
        ),
    )


def source_policy(settings: Settings) -> SourcePolicy:
    return SourcePolicy(
        max_file_bytes=settings.repo_max_file_bytes,
        max_files=settings.repo_max_files,
        chunk_tokens=settings.rag_chunk_tokens,
        chunk_overlap=settings.rag_chunk_overlap,
        code_chunk_tokens=settings.repo_code_chunk_tokens,
        piece_tokens=settings.repo_piece_tokens,
    )


def retrieval_policy(settings: Settings) -> RetrievalPolicy:
    return RetrievalPolicy(
        top_k=settings.rag_top_k,
        candidates=settings.rag_candidates,
        ef_search=settings.rag_ef_search,
        min_similarity=settings.rag_min_similarity,
        fusion=Fusion(
            vector_weight=settings.rag_vector_weight,
            text_weight=settings.rag_text_weight,
            rrf_k=settings.rag_rrf_k,
            code_by_scores=settings.rag_code_by_scores,
            code_vector_share=settings.rag_code_vector_share,
        ),
        rerank_depth=settings.rag_rerank_depth,
        mix_code_and_prose=settings.rag_mix_code_and_prose,
        code_first=settings.rag_code_first,
        code_leads_within=settings.rag_code_leads_within,
        tests_after_code=settings.rag_tests_after_code,
        whole_definition_tokens=settings.rag_whole_definition_tokens,
    )

"""What the knowledge base costs beyond its irreducible parts, and how exact its index is.

1. Ingestion: chunks/s of `Ingestor.ingest` (read, parse, chunk, embed, store) against the bare
   embedder embedding the very same chunk texts, in the same run. The ratio is our overhead over
   the model, which dominates on CPU.
2. Retrieval at N chunks (default 100,000: synthetic vectors clustered by topic as embeddings
   are, and random-word texts, bulk-loaded): p50/p95 of `DocumentStore.search` (the hybrid query
   through our code: pool, `ef_search`, parameters, rows to models) against the same SQL
   statement sent raw with psycopg.
3. HNSW recall@10: the index's top 10 against exact search (index scans disabled) for the same
   query vectors.
4. Concurrency: the questions of eval/docs-dev.jsonl asked through `Retriever.search` over the
   files ingested in 1 (real embedder, real reranker), 1, 8 and 32 at a time: p50/p95 per query,
   the share of its time in embedding the question, the SQL (`DocumentStore.search`) and the
   reranking; against the hybrid SQL alone, sent raw at the same concurrency with the questions'
   vectors computed beforehand.

Runs on an embedded Postgres in a temporary folder, removed afterwards.

    .venv/bin/python bench/knowledge_base.py [--chunks N] [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from psycopg import sql
from rich.console import Console
from rich.table import Table

from allin.config import Settings
from allin.embeddings.minilm import MiniLMEmbedder, load_model
from allin.rag.chunking import chunk_document
from allin.rag.clean import document_embedding_text
from allin.rag.evaluation import load_questions
from allin.rag.files import discover
from allin.rag.formats import parse
from allin.rag.hybrid import HYBRID_SQL, Scope, hybrid_params
from allin.services import Services
from allin.workers import children_skip_main
from harness import StageClock, concurrent_latencies, percentile

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
QUESTIONS = Path(__file__).resolve().parents[1] / "eval" / "docs-dev.jsonl"
CONCURRENCY = (1, 8, 32)
SYNTHETIC_EMBEDDER = "bench:random@384"
DIMENSION = 384
CHUNKS_PER_DOCUMENT = 100
QUERIES = 200
RECALL_QUERIES = 100
K = 10
console = Console()


@dataclass(frozen=True)
class Plan:
    chunks: int
    ingest_files: int  # corpus files ingested in the ingestion phase
    queries: int
    rounds: int = 2  # times each docs-dev question is asked per concurrency level


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


# --- 1. ingestion -----------------------------------------------------------------------------


def corpus_files(limit: int) -> list[tuple[str, bytes]]:
    if CORPUS.is_dir():
        found = discover([str(CORPUS)]).files[:limit]
        return [(f.name, f.path.read_bytes()) for f in found]
    # No shared corpus on this machine: Markdown files of generated prose.
    words = [
        "deploy",
        "service",
        "config",
        "test",
        "branch",
        "review",
        "release",
        "database",
        "cache",
        "queue",
    ]
    rng = random.Random(1)
    return [
        (
            f"synthetic/{n}.md",
            "\n\n".join(
                f"## Section {s}\n\n" + " ".join(rng.choice(words) for _ in range(120)) + "."
                for s in range(6)
            ).encode(),
        )
        for n in range(limit)
    ]


async def bench_ingestion(services: Services, plan: Plan) -> dict[str, Any]:
    files = corpus_files(plan.ingest_files)
    policy = services.settings
    texts = []
    for name, data in files:
        _, parsed = parse(name, data)
        for chunk in chunk_document(parsed, policy.rag_chunk_tokens, policy.rag_chunk_overlap):
            texts.append(document_embedding_text(name, chunk.heading, chunk.content))
    await services.embedder.warm_up()

    async def bare(batch: list[str]) -> None:
        # The model alone (pooled vectors only): what ingestion adds to it, the token vectors
        # for the reranker included, is our overhead.
        if isinstance(services.embedder, MiniLMEmbedder):
            await asyncio.to_thread(
                load_model().encode, batch, batch_size=16, normalize_embeddings=True
            )
        else:
            await services.embedder.embed_documents(batch)

    await bare(texts[:16])  # first batches are slower
    started = time.perf_counter()
    for start in range(0, len(texts), 64):
        await bare(texts[start : start + 64])
    bare_s = time.perf_counter() - started

    started = time.perf_counter()
    chunks = 0
    for name, data in files:
        outcome = await services.ingestor.ingest(owner_id="bench-ingest", name=name, data=data)
        chunks += outcome.document.chunk_count if outcome.document else 0
    ours_s = time.perf_counter() - started
    return {
        "files": len(files),
        "chunks": chunks,
        "bare_embedder_chunks_per_s": round(len(texts) / bare_s, 1),
        "ingest_chunks_per_s": round(chunks / ours_s, 1),
        "ratio_time": round(ours_s / bare_s * len(texts) / max(chunks, 1), 2),
    }


# --- 2. retrieval at scale ----------------------------------------------------------------------


# Synthetic vectors shaped like sentence embeddings rather than uniform noise: each is a topic's
# direction plus noise of the same size (cosine ~0.7 to its topic, ~0.5 between two of a topic),
# and questions are drawn from the same topics. Uniform random 384-d vectors have no near
# neighbours at all (every distance is about the same), which no index and no real corpus has;
# on them HNSW's recall@10 read 0.13, a figure about the data, not the index.
TOPICS = 1000


def unit_vectors(count: int, rng: np.random.Generator) -> np.ndarray:
    topics = np.random.default_rng(3).standard_normal((TOPICS, DIMENSION)).astype(np.float32)
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    noise = rng.standard_normal((count, DIMENSION)).astype(np.float32) / np.sqrt(DIMENSION)
    vectors = topics[rng.integers(0, TOPICS, count)] + noise
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


VOCABULARY = [f"term{n}" for n in range(5000)]


async def load_synthetic(services: Services, chunks: int) -> None:
    rng = np.random.default_rng(7)
    words = random.Random(7)
    documents = max(1, chunks // CHUNKS_PER_DOCUMENT)
    async with services.db.pool.connection() as conn:
        cursor = await conn.execute(
            "insert into documents (owner_id, name, mime, format, storage_path, sha256,"
            " size_bytes, status, chunk_count)"
            " select 'bench', 'doc-' || n, 'text/plain', 'text', 'x', 'x', 0, 'ready', %s"
            " from generate_series(1, %s) n returning id",
            (CHUNKS_PER_DOCUMENT, documents),
        )
        ids = [row["id"] for row in await cursor.fetchall()]
        vectors = unit_vectors(chunks, rng)
        async with (
            conn.cursor() as copy_cursor,
            copy_cursor.copy(
                "copy document_chunks (document_id, ord, content, heading, embedder, embedding)"
                " from stdin with (format binary)"
            ) as copy,
        ):
            copy.set_types(["text", "int4", "text", "text", "text", "vector"])
            for n in range(chunks):
                content = " ".join(words.choice(VOCABULARY) for _ in range(60))
                await copy.write_row(
                    (
                        ids[n % documents],
                        n // documents,
                        content,
                        None,
                        SYNTHETIC_EMBEDDER,
                        vectors[n],
                    )
                )
    started = time.perf_counter()
    await services.documents.ensure_vector_index(SYNTHETIC_EMBEDDER, DIMENSION)
    console.print(
        f"HNSW index over {chunks} vectors built in {time.perf_counter() - started:.1f} s"
    )
    async with services.db.pool.connection() as conn:
        await conn.execute("analyze document_chunks")


def queries(count: int) -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(11)
    words = random.Random(11)
    vectors = unit_vectors(count, rng)
    return [(" ".join(words.choice(VOCABULARY) for _ in range(6)), v) for v in vectors]


async def bench_retrieval(services: Services, plan: Plan) -> dict[str, Any]:
    settings = services.settings
    scope = Scope("bench", include_shared=False)
    asked = queries(plan.queries)
    statement = sql.SQL(HYBRID_SQL).format(dim=sql.Literal(DIMENSION))

    async def ours(question: str, vector: np.ndarray) -> None:
        await services.documents.search(
            scope,
            question,
            vector.tolist(),
            embedder=SYNTHETIC_EMBEDDER,
            dimension=DIMENSION,
            k=settings.rag_top_k,
            candidates=settings.rag_candidates,
            ef_search=settings.rag_ef_search,
        )

    async def raw(question: str, vector: np.ndarray) -> None:
        params = hybrid_params(
            scope,
            question,
            vector.tolist(),
            embedder=SYNTHETIC_EMBEDDER,
            k=settings.rag_top_k,
            candidates=settings.rag_candidates,
            ef_search=settings.rag_ef_search,
        )
        async with services.db.pool.connection() as conn, conn.transaction():
            await conn.execute(
                "select set_config('hnsw.ef_search', %s, true)", (str(params["overfetch"]),)
            )
            cursor = await conn.execute(statement, params)
            await cursor.fetchall()

    timings: dict[str, list[float]] = {"raw": [], "ours": []}
    for _ in range(10):  # warm caches for both
        await raw(*asked[0])
        await ours(*asked[0])
    for question, vector in asked:  # alternate so noise hits both alike
        for name, run in (("raw", raw), ("ours", ours)):
            started = time.perf_counter()
            await run(question, vector)
            timings[name].append(time.perf_counter() - started)
    result: dict[str, Any] = {"chunks": plan.chunks, "queries": len(asked)}
    for name, values in timings.items():
        result[f"{name}_p50_ms"] = ms(percentile(values, 50))
        result[f"{name}_p95_ms"] = ms(percentile(values, 95))
    result["ratio_p50"] = round(result["ours_p50_ms"] / result["raw_p50_ms"], 2)
    result["ratio_p95"] = round(result["ours_p95_ms"] / result["raw_p95_ms"], 2)
    return result


async def bench_recall(services: Services) -> dict[str, Any]:
    knn = sql.SQL(
        "select id from document_chunks where embedder = %s"
        " order by embedding::vector({dim}) <=> %s::vector({dim}) limit {k}"
    ).format(dim=sql.Literal(DIMENSION), k=sql.Literal(K))
    recalls = []
    ef_search = services.settings.rag_ef_search
    for _, vector in queries(RECALL_QUERIES):
        found: dict[bool, set[int]] = {}
        for exact in (False, True):
            async with services.db.pool.connection() as conn, conn.transaction():
                await conn.execute(
                    "select set_config('hnsw.ef_search', %s, true)", (str(ef_search),)
                )
                if exact:
                    await conn.execute("set local enable_indexscan = off")
                cursor = await conn.execute(knn, (SYNTHETIC_EMBEDDER, vector))
                found[exact] = {row["id"] for row in await cursor.fetchall()}
        recalls.append(len(found[False] & found[True]) / K)
    return {
        "queries": RECALL_QUERIES,
        "ef_search": ef_search,
        f"recall@{K}_mean": round(statistics.fmean(recalls), 4),
        f"recall@{K}_min": round(min(recalls), 2),
    }


# --- 4. latency under concurrency --------------------------------------------------------------


async def bench_concurrency(services: Services, rounds: int) -> dict[str, Any]:
    """Each level asks every question `rounds` times; the stages are timed by wrapping the
    embedder's, the store's and the reranker's methods on these instances."""
    settings = services.settings
    retriever = services.retriever
    scope = Scope("bench-ingest", include_shared=False)
    questions = [q.question for q in load_questions(QUESTIONS)] * rounds
    clock = StageClock()
    embedder, store = services.embedder, services.documents
    reranker = retriever._reranker
    patched: list[tuple[object, str]] = [
        (embedder, "embed_query"),
        (embedder, "embed_with_tokens"),
        (store, "search"),
    ] + ([(reranker, "rerank")] if reranker is not None else [])
    stage_of = {"embed_query": "embed", "embed_with_tokens": "embed", "search": "sql"}
    for owner, method in patched:
        if hasattr(owner, method):
            setattr(
                owner, method, clock.timed(stage_of.get(method, method), getattr(owner, method))
            )
    vectors = [await embedder.embed_query(q) for q in questions[: len(questions) // rounds]]
    statement = sql.SQL(HYBRID_SQL).format(dim=sql.Literal(embedder.dimension))

    async def ask(question: str, spent: list[dict[str, float]]) -> None:
        spent.append(clock.start())
        await retriever.search(scope, question)

    async def raw(question: str, vector: list[float]) -> None:
        params = hybrid_params(
            scope,
            question,
            vector,
            embedder=embedder.name,
            k=settings.rag_top_k * 2,
            candidates=settings.rag_candidates,
            ef_search=settings.rag_ef_search,
        )
        async with services.db.pool.connection() as conn, conn.transaction():
            await conn.execute(
                "select set_config('hnsw.ef_search', %s, true)", (str(params["overfetch"]),)
            )
            cursor = await conn.execute(statement, params)
            await cursor.fetchall()

    try:
        for question in questions[:5]:  # warm up
            await retriever.search(scope, question)
        levels = []
        for level, concurrency in enumerate(CONCURRENCY):
            spent: list[dict[str, float]] = []
            # Each question is a turn of its own, so its embedding is part of its time: the
            # encoder answers a text it saw in the last 30 s from memory (`coalescing.RECENT_S`),
            # so every one asked is made unique by trailing spaces, which neither the model nor
            # the full-text query sees.
            asked = [q + " " * (1 + level * len(questions) + n) for n, q in enumerate(questions)]
            seconds, wall = await concurrent_latencies(
                [lambda q=q, s=spent: ask(q, s) for q in asked], concurrency
            )
            raw_seconds, _ = await concurrent_latencies(
                [
                    lambda q=q, v=v: raw(q, v)
                    for q, v in zip(questions, vectors * rounds, strict=True)
                ],
                concurrency,
            )
            total = sum(seconds)
            share = {
                stage: round(sum(s.get(stage, 0.0) for s in spent) / total, 3)
                for stage in ("embed", "sql", "rerank")
            }
            levels.append(
                {
                    "concurrency": concurrency,
                    "queries": len(seconds),
                    "p50_ms": ms(percentile(seconds, 50)),
                    "p95_ms": ms(percentile(seconds, 95)),
                    "queries_per_s": round(len(seconds) / wall, 1),
                    "share": share,
                    "raw_sql_p50_ms": ms(percentile(raw_seconds, 50)),
                    "raw_sql_p95_ms": ms(percentile(raw_seconds, 95)),
                }
            )
            console.print(f"concurrency {concurrency}: {levels[-1]}")
    finally:
        for owner, method in patched:
            if method in vars(owner):
                delattr(owner, method)
    return {"reranker": settings.reranker.value, "levels": levels}


# --- report ---------------------------------------------------------------------------------------


def render(results: dict[str, Any]) -> None:
    ingestion, retrieval, recall = results["ingestion"], results["retrieval"], results["recall"]
    concurrency = results["concurrency"]
    table = Table(title="Knowledge base", caption="ratio = ours / baseline (same run)")
    for column in ("measure", "baseline", "ours", "ratio"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    table.add_row(
        f"ingest chunks/s ({ingestion['chunks']} chunks, {ingestion['files']} files)",
        f"{ingestion['bare_embedder_chunks_per_s']} (bare embedder)",
        str(ingestion["ingest_chunks_per_s"]),
        f"{ingestion['ratio_time']}× time",
    )
    for q in (50, 95):
        table.add_row(
            f"hybrid search p{q} at {retrieval['chunks']} chunks",
            f"{retrieval[f'raw_p{q}_ms']} ms (raw SQL)",
            f"{retrieval[f'ours_p{q}_ms']} ms",
            f"{retrieval[f'ratio_p{q}']}×",
        )
    table.add_row(
        f"HNSW recall@{K} (ef_search={recall['ef_search']})",
        "1.0 (exact)",
        f"{recall[f'recall@{K}_mean']} (min {recall[f'recall@{K}_min']})",
        "",
    )
    console.print(table)
    table = Table(
        title=f"Questions at once (docs-dev, reranker {concurrency['reranker']})",
        caption="share = part of the queries' time in each stage; raw SQL = the hybrid statement"
        " alone, same concurrency",
    )
    for column in ("at once", "p50", "p95", "q/s", "embed", "SQL", "rerank", "raw SQL p50/p95"):
        table.add_column(column, justify="right")
    for level in concurrency["levels"]:
        share = level["share"]
        table.add_row(
            str(level["concurrency"]),
            f"{level['p50_ms']} ms",
            f"{level['p95_ms']} ms",
            str(level["queries_per_s"]),
            f"{share['embed']:.0%}",
            f"{share['sql']:.0%}",
            f"{share['rerank']:.0%}",
            f"{level['raw_sql_p50_ms']} / {level['raw_sql_p95_ms']} ms",
        )
    console.print(table)


async def run(plan: Plan) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="allin-bench-kb-"))
    try:
        settings = Settings(_env_file=None, llm="offline", data_dir=workdir, database_url=None)
        services = await Services.start(settings)
        try:
            ingestion = await bench_ingestion(services, plan)
            console.print(f"ingestion: {ingestion}")
            concurrency = await bench_concurrency(services, plan.rounds)
            await load_synthetic(services, plan.chunks)
            retrieval = await bench_retrieval(services, plan)
            recall = await bench_recall(services)
        finally:
            await services.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "ingestion": ingestion,
        "retrieval": retrieval,
        "recall": recall,
        "concurrency": concurrency,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument(
        "--quick", action="store_true", help="10,000 chunks, fewer files and questions"
    )
    parser.add_argument("--json", type=Path, metavar="PATH")
    args = parser.parse_args(argv)
    plan = (
        Plan(chunks=10_000, ingest_files=8, queries=50, rounds=1)
        if args.quick
        else Plan(chunks=args.chunks, ingest_files=30, queries=QUERIES)
    )
    children_skip_main()  # as the app does: a sandboxed parser must not re-import this script
    results = asyncio.run(run(plan))
    render(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

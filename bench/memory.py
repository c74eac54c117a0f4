"""What long-term memory costs a turn, at 10,000 memories for one user among 100 users.

Setup: the app's own memory (mem0 over an embedded Postgres, the MiniLM embedder, offline rules).
One user has 10,000 memories, embedded for real with MiniLM; 99 other users have 1,000 each,
random unit vectors (their content does not matter, only that the table is shared). All rows are
bulk-loaded straight into mem0's table, in mem0's payload shape, with binary COPY.

Measured, each against a baseline taken in the same run on the same table:

- search: `MemoryManager.search()` as the turn pipeline calls it (embed the question, one k-NN
  query), p50/p95. Baseline: the bare pgvector k-NN query for the same user with the question's
  vector already computed. "embed" (embedding the question alone) shows how much of the
  difference is the embedding model; "mem0 search" is mem0's own search (lemmatize, entities,
  embed, k-NN, keyword query, entity boosts, scoring), which the turn used before issue 16.
- concurrent: each search path with 16 searches in flight at once, as turns search side by side:
  p50 latency and searches/s.
- agreement: of the memories each path puts in the prompt (top k, above the threshold), the share
  both put there, over every question: what mem0's extra steps change in the answer's context.
- learn: the background work after a turn (`MemoryManager.learn()` on a message with two new
  facts: extraction, duplicate checks against the user's 10,000 memories, two adds), p50/p95.
  Baseline: inserting those two rows with their vectors in one statement.

    .venv/bin/python bench/memory.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import hashlib
import itertools
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from psycopg import sql
from psycopg.types.json import Jsonb
from rich.console import Console
from rich.table import Table

from allin.config import Settings
from allin.embeddings.registry import build_embedder
from allin.memory.build import collection_name, start_memory
from allin.memory.extract import normalized
from allin.memory.glossary import gloss
from allin.storage.db import Database
from allin.storage.embedded import start_embedded_postgres
from harness import concurrent_latencies

# Searches in flight at once for the concurrent measurement (turns searching side by side).
CONCURRENT = 16

# Distinct names, so that each learned fact is new (near-identical ones are skipped as duplicates).
NAMES = """Haskell Elixir Erlang Clojure Scala Kotlin Swift Dart Julia Zig Nim Crystal OCaml FSharp
Lua Perl Ruby PHP Fortran COBOL Ada Prolog Lisp Scheme Racket Groovy Solidity Verilog MATLAB SAS
Ansible Puppet Chef Salt Nomad Consul Vault Packer Vagrant Pulumi Helm Istio Linkerd Envoy Traefik
Nginx HAProxy Caddy Varnish Memcached Cassandra ScyllaDB CockroachDB MongoDB CouchDB Neo4j
InfluxDB TimescaleDB ClickHouse Druid Pinot Presto Trino Hive Flink Beam Storm NiFi Pulsar
RabbitMQ NATS ZeroMQ Celery Dramatiq Prefect Dagster Luigi dbt Looker Superset Metabase Grafana
Prometheus Loki Tempo Jaeger Zipkin Datadog Splunk Kibana Logstash Fluentd Vector Bazel Buck
Pants Gradle Maven Ant SBT Cargo Poetry Hatch Conda Nix Guix Podman Buildah Kaniko Skaffold Tilt
ArgoCD Flux Spinnaker Tekton Drone Buildkite CircleCI TravisCI TeamCity Bamboo""".split()  # noqa: SIM905
QUESTIONS = [
    "How do I add a route in Flask?",
    "What is a Kubernetes pod?",
    "Who should review my pull request?",
    "How do we deploy to production?",
    "Which editor should I set up?",
    "How do I run the integration tests?",
    "Where are the service logs?",
    "How do I write a database migration?",
]


def facts(count: int) -> Iterator[str]:
    """`count` distinct, plausible memories."""
    subjects = ["User", "User's team", "User's manager", "User's mentor", "User's squad"]
    verbs = ["uses", "prefers", "is learning", "maintains", "wants to try", "dislikes", "knows"]
    things = [
        "Flask", "Django", "FastAPI", "Kubernetes", "Terraform", "Postgres", "Redis", "Kafka",
        "React", "Vue", "Go", "Rust", "TypeScript", "gRPC", "GraphQL", "Docker", "Airflow",
        "Spark", "vim", "Emacs", "VS Code", "pytest", "GitHub Actions", "Jenkins", "Sentry",
    ]  # fmt: skip
    contexts = [
        "for the billing service", "for internal tools", "on the data platform",
        "for the mobile backend", "in the payments API", "for the search service",
        "at work", "for side projects", "in the monorepo", "for on-call tooling",
        "for the analytics pipeline", "in the auth service", "for load tests",
        "for the admin dashboard", "in the CI pipeline", "for the onboarding docs",
        "for the recommendation engine",
    ]  # fmt: skip
    combos = itertools.product(subjects, verbs, things, contexts)
    for subject, verb, thing, context in itertools.islice(combos, count):
        yield f"{subject} {verb} {thing} {context}"


def payload(user_id: str, text: str) -> dict[str, Any]:
    """A memory as mem0 stores it (see mem0's `_create_memory`) plus our own metadata."""
    now = datetime.now(UTC).isoformat()
    return {
        "user_id": user_id,
        "role": "user",
        "chat_id": "bench",
        "normalized": normalized(text),
        "data": text,
        "hash": hashlib.md5(text.encode()).hexdigest(),
        "created_at": now,
        "updated_at": now,
        "text_lemmatized": text,
    }


async def load(db: Database, table: str, rows: Iterator[tuple[str, np.ndarray, str]]) -> int:
    count = 0
    copy_sql = sql.SQL("copy {} (id, vector, payload) from stdin with (format binary)").format(
        sql.Identifier(table)
    )
    async with db.pool.connection() as conn, conn.cursor().copy(copy_sql) as copy:
        copy.set_types(["uuid", "vector", "jsonb"])
        for user_id, vector, text in rows:
            await copy.write_row((uuid.uuid4(), vector, Jsonb(payload(user_id, text))))
            count += 1
    async with db.pool.connection() as conn:
        await conn.execute(sql.SQL("analyze {}").format(sql.Identifier(table)))
    return count


def random_rows(users: int, per_user: int, dimension: int) -> Iterator[tuple[str, np.ndarray, str]]:
    generator = np.random.default_rng(8)
    for n in range(users):
        vectors = generator.standard_normal((per_user, dimension)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        for m, vector in enumerate(vectors):
            yield f"bench-other-{n}", vector, f"Other user fact {m}"


async def timed(work: Callable[[int], Awaitable[Any]], runs: int) -> list[float]:
    """Milliseconds per call of `work(n)`, after two untimed warm-up calls."""
    for n in range(2):
        await work(n)
    samples = []
    for n in range(runs):
        started = time.perf_counter()
        await work(n)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p(samples: list[float], percent: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[percent - 1]


async def measure(
    data_dir: Path, database_url: str, quick: bool, console: Console
) -> list[tuple[str, ...]]:
    settings = Settings(_env_file=None, llm="offline", data_dir=data_dir, database_url=database_url)
    own_count, others, per_other, runs = (1_000, 10, 100, 30) if quick else (10_000, 99, 1_000, 200)
    db = await Database.open(settings)
    embedder = build_embedder(settings)
    memory = start_memory(settings, db, embedder)
    await memory.ready()
    table = collection_name(embedder)
    user = "bench-user"
    try:
        started = time.monotonic()
        texts = list(facts(own_count))
        vectors = await embedder.embed_documents(texts)
        own = (
            (user, np.array(v, dtype=np.float32), t) for v, t in zip(vectors, texts, strict=True)
        )
        loaded = await load(db, table, own)
        loaded += await load(db, table, random_rows(others, per_other, embedder.dimension))
        elapsed = time.monotonic() - started
        console.print(
            f"{loaded:,} memories of {others + 1} users loaded in {elapsed:.0f} s"
            f" ({own_count:,} for the measured user)"
        )
        query_vectors = [await embedder.embed_query(q) for q in QUESTIONS]
        knn = sql.SQL(
            "select id, vector <=> %s as distance from {} where payload->>'user_id' = %s"
            " order by distance limit %s"
        ).format(sql.Identifier(table))
        top_k = settings.memory_top_k

        async def search_found(n: int) -> list[Any]:
            return await memory.search(
                user,
                QUESTIONS[n % len(QUESTIONS)],
                top_k=top_k,
                threshold=settings.memory_threshold,
            )

        async def search(n: int) -> None:
            # A new wording each time, so that every search embeds its question as a turn does.
            await memory.search(
                user,
                f"{QUESTIONS[n % len(QUESTIONS)]} (search {n})",
                top_k=top_k,
                threshold=settings.memory_threshold,
            )

        async def raw_knn(n: int) -> None:
            vector = np.array(query_vectors[n % len(QUESTIONS)], dtype=np.float32)
            async with db.pool.connection() as conn:
                await (await conn.execute(knn, (vector, user, top_k))).fetchall()

        async def embed_only(n: int) -> None:
            # A new text each time: the embedder keeps a question's vectors for a while.
            await embedder.embed_query(f"{QUESTIONS[n % len(QUESTIONS)]} (embed {n})")

        async def mem0_search(n: int, salt: str = "") -> Any:
            return await memory._mem0.search(
                QUESTIONS[n % len(QUESTIONS)] + salt,
                top_k=top_k,
                filters={"user_id": user},
                threshold=settings.memory_threshold,
            )

        async def mem0_search_unique(n: int) -> Any:
            return await mem0_search(n, f" (mem0 {n})")

        async def glossed_found(n: int) -> list[Any]:
            return await memory._reader.nearest(
                user,
                gloss(QUESTIONS[n % len(QUESTIONS)]),
                top_k=top_k,
                threshold=settings.memory_threshold,
            )

        # What mem0's extra steps change: its keyword and entity scores (ours on the question
        # glossed as mem0 embeds it, against mem0's), then the gloss itself (ours plain).
        for label, ours_of in (("glossed k-NN", glossed_found), ("plain k-NN", search_found)):
            agreed = total = 0
            for n in range(len(QUESTIONS)):
                ours = {m.id for m in await ours_of(n)}
                theirs = {str(item["id"]) for item in (await mem0_search(n))["results"]}
                agreed += len(ours & theirs)
                total += max(len(ours | theirs), 1)
            console.print(
                f"{label} vs mem0's search, memories put in the prompt by both: {agreed}/{total}"
            )

        learned: list[int] = []

        async def learn(n: int) -> None:
            new, used = NAMES[2 * n], NAMES[2 * n + 1]
            said = f"I'm new to {new}. Our team uses {used}. How do I start?"
            learned.append(len(await memory.learn(user, "bench", said, "ok")))

        insert = sql.SQL("insert into {} (id, vector, payload) values (%s, %s, %s), (%s, %s, %s)")
        rows = [np.array(v, dtype=np.float32) for v in await embedder.embed_documents(texts[:2])]

        async def raw_insert(n: int) -> None:
            values = []
            for vector, text in zip(rows, ("raw fact a", "raw fact b"), strict=True):
                values += [uuid.uuid4(), vector, Jsonb(payload(user, f"{text} {n}"))]
            async with db.pool.connection() as conn:
                await conn.execute(insert.format(sql.Identifier(table)), values)

        results = []
        p50s: dict[str, float] = {}
        for name, work, baseline in (
            ("search", search, raw_knn),
            ("embed", embed_only, raw_knn),
            ("mem0 search", mem0_search_unique, raw_knn),
            ("learn", learn, raw_insert),
        ):
            measured = await timed(work, runs if work is not learn else runs // 4)
            base = await timed(baseline, runs)
            p50s[name], p50s[f"{name} baseline"] = p(measured, 50), p(base, 50)
            results.append(
                (
                    name,
                    f"{p(base, 50):.2f}",
                    f"{p(base, 95):.2f}",
                    f"{p(measured, 50):.2f}",
                    f"{p(measured, 95):.2f}",
                    f"{p(measured, 50) / p(base, 50):.1f}×",
                    f"{p(measured, 95) / p(base, 95):.1f}×",
                )
            )
        console.print(f"learn added {statistics.mean(learned):.1f} of 2 facts per turn on average")
        # Alone, mem0's extra steps cost little; a turn's search, though, runs beside others'.
        for name, one in (("search", search), ("mem0 search", mem0_search_unique)):
            calls = [functools.partial(one, 10_000 + n) for n in range(CONCURRENT * 4)]
            seconds, wall = await concurrent_latencies(calls, CONCURRENT)
            console.print(
                f"{name}, {CONCURRENT} at once: p50 {p([s * 1000 for s in seconds], 50):.1f} ms,"
                f" {len(calls) / wall:.0f} searches/s"
            )
        floor = p50s["search baseline"] + p50s["embed"]
        met = "met" if p50s["search"] <= 1.5 * floor else "not met"
        console.print(
            f"goal ({met}): search p50 {p50s['search']:.2f} ms ≤ 1.5 × (k-NN + one embedding)"
            f" = 1.5 × {floor:.2f} ms"
        )
        return results
    finally:
        await memory.aclose()
        await embedder.aclose()
        await db.close()


def render(results: list[tuple[str, ...]], quick: bool, console: Console) -> None:
    scale = (
        "1,000 memories for one user among 11"
        if quick
        else "10,000 memories for one user among 100"
    )
    table = Table(
        title=f"Memory at {scale} users",
        caption="ms; baseline: bare pgvector k-NN (search) or a raw 2-row insert (learn)",
    )
    for column in ("what", "baseline p50", "baseline p95", "allin p50", "allin p95"):
        table.add_column(column, justify="left" if column == "what" else "right")
    table.add_column("ratio p50", justify="right")
    table.add_column("ratio p95", justify="right")
    for row in results:
        table.add_row(*row)
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="1,000 memories (a smoke run)")
    args = parser.parse_args(argv)
    console = Console()
    workdir = Path(tempfile.mkdtemp(prefix="allin-bench-memory-"))
    server = start_embedded_postgres(workdir / "pg")
    try:
        results = asyncio.run(measure(workdir, str(server.get_uri()), args.quick, console))
    finally:
        server.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    render(results, args.quick, console)
    return 0


if __name__ == "__main__":
    sys.exit(main())

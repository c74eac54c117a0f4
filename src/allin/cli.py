"""`allin serve | migrate | chat | ingest | reembed | eval | repos | worker | gaps |
eval-abstention`."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import uvicorn
from rich.markup import escape
from rich.table import Table

from allin.chat.frames import ServerFrame
from allin.chat.interaction import TurnRequest
from allin.jobs.cli import worker
from allin.mcp_server.stdio import mcp
from allin.onboarding.cli import onboarding_app
from allin.sources.cli import repos_app
from allin.terminal import console, without_workers
from allin.terminal import load_settings as _settings
from allin.terminal import progress_bar as _progress
from allin.trust.cli import eval_abstention, gaps
from allin.workers import children_skip_main

if TYPE_CHECKING:
    from allin.rag.ingest import IngestOutcome
    from allin.services import Services

app = typer.Typer(help="Allin, by Team 8: an assistant for new software engineers.")
app.add_typer(repos_app, name="repos")
app.add_typer(onboarding_app, name="onboarding")
app.command("worker")(worker)
app.command("mcp")(mcp)
app.command("gaps")(gaps)
app.command("eval-abstention")(eval_abstention)


@app.callback()
def _start() -> None:
    children_skip_main()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: HOST or 127.0.0.1.")] = None,
    port: Annotated[int | None, typer.Option(help="Default: PORT or 8000.")] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="App processes; they relay chat frames to each other through Postgres."
        ),
    ] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
) -> None:
    """Serve the web app, the API and the WebSocket."""
    settings = _settings()
    embedded = None
    if workers > 1:
        # A resume may land on any worker: they must hear each other's frames.
        os.environ["ALLIN_RELAY"] = "true"
        if settings.database_url is None:
            # One embedded server for all workers, started here and handed down.
            from allin.storage.embedded import start_embedded_postgres

            embedded = start_embedded_postgres(settings.embedded_pg_dir)
            os.environ["DATABASE_URL"] = str(embedded.get_uri())
    uvicorn.run(
        "allin.app:app_from_env",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        reload=reload,
        log_level=settings.log_level.lower(),
    )


@app.command()
def migrate() -> None:
    """Apply pending database migrations (also done on start-up)."""
    from allin.storage.db import Database

    async def run() -> None:
        db = await Database.open(_settings())
        await db.close()

    asyncio.run(run())
    console.print("[green]database is up to date[/green]")


@app.command()
def chat(
    user: Annotated[str, typer.Option(help="Your user id.")] = "cli",
    chat_id: Annotated[
        str | None, typer.Option("--chat", help="Chat id; new chat if omitted.")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(help="A running server, e.g. ws://127.0.0.1:8000; in-process if omitted."),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="ALLIN_TOKEN", help="Access token for --url (from /api/v1/auth/login)."
        ),
    ] = None,
) -> None:
    """Chat with Allin in the terminal. Type /quit to leave.

    In-process, you act directly on this machine's database as --user; against a server (--url),
    you need that user's access token.
    """
    chat_id = chat_id or uuid.uuid4().hex[:12]
    if url and not token:
        raise typer.BadParameter("--url needs --token (or ALLIN_TOKEN)", param_hint="--token")
    console.print(f"[dim]chat {chat_id} as {user}; /quit to leave[/dim]")
    runner = (
        _chat_remote(url, user, chat_id, str(token)) if url else _chat_in_process(user, chat_id)
    )
    asyncio.run(runner)


class _TerminalSink:
    """Prints a turn's frames as they arrive."""

    async def send(self, frame: ServerFrame) -> None:
        _show(frame.model_dump(mode="json"))


def _show(frame: dict[str, Any]) -> None:
    kind = frame["type"]
    if kind == "token":
        console.print(frame["text"], end="", markup=False, highlight=False)
    elif kind == "done":
        console.print()
    elif kind == "error":
        console.print(f"[red]{frame['code']}: {frame['message']}[/red]")


async def _lines() -> Any:
    while True:
        line = await asyncio.to_thread(console.input, "[bold cyan]you>[/bold cyan] ")
        if line.strip() == "/quit":
            return
        if line.strip():
            yield line


async def _chat_in_process(user: str, chat_id: str) -> None:
    from allin.services import Services

    services = await Services.start(without_workers(_settings(voice=False)))
    try:
        async for line in _lines():
            console.print("[bold magenta]allin>[/bold magenta] ", end="")
            request = TurnRequest(user, chat_id, uuid.uuid4().hex, line)
            await services.interaction.ask(request, _TerminalSink())
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        await services.stop()


async def _chat_remote(url: str, user: str, chat_id: str, token: str) -> None:
    import websockets

    address = f"{url.rstrip('/')}/ws/{user}/{chat_id}"
    async with websockets.connect(address, subprotocols=["bearer", token]) as socket:  # type: ignore[list-item]
        try:
            async for line in _lines():
                await socket.send(
                    json.dumps({"type": "message", "id": uuid.uuid4().hex, "content": line})
                )
                console.print("[bold magenta]allin>[/bold magenta] ", end="")
                while True:
                    frame = json.loads(await socket.recv())
                    _show(frame)
                    if frame["type"] in ("done", "error"):
                        break
        except (EOFError, KeyboardInterrupt):
            pass


# The owner of team knowledge ingested from the command line (shared with every user).
TEAM_OWNER = "team"


@app.command()
def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files, folders (walked) or quoted globs.")],
    owner: Annotated[
        str | None,
        typer.Option(help="A user id: their private documents. Default: shared team knowledge."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Re-index files even if unchanged.")] = False,
) -> None:
    """Add documents to the knowledge base. Unchanged files are skipped; changed ones re-indexed.

    A folder's files are named by their path inside it, so ingesting the folder again updates
    them in place.
    """
    from allin.rag.files import discover

    found = discover(paths)
    for argument in found.missing:
        console.print(f"[red]{argument}: no such file or folder[/red]")
    if not found.files:
        raise typer.Exit(1)
    outcomes = asyncio.run(_ingest(found.files, owner, force))
    _ingest_summary(outcomes, len(found.skipped))
    if found.missing or any(outcome.status == "failed" for outcome in outcomes):
        raise typer.Exit(1)


async def _ingest(files: list[Any], owner: str | None, force: bool) -> list[IngestOutcome]:
    from allin.services import Services

    # In this process, outside the job queue (it is the operator's tool, run where the files are),
    # and it takes no one else's jobs either.
    services = await Services.start(without_workers(_settings(voice=False)))
    outcomes = []
    try:
        with _progress() as progress:
            task = progress.add_task("ingesting", total=len(files))
            for file in files:
                progress.update(task, description=file.name)

                def chunks_done(done: int, total: int, name: str = file.name) -> None:
                    progress.update(task, description=f"{name} ({done}/{total} chunks)")

                outcome = await services.ingestor.ingest(
                    owner_id=owner or TEAM_OWNER,
                    name=file.name,
                    data=await asyncio.to_thread(file.path.read_bytes),
                    shared=owner is None,
                    force=force,
                    progress=chunks_done,
                )
                outcomes.append(outcome)
                progress.advance(task)
            progress.update(task, description="done")
    finally:
        await services.stop()
    return outcomes


def _ingest_summary(outcomes: list[IngestOutcome], skipped: int) -> None:
    for outcome in outcomes:
        if outcome.status == "failed":
            console.print(f"[red]✗ {outcome.name}: {outcome.error}[/red]", highlight=False)
    counts = {status: 0 for status in ("indexed", "unchanged", "failed")}
    for outcome in outcomes:
        counts[outcome.status] += 1
    chunks = sum(o.document.chunk_count for o in outcomes if o.document and o.status == "indexed")
    console.print(
        f"[green]{counts['indexed']} indexed[/green] ({chunks} chunks), "
        f"{counts['unchanged']} unchanged, "
        f"[{'red' if counts['failed'] else 'green'}]{counts['failed']} failed[/], "
        f"{skipped} skipped (unsupported type)"
    )


@app.command()
def reembed() -> None:
    """Re-embed, with a progress bar, the chunks another embedder made: after changing
    ALLIN_EMBEDDER (the app also does it in the background when it starts)."""

    async def run() -> tuple[int, str]:
        from allin.services import Services

        settings = without_workers(_settings(voice=False))
        services = await Services.start(settings.model_copy(update={"reembed_on_start": False}))
        try:
            with _progress() as progress:
                task = progress.add_task(f"re-embedding with {services.embedder.name}", total=None)

                def done(count: int, total: int) -> None:
                    progress.update(task, completed=count, total=total)

                return await services.ingestor.reembed_stale(done), services.embedder.name
        finally:
            await services.stop()

    count, embedder = asyncio.run(run())
    console.print(f"{count} documents re-embedded with {embedder}")


@app.command("eval")
def evaluate_retrieval(
    corpus: Annotated[Path, typer.Option(exists=True, file_okay=False, help="The corpus folder.")],
    questions: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="JSON Lines of questions.")
    ],
    k: Annotated[int, typer.Option(min=1, max=50, help="Score hit@K.")] = 5,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the figures here.")
    ] = None,
    show_misses: Annotated[bool, typer.Option(help="List the questions missed.")] = False,
) -> None:
    """Score retrieval: hit@K, MRR@10 and time per query, on a corpus ingested into a fresh
    scope (removed afterwards); a git repository is synced as the team's repositories are."""
    from allin.errors import BadRequest
    from allin.rag.evaluation import check_questions, is_repository, load_questions, write_json

    try:
        asked = load_questions(questions)
        # Before starting anything, so a typo costs no ingest.
        check_questions(asked, corpus, tracked=is_repository(corpus))
    except BadRequest as exc:
        console.print(f"[red]{escape(exc.message)}[/red]", soft_wrap=True)
        raise typer.Exit(1) from None
    report = asyncio.run(_evaluate(corpus, asked, k))
    table = Table(title=f"Retrieval on {corpus} ({len(asked)} questions, {report.chunks} chunks)")
    # By file: any passage of the answering file counts, as some sets are judged.
    for column in (f"hit@{k}", "MRR@10", f"by file hit@{k}", "by file MRR@10"):
        table.add_column(column, justify="right")
    for column in ("query p50", "query p95"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{report.hit_at_k:.3f}",
        f"{report.mrr:.3f}",
        f"{report.hit_at_k_by_file:.3f}",
        f"{report.mrr_by_file:.3f}",
        f"{report.query_ms(50):.1f} ms",
        f"{report.query_ms(95):.1f} ms",
    )
    console.print(table)
    for failure in report.ingest_failures:
        console.print(f"[yellow]not ingested: {failure.name}: {failure.error}[/yellow]")
    if show_misses:
        for answered in report.answered:
            if answered.rank is None or answered.rank > k:
                rank = answered.rank or f">{10}"
                console.print(
                    f"miss {answered.question.id} (rank {rank}): {answered.question.question}"
                )
    if json_out:
        write_json(report, json_out)


async def _evaluate(corpus: Path, questions: list[Any], k: int) -> Any:
    from allin.rag.evaluation import evaluate, evaluate_repository, is_repository
    from allin.services import Services

    services: Services = await Services.start(without_workers(_settings(voice=False)))
    try:
        with _progress() as progress:
            task = progress.add_task("ingesting the corpus", total=None)

            def ingested(name: str) -> None:
                progress.update(task, description=name)
                progress.advance(task)

            async def synced(phase: str, done: int, total: int) -> None:
                progress.update(task, description=phase, completed=done, total=total)

            if is_repository(corpus):
                return await evaluate_repository(
                    repositories=services.repositories,
                    retriever=services.retriever,
                    repository=corpus,
                    questions=questions,
                    k=k,
                    progress=synced,
                )
            return await evaluate(
                ingestor=services.ingestor,
                retriever=services.retriever,
                store=services.documents,
                corpus=corpus,
                questions=questions,
                k=k,
                on_file=ingested,
            )
    finally:
        await services.stop()

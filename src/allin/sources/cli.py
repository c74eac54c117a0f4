"""`allin repos add | list | sync | remove`: the team's repositories from the command line, on the
same database as the running app. A sync shows a progress bar; this process works the queue
while it waits, so it also completes with no app running."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from allin.errors import AllinError
from allin.jobs.options import WorkerOptions
from allin.terminal import console, load_settings, progress_bar, without_workers

if TYPE_CHECKING:
    from allin.services import Services
    from allin.sources.service import SyncQueued

repos_app = typer.Typer(help="The team's git repositories as a knowledge source.")

# Who added a repository from the command line.
CLI_USER = "cli"


@repos_app.command("add")
def add(
    location: Annotated[str, typer.Argument(help="A local path, file:// or https:// URL.")],
    name: Annotated[str | None, typer.Option(help="Default: the URL's last part.")] = None,
    branch: Annotated[str | None, typer.Option(help="Default: the remote's HEAD.")] = None,
) -> None:
    """Add a repository and sync it."""

    async def run(services: Services) -> SyncQueued:
        return await services.repositories.add(CLI_USER, location, name, branch)

    _sync_with_progress(run)


@repos_app.command("sync")
def sync(name: Annotated[str, typer.Argument(help="The repository's name or id.")]) -> None:
    """Sync a repository to its branch's head (only changed files are embedded again)."""

    async def run(services: Services) -> SyncQueued:
        repository = await services.repositories.store.find(name)
        return await services.repositories.sync(repository.id)

    _sync_with_progress(run)


@repos_app.command("list")
def list_repositories() -> None:
    """The repositories, their branch, synced commit, and sizes."""

    async def run(services: Services) -> None:
        table = Table("name", "branch", "commit", "status", "files", "chunks", "synced")
        for r in await services.repositories.store.all():
            table.add_row(
                r.name,
                r.branch,
                (r.head_commit or "")[:12],
                r.status + (f": {r.error}" if r.error else ""),
                str(r.file_count),
                str(r.chunk_count),
                r.synced_at.strftime("%Y-%m-%d %H:%M") if r.synced_at else "never",
            )
        console.print(table)

    _with_services(run)


@repos_app.command("remove")
def remove(name: Annotated[str, typer.Argument(help="The repository's name or id.")]) -> None:
    """Remove a repository and everything indexed from it."""

    async def run(services: Services) -> None:
        repository = await services.repositories.store.find(name)
        await services.repositories.remove(repository.id)
        console.print(f"removed {repository.name}")

    _with_services(run)


def _with_services(run: Any) -> Any:
    async def main() -> Any:
        from allin.services import Services

        settings = without_workers(load_settings(voice=False))
        services = await Services.start(settings)
        try:
            return await run(services)
        finally:
            await services.stop()

    try:
        return asyncio.run(main())
    except AllinError as error:
        console.print(f"[red]{error.message}[/red]", highlight=False)
        raise typer.Exit(1) from None


def _sync_with_progress(start: Any) -> None:
    async def run(services: Services) -> None:
        queued = await start(services)
        repository_id, job_id = queued.repository.id, queued.job_id
        worker = asyncio.create_task(
            services.jobs.run_worker(
                WorkerOptions(stalled_after_s=services.settings.jobs_stalled_after_s), wait=False
            )
        )
        try:
            with progress_bar() as bar:
                task = bar.add_task(f"{queued.repository.name}: queued", total=None)
                while (status := await services.jobs.status(job_id)) in ("todo", "doing"):
                    current = await services.repositories.store.get(repository_id)
                    shown = current.progress or {}
                    bar.update(
                        task,
                        description=f"{current.name}: {shown.get('phase', status)}",
                        completed=shown.get("done", 0),
                        total=shown.get("total") or None,
                    )
                    await asyncio.sleep(0.3)
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        _summary(await services.repositories.store.get(repository_id), status)

    _with_services(run)


def _summary(repository: Any, status: str) -> None:
    if status != "succeeded" or repository.status == "failed":
        console.print(f"[red]{repository.name}: sync {status}: {repository.error}[/red]")
        raise typer.Exit(1)
    report = repository.report
    skipped = ", ".join(f"{n} {why}" for why, n in report.get("skipped", {}).items()) or "none"
    console.print(
        f"[green]{repository.name}[/green] at {(repository.head_commit or '')[:12]} "
        f"({report.get('mode')}: {report.get('reason')}): "
        f"{report.get('indexed', 0)} files indexed, {report.get('moved', 0)} moved, "
        f"{report.get('removed', 0)} removed, {report.get('unchanged', 0)} unchanged; "
        f"{report.get('embedded_chunks', 0)} chunks embedded"
        f" (and {report.get('embedded_pieces', 0)} of their pieces); skipped: {skipped}. "
        f"{repository.file_count} files, {repository.chunk_count} chunks in all.",
        highlight=False,
    )

"""`allin onboarding status --user EMAIL`: a newcomer's progress from the command line, on the
same database as the running app (it opens the database only: no models are loaded)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from allin.errors import AllinError, NotFound
from allin.onboarding.path_records import PathProgress
from allin.onboarding.service import OnboardingService
from allin.storage.db import Database
from allin.storage.onboarding import OnboardingStore
from allin.storage.users import UserRepository
from allin.terminal import console, load_settings

onboarding_app = typer.Typer(help="Onboarding paths and newcomers' progress.")

_MARKS = {"done": "[green]✓[/green]", "suggested": "[yellow]?[/yellow]", "todo": " "}


@onboarding_app.command("status")
def status(
    user: Annotated[str, typer.Option("--user", help="The user's email (or id).")],
) -> None:
    """A user's progress on every path: stages, steps, and the next step."""

    async def main() -> list[PathProgress]:
        settings = load_settings(voice=False)
        db = await Database.open(settings)
        try:
            users = UserRepository(db)
            found = await users.by_email(user) or await users.by_id(user)
            if found is None:
                raise NotFound(f"no user with the email {user!r}")
            service = OnboardingService(OnboardingStore(db), settings.onboarding_stuck_after_s)
            return await service.progress(found.id, start=False)
        finally:
            await db.close()

    try:
        paths = asyncio.run(main())
    except AllinError as error:
        console.print(f"[red]{error.message}[/red]", highlight=False)
        raise typer.Exit(1) from None
    if not paths:
        console.print("No onboarding paths yet: add ONBOARDING.md to a synced repository.")
    for path in paths:
        _show(path)


def _show(path: PathProgress) -> None:
    console.print(
        f"[bold]{path.title}[/bold] ({path.repository} › {path.file_path}): "
        f"{path.done} of {path.total} steps, {path.percent}%; "
        f"stage {path.stage_number} of {path.stage_count}",
        highlight=False,
    )
    for stage in path.stages:
        console.print(
            f"  {stage.number}. {stage.title} ({stage.done}/{stage.total})", highlight=False
        )
        for step in stage.steps:
            owner = f" (owner: {step.owner})" if step.owner else ""
            console.print(f"     [{_MARKS[step.state]}] {step.title}{owner}", highlight=False)
    if path.next is not None:
        step = path.next.step
        owner = f" (owner: {step.owner})" if step.owner else ""
        console.print(f"  Next: {step.title}{owner}", highlight=False)
    else:
        console.print("  Done: every step is ticked.")
    for problem in path.problems:
        console.print(f"  [red]The path file has a problem:[/red] {problem}", highlight=False)

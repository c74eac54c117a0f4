"""`allin gaps` (the knowledge-gap report) and `allin eval-abstention` (calibrating when Allin
says "not found"), on the same database as the running app."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from allin.errors import AllinError
from allin.terminal import console, load_settings, progress_bar, without_workers

if TYPE_CHECKING:
    from allin.trust.calibration import Probe, Scored
    from allin.trust.gaps import GapReport

# The report as the command line's operator sees it: everyone's questions, with who asked.
CLI_VIEWER = "cli"


def gaps(
    since: Annotated[str, typer.Option(help="How far back: 30d, 12h, 2w or an ISO date.")] = "30d",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """The knowledge-gap report: unanswered questions and thumbs-down answers, by topic."""
    from allin.trust.gaps import parse_since

    try:
        moment = parse_since(since)
    except AllinError as exc:
        console.print(f"[red]{escape(exc.message)}[/red]")
        raise typer.Exit(2) from None
    report = asyncio.run(_report(moment))
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    _print(report)


async def _report(since: object) -> GapReport:
    from datetime import datetime

    from allin.services import Services
    from allin.trust.gaps import GapReporter

    assert isinstance(since, datetime)
    services = await Services.start(without_workers(load_settings(voice=False)))
    try:
        reporter = GapReporter(
            services.trust, services.embedder, services.retriever, services.experts
        )
        return await reporter.report(since, viewer_id=CLI_VIEWER, with_identities=True)
    finally:
        await services.stop()


def _print(report: GapReport) -> None:
    console.print(
        f"[bold]{report.questions} question(s) since {report.since:%Y-%m-%d %H:%M} UTC, "
        f"{len(report.groups)} topic(s)[/bold]"
    )
    for n, group in enumerate(report.groups, 1):
        console.print(
            f"\n[bold]{n}. {escape(group.topic)}[/bold]  asked {group.asked}× "
            f"({group.unanswered} unanswered, {group.thumbs_down} thumbs down), "
            f"last {group.last_at:%Y-%m-%d}"
        )
        for question in group.questions:
            comment = f" — “{escape(question.comment)}”" if question.comment else ""
            console.print(f"   • [{question.reason}] {escape(question.question)}{comment}")
        for source in group.nearest:
            console.print(f"   nearest: {escape(source.location)} ({source.similarity:.2f})")
        for owner in group.suggested_owners:
            console.print(f"   ask: {escape(owner.name)} ({'; '.join(owner.reasons)})")


def eval_abstention(
    corpus: Annotated[Path, typer.Option(exists=True, file_okay=False, help="Documents.")],
    repository: Annotated[
        Path | None, typer.Option(exists=True, file_okay=False, help="A git work tree to sync.")
    ] = None,
    dev_answerable: Annotated[list[Path], typer.Option(exists=True, dir_okay=False)] = [],  # noqa: B006
    dev_unanswerable: Annotated[list[Path], typer.Option(exists=True, dir_okay=False)] = [],  # noqa: B006
    test_answerable: Annotated[list[Path], typer.Option(exists=True, dir_okay=False)] = [],  # noqa: B006
    test_unanswerable: Annotated[list[Path], typer.Option(exists=True, dir_okay=False)] = [],  # noqa: B006
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the scores here.")] = None,
) -> None:
    """Calibrate the abstention threshold on the dev sets and report abstention precision and
    recall (and the answerable questions still answered) on dev and test."""
    from allin.trust.calibration import choose_thresholds, load_probes, measure, write_scores

    sets = {
        name: [(p, answerable) for path in paths for p in load_probes(path)]
        for name, paths, answerable in (
            ("dev", dev_answerable, True),
            ("dev-u", dev_unanswerable, False),
            ("test", test_answerable, True),
            ("test-u", test_unanswerable, False),
        )
    }
    dev_probes = sets["dev"] + sets["dev-u"]
    test_probes = sets["test"] + sets["test-u"]
    dev, test = asyncio.run(_score(corpus, repository, dev_probes, test_probes))
    below, unknown_below = choose_thresholds(dev)
    report: dict[str, object] = {"threshold": below, "unknown_word_threshold": unknown_below}
    for name, scored in (("dev", dev), ("test", test), ("all", dev + test)):
        if scored:
            measured = measure(scored, below, unknown_below)
            report[name] = asdict(measured)
            console.print(
                f"{name}: thresholds {below:.3f} / {unknown_below:.3f} (unknown word): "
                f"abstention precision {measured.precision:.3f}, recall {measured.recall:.3f} "
                f"({measured.unanswerable} unanswerable); answerable still answered "
                f"{measured.answerable_answered:.3f} ({measured.answerable})"
            )
    if json_out:
        write_scores(json_out, dev + test, report)


async def _score(
    corpus: Path,
    repository: Path | None,
    dev: list[tuple[Probe, bool]],
    test: list[tuple[Probe, bool]],
) -> tuple[list[Scored], list[Scored]]:
    from allin.rag.files import discover
    from allin.rag.hybrid import Scope
    from allin.services import Services

    services = await Services.start(without_workers(load_settings(voice=False)))
    owner = f"eval-{uuid.uuid4().hex[:12]}"
    registered = None
    try:
        with progress_bar() as progress:
            found = discover([str(corpus)])
            task = progress.add_task("ingesting", total=len(found.files))
            for file in found.files:
                await services.ingestor.ingest(
                    owner_id=owner, name=file.name, data=file.path.read_bytes()
                )
                progress.update(task, description=file.name, advance=1)
            if repository is not None:
                registered = await services.repositories.register(
                    "eval", str(repository), f"eval-{uuid.uuid4().hex[:8]}", None
                )

                async def synced(phase: str, done: int, total: int) -> None:
                    progress.update(task, description=phase, completed=done, total=total)

                await services.repositories.sync_now(registered.id, synced)
            scope = Scope(owner)
            scored = []
            asking = progress.add_task("asking", total=len(dev) + len(test))
            for probe, answerable in dev + test:
                passages = await services.retriever.ranked(scope, probe.question) or []
                best = max((p.similarity for p in passages), default=-1.0)
                unknown = await services.trust.unknown_words(scope, probe.question)
                scored.append(_scored(probe, answerable, best, len(unknown)))
                progress.advance(asking)
        return scored[: len(dev)], scored[len(dev) :]
    finally:
        for document in await services.documents.delete_owned(owner):
            await services.ingestor.delete_blob(document)
        if registered is not None:
            await services.repositories.remove(registered.id)
        await services.stop()


def _scored(probe: Probe, answerable: bool, best: float, unknown: int) -> Scored:
    from allin.trust.calibration import Scored

    return Scored(probe.id, answerable, best, unknown)

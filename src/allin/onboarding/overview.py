"""The admins' team overview of a path: who is on which stage, the steps where people wait the
longest, and the median time a step takes. Progress only: never what anyone asked.

A step's time is from the user's previous tick on the path (or from when they first saw the
path) to its own tick: the time it took them to get to it and do it."""

from __future__ import annotations

from datetime import UTC, datetime
from statistics import median

from pydantic import BaseModel

from allin.onboarding.path_records import StoredPath
from allin.onboarding.progress import path_progress
from allin.storage.onboarding import MemberProgress


class MemberRow(BaseModel):
    user_id: str
    email: str | None
    stage_number: int
    stage_count: int
    stage: str | None
    done: int
    total: int
    next_step: str | None
    # Since their last tick (or since they started): how long the next step has waited.
    waiting_since: datetime | None


class StepStats(BaseModel):
    slug: str
    title: str
    stage: str
    done: int
    suggested: int
    # Members whose next step this is, and those of them waiting longer than "stuck".
    waiting: int
    stuck: int
    median_seconds: float | None


class PathOverview(BaseModel):
    path_id: str
    title: str | None
    repository: str
    file_path: str
    problems: list[str]
    members: list[MemberRow]
    steps: list[StepStats]
    # Slugs of the steps people are stuck on, most stuck first.
    stuck: list[str]


def overview_of(
    path: StoredPath, team: list[MemberProgress], stuck_after_s: float, now: datetime | None = None
) -> PathOverview:
    now = now or datetime.now(UTC)
    if path.definition is None:
        return PathOverview(
            path_id=path.id,
            title=None,
            repository=path.repository,
            file_path=path.file_path,
            problems=path.problems,
            members=[],
            steps=[],
            stuck=[],
        )
    slugs = {step.slug for step in path.definition.steps()}
    members: list[MemberRow] = []
    durations: dict[str, list[float]] = {slug: [] for slug in slugs}
    waiting: dict[str, int] = dict.fromkeys(slugs, 0)
    stuck: dict[str, int] = dict.fromkeys(slugs, 0)
    for member in team:
        progress = path_progress(path, member.steps)
        ticks = sorted(
            (p.done_at, slug)
            for slug, p in member.steps.items()
            if p.state == "done" and p.done_at is not None and slug in slugs
        )
        previous = member.started_at
        for done_at, slug in ticks:
            if previous is not None and done_at >= previous:
                durations[slug].append((done_at - previous).total_seconds())
            previous = done_at
        waiting_since = ticks[-1][0] if ticks else member.started_at
        next_step = progress.next
        if next_step is not None:
            waiting[next_step.step.slug] += 1
            if waiting_since and (now - waiting_since).total_seconds() > stuck_after_s:
                stuck[next_step.step.slug] += 1
        members.append(
            MemberRow(
                user_id=member.user_id,
                email=member.email,
                stage_number=progress.stage_number,
                stage_count=progress.stage_count,
                stage=next_step.stage if next_step else None,
                done=progress.done,
                total=progress.total,
                next_step=next_step.step.title if next_step else None,
                waiting_since=waiting_since if next_step else None,
            )
        )
    steps = [
        StepStats(
            slug=step.slug,
            title=step.title,
            stage=stage.title,
            done=sum(_state(m, step.slug) == "done" for m in team),
            suggested=sum(_state(m, step.slug) == "suggested" for m in team),
            waiting=waiting[step.slug],
            stuck=stuck[step.slug],
            median_seconds=round(median(durations[step.slug]), 1) if durations[step.slug] else None,
        )
        for stage in path.definition.stages
        for step in stage.steps
    ]
    return PathOverview(
        path_id=path.id,
        title=path.definition.title,
        repository=path.repository,
        file_path=path.file_path,
        problems=path.problems,
        members=members,
        steps=steps,
        stuck=[s.slug for s in sorted(steps, key=lambda s: (-s.stuck, -s.waiting)) if s.stuck],
    )


def _state(member: MemberProgress, slug: str) -> str:
    progress = member.steps.get(slug)
    return progress.state if progress else "todo"

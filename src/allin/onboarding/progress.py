"""A user's progress through a path, from the path's steps and what they ticked: stages with
their steps' states, the stage they are on, and their next step.

Progress on a step that left the path is kept (the step may come back) but not counted."""

from __future__ import annotations

from allin.onboarding.path_records import (
    NextStep,
    PathProgress,
    StageView,
    StepProgress,
    StepView,
    StoredPath,
)


def path_progress(path: StoredPath, steps: dict[str, StepProgress]) -> PathProgress:
    assert path.definition is not None
    stages: list[StageView] = []
    for number, stage in enumerate(path.definition.stages, 1):
        views = [_step_view(step.model_dump(), steps.get(step.slug)) for step in stage.steps]
        done = sum(view.state == "done" for view in views)
        stages.append(
            StageView(
                slug=stage.slug,
                title=stage.title,
                number=number,
                steps=views,
                done=done,
                total=len(views),
            )
        )
    total = sum(stage.total for stage in stages)
    done = sum(stage.done for stage in stages)
    next_step: NextStep | None = None
    for view in stages:
        pending = next((step for step in view.steps if step.state != "done"), None)
        if pending is not None:
            next_step = NextStep(
                path_id=path.id,
                stage_number=view.number,
                stage_count=len(stages),
                stage=view.title,
                step=pending,
            )
            break
    return PathProgress(
        path_id=path.id,
        title=path.definition.title,
        repository_id=path.repository_id,
        repository=path.repository,
        file_path=path.file_path,
        commit_sha=path.commit_sha,
        stages=stages,
        done=done,
        total=total,
        percent=round(100 * done / total) if total else 100,
        # Everyone finished is on the last stage, done.
        stage_number=next_step.stage_number if next_step else len(stages),
        stage_count=len(stages),
        next=next_step,
        problems=path.problems,
    )


def _step_view(step: dict[str, object], progress: StepProgress | None) -> StepView:
    if progress is None:
        return StepView.model_validate(step)
    return StepView.model_validate({**step, **progress.model_dump()})

"""The shapes of a parsed onboarding path and of a user's progress, as stored and as the API
returns them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

LinkKind = Literal["file", "url"]
StepState = Literal["todo", "suggested", "done"]


class Link(BaseModel):
    text: str
    kind: LinkKind
    # A repository path for a file link (from the repository's root); the URL otherwise.
    target: str
    start_line: int | None = None
    end_line: int | None = None


class Step(BaseModel):
    # Progress is keyed by this: it survives edits of the wording around it and of the stage.
    slug: str
    title: str
    detail: str = ""
    owner: str | None = None
    links: list[Link] = Field(default_factory=list)
    prompts: list[str] = Field(default_factory=list)
    line: int = 0


class Stage(BaseModel):
    slug: str
    title: str
    steps: list[Step]


class PathDefinition(BaseModel):
    title: str
    stages: list[Stage]

    def steps(self) -> list[Step]:
        return [step for stage in self.stages for step in stage.steps]


class ParseReport(BaseModel):
    """What a sync found in one path file: accepted, or rejected with every problem listed."""

    file_path: str
    accepted: bool
    problems: list[str] = Field(default_factory=list)
    steps: int = 0


class StoredPath(BaseModel):
    """An onboarding path as stored: its last good definition, and the last rejected version's
    problems while the file is broken."""

    id: str
    repository_id: str
    repository: str
    file_path: str
    commit_sha: str | None
    blob_sha: str | None
    definition: PathDefinition | None
    problems: list[str]
    rejected_blob_sha: str | None
    updated_at: datetime


class StepProgress(BaseModel):
    state: StepState
    suggested_at: datetime | None = None
    done_at: datetime | None = None
    evidence: dict[str, Any] | None = None


class StepView(Step):
    state: StepState = "todo"
    suggested_at: datetime | None = None
    done_at: datetime | None = None
    evidence: dict[str, Any] | None = None


class StageView(BaseModel):
    slug: str
    title: str
    number: int
    steps: list[StepView]
    done: int
    total: int


class NextStep(BaseModel):
    path_id: str
    stage_number: int
    stage_count: int
    stage: str
    step: StepView


class PathProgress(BaseModel):
    """One user's progress through one path."""

    path_id: str
    title: str
    repository_id: str
    repository: str
    file_path: str
    # The commit the path was read at: its file links open the code view there.
    commit_sha: str | None
    stages: list[StageView]
    done: int
    total: int
    percent: int
    stage_number: int
    stage_count: int
    next: NextStep | None
    problems: list[str]


class Pitch(BaseModel):
    """Who an answer was pitched at, as the UI shows it: "Answered for: backend, Python; stage 2
    of 4"."""

    answered_for: str
    stage_number: int | None = None
    stage_count: int | None = None
    next_step: str | None = None

    def line(self) -> str:
        stage = (
            f"stage {self.stage_number} of {self.stage_count}"
            if self.stage_number is not None and self.stage_count
            else None
        )
        return "Answered for: " + "; ".join(p for p in (self.answered_for, stage) if p)

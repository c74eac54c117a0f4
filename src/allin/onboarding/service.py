"""What can be done with onboarding paths, whoever asks (the API, the CLI, the prompt): a user's
progress and next step, ticking and un-ticking steps, confirming a suggestion, and the admins'
team overview."""

from __future__ import annotations

from allin.errors import NotFound
from allin.onboarding.overview import PathOverview, overview_of
from allin.onboarding.path_records import NextStep, PathProgress, StoredPath
from allin.onboarding.progress import path_progress
from allin.storage.onboarding import OnboardingStore


class OnboardingService:
    def __init__(self, store: OnboardingStore, stuck_after_s: float) -> None:
        self.store = store
        self._stuck_after_s = stuck_after_s

    async def progress(self, user_id: str, *, start: bool = True) -> list[PathProgress]:
        """The user's progress on every path on offer. Seeing a path starts it: its first step's
        time counts from then (`start=False` for readers other than the user)."""
        paths = await self.store.paths()
        if start:
            await self.store.start(user_id, [path.id for path in paths])
        mine = await self.store.progress(user_id)
        return [path_progress(path, mine.get(path.id, {})) for path in paths]

    async def next_step(self, user_id: str) -> tuple[PathProgress, NextStep] | None:
        """The next step of the first path the user has not finished."""
        for progress in await self.progress(user_id, start=False):
            if progress.next is not None:
                return progress, progress.next
        return None

    async def set_step(self, user_id: str, path_id: str, slug: str, done: bool) -> PathProgress:
        """Tick a step (or confirm a suggestion), or un-tick it (or dismiss a suggestion)."""
        path = await self._step_of(path_id, slug)
        if done:
            await self.store.mark_done(user_id, path_id, slug)
        else:
            await self.store.mark_todo(user_id, path_id, slug)
        await self.store.start(user_id, [path_id])
        mine = await self.store.progress(user_id)
        return path_progress(path, mine.get(path_id, {}))

    async def overview(self) -> list[PathOverview]:
        """Team-wide: who is on which stage, where people get stuck, how long steps take."""
        return [
            overview_of(path, await self.store.team(path.id), self._stuck_after_s)
            for path in await self.store.paths(with_broken=True)
        ]

    async def _step_of(self, path_id: str, slug: str) -> StoredPath:
        path = await self.store.path(path_id)
        assert path.definition is not None
        if all(step.slug != slug for step in path.definition.steps()):
            raise NotFound(f"the path has no step {slug!r}")
        return path

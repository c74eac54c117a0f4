"""All SQL about onboarding paths, each user's progress through them, and the chats whose
answers are not pitched at the user."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from allin.errors import NotFound
from allin.onboarding.path_records import PathDefinition, Pitch, StepProgress, StoredPath
from allin.storage.db import Database

_PATHS = (
    "select p.*, r.name as repository from onboarding_paths p"
    " join repositories r on r.id = p.repository_id"
)


@dataclass(frozen=True, slots=True)
class KnownFile:
    """What the last sync read of a path file: the good blob and the refused one."""

    blob_sha: str | None
    rejected_blob_sha: str | None
    removed: bool


@dataclass(frozen=True, slots=True)
class MemberProgress:
    user_id: str
    email: str | None
    started_at: datetime | None
    steps: dict[str, StepProgress]


class OnboardingStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # Paths

    async def known_files(self, repository_id: str) -> dict[str, KnownFile]:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select file_path, blob_sha, rejected_blob_sha, removed from onboarding_paths"
                " where repository_id = %s",
                (repository_id,),
            )
            rows = await cursor.fetchall()
        return {
            r["file_path"]: KnownFile(r["blob_sha"], r["rejected_blob_sha"], r["removed"])
            for r in rows
        }

    async def save_good(
        self,
        repository_id: str,
        file_path: str,
        blob_sha: str,
        commit_sha: str,
        definition: PathDefinition,
    ) -> None:
        async with self._db.pool.connection() as conn:
            await conn.execute(
                "insert into onboarding_paths"
                " (repository_id, file_path, blob_sha, commit_sha, definition)"
                " values (%s, %s, %s, %s, %s)"
                " on conflict (repository_id, file_path) do update set"
                " blob_sha = excluded.blob_sha, commit_sha = excluded.commit_sha,"
                " definition = excluded.definition, problems = '[]'::jsonb,"
                " rejected_blob_sha = null, removed = false, updated_at = now()",
                (repository_id, file_path, blob_sha, commit_sha, Jsonb(definition.model_dump())),
            )

    async def save_rejected(
        self, repository_id: str, file_path: str, blob_sha: str, problems: Sequence[str]
    ) -> None:
        """Record why the newest version was refused; the last good definition stays."""
        async with self._db.pool.connection() as conn:
            await conn.execute(
                "insert into onboarding_paths"
                " (repository_id, file_path, problems, rejected_blob_sha)"
                " values (%s, %s, %s, %s)"
                " on conflict (repository_id, file_path) do update set"
                " problems = excluded.problems, rejected_blob_sha = excluded.rejected_blob_sha,"
                " removed = false, updated_at = now()",
                (repository_id, file_path, Jsonb(list(problems)), blob_sha),
            )

    async def mark_removed(self, repository_id: str, file_paths: Sequence[str]) -> None:
        if not file_paths:
            return
        async with self._db.pool.connection() as conn:
            await conn.execute(
                "update onboarding_paths set removed = true, updated_at = now()"
                " where repository_id = %s and file_path = any(%s)",
                (repository_id, list(file_paths)),
            )

    async def paths(self, *, with_broken: bool = False) -> list[StoredPath]:
        """The paths on offer (those with a good version), by repository and file; with
        `with_broken`, also files never read successfully (for the admins' report)."""
        condition = "" if with_broken else " and p.definition is not null"
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                _PATHS + " where not p.removed" + condition + " order by r.name, p.file_path"
            )
            return [_stored(row) for row in await cursor.fetchall()]

    async def path(self, path_id: str) -> StoredPath:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(_PATHS + " where p.id = %s", (path_id,))
            row = await cursor.fetchone()
        if row is None or row["definition"] is None:
            raise NotFound(f"onboarding path {path_id!r} does not exist")
        return _stored(row)

    # Progress

    async def start(self, user_id: str, path_ids: Sequence[str]) -> None:
        if not path_ids:
            return
        async with self._db.pool.connection() as conn:
            await conn.execute(
                "insert into onboarding_starts (user_id, path_id)"
                " select %s, unnest(%s::text[]) on conflict do nothing",
                (user_id, list(path_ids)),
            )

    async def progress(self, user_id: str) -> dict[str, dict[str, StepProgress]]:
        """path id → step slug → progress, for the steps a user ticked or was suggested."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select * from onboarding_progress where user_id = %s", (user_id,)
            )
            rows = await cursor.fetchall()
        found: dict[str, dict[str, StepProgress]] = {}
        for row in rows:
            found.setdefault(row["path_id"], {})[row["step_slug"]] = _progress(row)
        return found

    async def mark_done(self, user_id: str, path_id: str, slug: str) -> None:
        async with self._db.pool.connection() as conn:
            await conn.execute(
                "insert into onboarding_progress (user_id, path_id, step_slug, state, done_at)"
                " values (%s, %s, %s, 'done', now())"
                " on conflict (user_id, path_id, step_slug) do update set"
                " state = 'done', done_at = coalesce(onboarding_progress.done_at, now())",
                (user_id, path_id, slug),
            )

    async def mark_todo(self, user_id: str, path_id: str, slug: str) -> None:
        """Un-tick a step, or dismiss a suggestion."""
        async with self._db.pool.connection() as conn:
            await conn.execute(
                "delete from onboarding_progress"
                " where user_id = %s and path_id = %s and step_slug = %s",
                (user_id, path_id, slug),
            )

    async def suggest(
        self, user_id: str, path_id: str, slug: str, evidence: dict[str, Any]
    ) -> bool:
        """Suggest a step as done; a step already done or suggested is left as it is."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "insert into onboarding_progress"
                " (user_id, path_id, step_slug, state, evidence, suggested_at)"
                " values (%s, %s, %s, 'suggested', %s, now())"
                " on conflict do nothing returning step_slug",
                (user_id, path_id, slug, Jsonb(evidence)),
            )
            return await cursor.fetchone() is not None

    async def team(self, path_id: str) -> list[MemberProgress]:
        """Everyone who started the path or has progress on it; emails where accounts are local."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "with members as ("
                "  select user_id from onboarding_starts where path_id = %(path)s"
                "  union select user_id from onboarding_progress where path_id = %(path)s)"
                " select m.user_id, u.email, s.started_at,"
                "  coalesce(jsonb_agg(to_jsonb(p)) filter (where p.step_slug is not null),"
                "           '[]'::jsonb) as steps"
                " from members m"
                " left join users u on u.id::text = m.user_id"
                " left join onboarding_starts s on s.user_id = m.user_id and s.path_id = %(path)s"
                " left join onboarding_progress p"
                "   on p.user_id = m.user_id and p.path_id = %(path)s"
                " group by m.user_id, u.email, s.started_at order by u.email, m.user_id",
                {"path": path_id},
            )
            rows = await cursor.fetchall()
        return [
            MemberProgress(
                user_id=row["user_id"],
                email=row["email"],
                started_at=row["started_at"],
                steps={s["step_slug"]: StepProgress.model_validate(s) for s in row["steps"]},
            )
            for row in rows
        ]

    # Chats not pitched at the user

    async def pitched(self, user_id: str, chat_id: str) -> bool:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select 1 from onboarding_unpitched_chats where user_id = %s and chat_id = %s",
                (user_id, chat_id),
            )
            return await cursor.fetchone() is None

    async def set_pitched(self, user_id: str, chat_id: str, pitched: bool) -> None:
        async with self._db.pool.connection() as conn:
            if pitched:
                await conn.execute(
                    "delete from onboarding_unpitched_chats where user_id = %s and chat_id = %s",
                    (user_id, chat_id),
                )
            else:
                await conn.execute(
                    "insert into onboarding_unpitched_chats (user_id, chat_id)"
                    " values (%s, %s) on conflict do nothing",
                    (user_id, chat_id),
                )

    # Who answers were pitched at

    async def record_pitch(
        self, question_id: int, user_id: str, chat_id: str, pitch: Pitch
    ) -> None:
        async with self._db.pool.connection() as conn:
            await conn.execute(
                "insert into onboarding_pitches (question_id, user_id, chat_id, answered_for,"
                " stage_number, stage_count, next_step) values (%s, %s, %s, %s, %s, %s, %s)"
                " on conflict (question_id) do update set answered_for = excluded.answered_for,"
                " stage_number = excluded.stage_number, stage_count = excluded.stage_count,"
                " next_step = excluded.next_step",
                (
                    question_id,
                    user_id,
                    chat_id,
                    pitch.answered_for,
                    pitch.stage_number,
                    pitch.stage_count,
                    pitch.next_step,
                ),
            )

    async def pitches(self, user_id: str, chat_id: str) -> dict[int, Pitch]:
        """question id → who its answer was pitched at, in one chat."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select * from onboarding_pitches where user_id = %s and chat_id = %s",
                (user_id, chat_id),
            )
            rows = await cursor.fetchall()
        return {
            row["question_id"]: Pitch(
                answered_for=row["answered_for"],
                stage_number=row["stage_number"],
                stage_count=row["stage_count"],
                next_step=row["next_step"],
            )
            for row in rows
        }


def _stored(row: dict[str, Any]) -> StoredPath:
    definition = row["definition"]
    return StoredPath(
        id=row["id"],
        repository_id=row["repository_id"],
        repository=row["repository"],
        file_path=row["file_path"],
        commit_sha=row["commit_sha"],
        blob_sha=row["blob_sha"],
        definition=PathDefinition.model_validate(definition) if definition else None,
        problems=row["problems"],
        rejected_blob_sha=row["rejected_blob_sha"],
        updated_at=row["updated_at"],
    )


def _progress(row: dict[str, Any]) -> StepProgress:
    return StepProgress(
        state=row["state"],
        suggested_at=row["suggested_at"],
        done_at=row["done_at"],
        evidence=row["evidence"],
    )

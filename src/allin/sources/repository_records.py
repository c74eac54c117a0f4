"""The stored shape of a repository, as the API returns it (never with credentials: a private
remote's token is a setting, not part of the URL)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

RepositoryStatus = Literal["pending", "syncing", "ready", "failed"]


class Repository(BaseModel):
    id: str
    name: str
    url: str
    branch: str
    status: RepositoryStatus
    head_commit: str | None
    head_committed_at: datetime | None
    synced_at: datetime | None
    file_count: int
    chunk_count: int
    report: dict[str, Any]
    progress: dict[str, Any] | None
    error: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    job_id: int | None = None
    job_status: str | None = None

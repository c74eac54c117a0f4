"""All SQL of the trust layer: what a sync learned from a repository's history (file commits,
CODEOWNERS, stale-citation links), read back at question time, and the questions Allin could
not answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from allin.rag.hybrid import Scope
from allin.sources.git import CommitInfo
from allin.storage.db import Database
from allin.storage.repositories import live_owner
from allin.trust.staleness import StaleLink


@dataclass(frozen=True, slots=True)
class IndexedText:
    """An indexed file of a repository as its chunks hold it, with its newest commit."""

    path: str
    language: str | None
    last_commit: CommitInfo
    symbols: tuple[str, ...]
    text: str


@dataclass(frozen=True, slots=True)
class FileCommit:
    repository_id: str
    repository: str
    path: str
    commit: CommitInfo


@dataclass(frozen=True, slots=True)
class Uploader:
    document_id: str
    document: str
    owner_id: str
    email: str | None


@dataclass(frozen=True, slots=True)
class Freshness:
    """When a document's text last changed and who changed it: a repository file's newest
    commit and its author, or an upload's last update and the uploader's e-mail."""

    updated_at: datetime | None
    updated_by: str | None


class TrustStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def indexed_texts(self, repository_id: str) -> list[IndexedText]:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                """
                select d.name as path, f.language, f.commit_sha, f.committed_at, f.author_name,
                       f.author_email,
                       array_remove(array_agg(distinct c.meta ->> 'symbol'), null) as symbols,
                       coalesce(string_agg(c.content, E'\\n' order by c.ord), '') as text
                from documents d
                join repository_files f on f.document_id = d.id
                left join document_chunks c on c.document_id = d.id
                where d.owner_id = %s
                group by d.name, f.language, f.commit_sha, f.committed_at, f.author_name,
                         f.author_email
                """,
                (live_owner(repository_id),),
            )
            rows = await cursor.fetchall()
        return [
            IndexedText(
                path=row["path"],
                language=row["language"],
                last_commit=CommitInfo(
                    row["commit_sha"], row["committed_at"], row["author_name"], row["author_email"]
                ),
                symbols=tuple(row["symbols"]),
                text=row["text"],
            )
            for row in rows
        ]

    async def refreshed_at_commit(self, repository_id: str) -> str | None:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select commit_sha from repository_trust where repository_id = %s",
                (repository_id,),
            )
            row = await cursor.fetchone()
        return row["commit_sha"] if row else None

    async def replace(
        self,
        repository_id: str,
        head: str,
        codeowners: Sequence[dict[str, object]],
        file_commits: Sequence[tuple[str, CommitInfo]],
        links: Sequence[StaleLink],
    ) -> None:
        """Swap in what one sync learned, at once: readers see the previous head's or this one's."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "select 1 from repositories where id = %s for update", (repository_id,)
            )
            await conn.execute(
                "delete from repository_file_commits where repository_id = %s", (repository_id,)
            )
            await conn.execute(
                "delete from stale_citations where repository_id = %s", (repository_id,)
            )
            async with conn.cursor() as cursor:
                async with cursor.copy(
                    "copy repository_file_commits (repository_id, path, commit_sha, committed_at,"
                    " author_name, author_email) from stdin"
                ) as copy:
                    for path, commit in file_commits:
                        await copy.write_row(
                            (
                                repository_id,
                                path,
                                commit.sha,
                                commit.committed_at,
                                commit.author_name,
                                commit.author_email,
                            )
                        )
                await cursor.executemany(
                    "insert into stale_citations (repository_id, doc_path, code_path, names,"
                    " commits_since, newest_commit, newest_committed_at, newest_author,"
                    " doc_commit, doc_committed_at)"
                    " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [
                        (
                            repository_id,
                            link.doc_path,
                            link.change.code_path,
                            list(link.change.names),
                            link.change.commits_since,
                            link.change.newest.sha,
                            link.change.newest.committed_at,
                            link.change.newest.author_name,
                            link.doc_commit.sha,
                            link.doc_commit.committed_at,
                        )
                        for link in links
                    ],
                )
            await conn.execute(
                "insert into repository_trust (repository_id, commit_sha, codeowners)"
                " values (%s, %s, %s) on conflict (repository_id) do update"
                " set commit_sha = excluded.commit_sha, codeowners = excluded.codeowners,"
                " refreshed_at = now()",
                (repository_id, head, Jsonb(list(codeowners))),
            )

    async def stale_links(
        self, files: Sequence[tuple[str, str]] = (), *, repository_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The warnings of these (repository id, doc path) pairs, or of a whole repository; most
        commits first."""
        async with self._db.pool.connection() as conn:
            if repository_id is not None:
                cursor = await conn.execute(
                    "select * from stale_citations where repository_id = %s"
                    " order by doc_path, commits_since desc, code_path",
                    (repository_id,),
                )
            else:
                cursor = await conn.execute(
                    "select s.* from stale_citations s"
                    " join unnest(%s::text[], %s::text[]) as w(repository_id, doc_path)"
                    " using (repository_id, doc_path)"
                    " order by s.commits_since desc, s.code_path",
                    ([r for r, _ in files], [p for _, p in files]),
                )
            return [dict(row) for row in await cursor.fetchall()]

    async def codeowners(self, repository_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select repository_id, codeowners from repository_trust"
                " where repository_id = any(%s)",
                (list(repository_ids),),
            )
            return {row["repository_id"]: row["codeowners"] for row in await cursor.fetchall()}

    async def file_commits(self, files: Sequence[tuple[str, str]]) -> list[FileCommit]:
        """The stored commits of these (repository id, path) files, newest first."""
        if not files:
            return []
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select c.*, r.name as repository from repository_file_commits c"
                " join unnest(%s::text[], %s::text[]) as w(repository_id, path)"
                " using (repository_id, path)"
                " join repositories r on r.id = c.repository_id"
                " order by c.committed_at desc",
                ([r for r, _ in files], [p for _, p in files]),
            )
            rows = await cursor.fetchall()
        return [
            FileCommit(
                row["repository_id"],
                row["repository"],
                row["path"],
                CommitInfo(
                    row["commit_sha"], row["committed_at"], row["author_name"], row["author_email"]
                ),
            )
            for row in rows
        ]

    async def freshness(self, document_id: str) -> Freshness:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select case when d.repository_id is null then d.updated_at"
                "            else f.committed_at end as updated_at,"
                "       case when d.repository_id is null then u.email"
                "            else f.author_name end as updated_by"
                " from documents d left join repository_files f on f.document_id = d.id"
                " left join users u on u.id = d.owner_id where d.id = %s",
                (document_id,),
            )
            row = await cursor.fetchone()
        return Freshness(**row) if row else Freshness(None, None)

    async def uploaders(self, document_ids: Sequence[str]) -> list[Uploader]:
        """Who uploaded these documents (a local account's e-mail when there is one)."""
        if not document_ids:
            return []
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select d.id, d.name, d.owner_id, u.email from documents d"
                " left join users u on u.id = d.owner_id"
                " where d.id = any(%s) and d.repository_id is null",
                (list(document_ids),),
            )
            rows = await cursor.fetchall()
        return [Uploader(r["id"], r["name"], r["owner_id"], r["email"]) for r in rows]

    async def unknown_words(self, scope: Scope, text: str) -> list[str]:
        """The words of `text` (as full-text search stems them, stop words left out) that no
        document in `scope` contains: "kubernetes" in a team whose documents never say it is
        a strong sign that they cannot answer the question."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                """
                select t.lexeme from unnest(to_tsvector('english', %(text)s)) t
                where length(t.lexeme) > 2 and not exists (
                    select 1 from document_chunks c join documents d on d.id = c.document_id
                    where c.tsv @@ plainto_tsquery('simple', t.lexeme)
                    and d.status = 'ready'
                    and (d.owner_id = %(owner)s or (%(shared)s and d.shared))
                )
                order by t.lexeme
                """,
                {"text": text, "owner": scope.owner_id, "shared": scope.include_shared},
            )
            return [row["lexeme"] for row in await cursor.fetchall()]

    async def record_unanswered(
        self,
        question_turn_id: int,
        user_id: str,
        chat_id: str,
        question: str,
        kind: str,
        best_similarity: float | None,
        experts: Sequence[dict[str, Any]],
    ) -> None:
        async with self._db.pool.connection() as conn:
            await conn.execute(
                "insert into unanswered_questions (question_turn_id, user_id, chat_id, question,"
                " kind, best_similarity, experts) values (%s, %s, %s, %s, %s, %s, %s)"
                " on conflict (question_turn_id) do nothing",
                (
                    question_turn_id,
                    user_id,
                    chat_id,
                    question,
                    kind,
                    best_similarity,
                    Jsonb(list(experts)),
                ),
            )

    async def gap_inputs(self, since: datetime) -> list[dict[str, Any]]:
        """Questions answered with "nothing found" and answers rated down, since `since`: each
        with its question, who asked, when, and the comment of a thumbs down."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                """
                select 'unanswered' as reason, u.question_turn_id as turn_id, u.user_id,
                       u.question, null::text as comment, u.created_at as at
                from unanswered_questions u
                where u.kind = 'abstained' and u.created_at >= %s
                union all
                select 'thumbs_down', f.turn_id, f.user_id, q.content, f.comment, f.updated_at
                from turn_feedback f
                join chat_turns a on a.id = f.turn_id
                join chat_turns q on q.id = a.reply_to
                where f.rating = -1 and f.updated_at >= %s
                order by at desc
                """,
                (since, since),
            )
            return [dict(row) for row in await cursor.fetchall()]

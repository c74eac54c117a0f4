"""Syncing a repository: fetch its branch, compare the head's tree with what is indexed, embed
only the files whose content changed, and swap the result in at once.

The comparison is by blob id, not by replaying `git diff`: the index itself is the cursor's
truth, so an interrupted sync, a force-push or a changed skip rule all converge on the head's
tree. A file moved with its content untouched keeps its chunks and embeddings. Changed files are
staged (embedded, committed, invisible) one by one, so a killed sync resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from allin.embeddings.base import Embedder, TokenEmbedder
from allin.errors import AllinError, TooLarge
from allin.sources.code_chunks import SourceChunk, chunk_source_file
from allin.sources.embedding import chunk_embedding_text, piece_embedding_texts
from allin.sources.files import chunk_meta, read_entries, staged_file, tree_skip_reason
from allin.sources.git import CommitInfo, Git, TreeEntry
from allin.sources.languages import DOC_LANGUAGES, language_for
from allin.sources.roles import is_test_path
from allin.sources.selection import skip_reason
from allin.storage.documents import ChunkRow
from allin.storage.repositories import (
    IndexedFile,
    Move,
    RepositoryStore,
    StagedFile,
    SyncResult,
)
from allin.workers import run_in

logger = logging.getLogger(__name__)

# Chunks embedded per call, gathered across small files so the embedder works in full batches.
_EMBED_BATCH = 64
# Skipped paths kept as examples per reason in a sync's report.
_EXAMPLES = 5

Progress = Callable[[str, int, int], Awaitable[None]]
"""Called with (phase, done, total) as a sync advances."""

AfterSync = Callable[[str, Git, str], Awaitable[object]]
"""Called with (repository id, its mirror, the synced head) once a sync's index is in place:
what else learns from the new head (the trust layer's history, owners and stale links)."""


class SyncListener(Protocol):
    """Told of each sync's head tree before the result is stored (onboarding paths read their
    files then); what it returns goes into the sync's report under its name. One that fails is
    logged and skipped: it never fails the sync."""

    @property
    def name(self) -> str: ...

    async def synced(
        self, repository_id: str, git: Git, head: str, tree: Sequence[TreeEntry]
    ) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class SourcePolicy:
    max_file_bytes: int
    max_files: int
    chunk_tokens: int
    chunk_overlap: int
    # Code chunks hold whole functions where they can: a part of one rarely answers alone.
    code_chunk_tokens: int
    # A code chunk's pieces of this many tokens get vectors of their own; 0 for none.
    piece_tokens: int = 0

    @property
    def chunking(self) -> str:
        """How files are cut, as recorded per file: a file cut another way is indexed again."""
        return (
            f"prose {self.chunk_tokens}/{self.chunk_overlap}, code {self.code_chunk_tokens},"
            f" pieces {self.piece_tokens}"
        )


@dataclass
class _Plan:
    to_index: list[TreeEntry]
    removed: set[str]
    moves: list[tuple[str, TreeEntry]]
    unchanged: list[TreeEntry]
    live: set[str] = field(default_factory=set)
    skipped: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    # Files left out for their content (binary, generated, empty…): path → [blob id, reason],
    # carried from sync to sync so an unchanged one is not read again.
    content_skipped: dict[str, list[str]] = field(default_factory=dict)


class RepositorySync:
    def __init__(
        self,
        store: RepositoryStore,
        embedder: Embedder,
        mirrors: Path,
        policy: SourcePolicy,
        token: str | None = None,
        listeners: Sequence[SyncListener] = (),
        after_sync: AfterSync | None = None,
    ) -> None:
        self._listeners = tuple(listeners)
        self._store = store
        self._after_sync = after_sync
        self._embedder = embedder
        self._mirrors = mirrors
        self._policy = policy
        self._token = token

    def git(self, repository_id: str) -> Git:
        return Git(self._mirrors / f"{repository_id}.git", self._token)

    async def sync(
        self,
        repository_id: str,
        *,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Bring the repository's index to its branch's head; returns the sync's report. On any
        failure the previous index stays whole and the repository says why it failed."""
        repository = await self._store.get(repository_id)
        await self._store.mark_syncing(repository_id)
        try:
            result = await self._sync(
                repository_id,
                repository.url,
                repository.branch,
                repository.head_commit,
                repository.report.get("content_skipped", {}),
                progress,
            )
        except asyncio.CancelledError:
            await self._store.mark_failed(repository_id, "the sync was stopped before it ended")
            raise
        except AllinError as error:
            await self._store.mark_failed(repository_id, error.message)
            raise
        except Exception as exc:
            logger.exception("syncing repository %s failed", repository_id)
            await self._store.mark_failed(repository_id, f"internal error: {type(exc).__name__}")
            raise
        if self._after_sync is not None:
            try:
                await self._after_sync(repository_id, self.git(repository_id), result["commit"])
            except Exception:
                # The index is in place and searchable; what depends on it catches up next sync.
                logger.exception("after syncing repository %s", repository_id)
        return result

    async def _sync(
        self,
        repository_id: str,
        url: str,
        branch: str,
        previous: str | None,
        known_skips: dict[str, list[str]],
        progress: Progress | None,
    ) -> dict[str, Any]:
        started = time.perf_counter()
        report = _Reporter(progress)
        git = self.git(repository_id)
        await report.phase("fetching", 0, 1)
        head = await git.fetch(url, branch)
        head_info = await git.commit(head)
        mode, reason = await self._mode(git, previous, head)
        tree = await git.tree(head)
        plan = self._plan(tree, await self._store.live_files(repository_id), known_skips)
        if mode == "incremental" and not plan.to_index and not plan.removed and not plan.moves:
            result = {
                "mode": "unchanged",
                "commit": head,
                "reason": "already at the head",
                "skipped": {reason: len(paths) for reason, paths in sorted(plan.skipped.items())},
                "content_skipped": plan.content_skipped,
                **await self._tell_listeners(repository_id, git, head, tree),
            }
            if previous != head:
                await self._store.apply(repository_id, SyncResult(head_info, [], [], {}, result))
            else:
                await self._store.mark_unchanged(repository_id, result)
            return result
        since = previous if mode == "incremental" else None
        carried = len(plan.content_skipped)
        wanted = [e.path for e in plan.to_index] + [e.path for _, e in plan.moves]
        if mode == "full":
            wanted += [e.path for e in plan.unchanged]
        await report.phase("reading history", 0, 1)
        commits = await git.last_commits(head, wanted, since=since)
        embedded_chunks, embedded_pieces = await self._index(
            repository_id, git, plan, commits, head_info, report
        )
        summary: dict[str, Any] = {
            "mode": mode,
            "reason": reason,
            "commit": head,
            "previous_commit": previous,
            "indexed": len(plan.to_index) - (len(plan.content_skipped) - carried),
            "removed": len(plan.removed),
            "moved": len(plan.moves),
            "unchanged": len(plan.unchanged),
            "embedded_chunks": embedded_chunks,
            "embedded_pieces": embedded_pieces,
            "skipped": {reason: len(paths) for reason, paths in sorted(plan.skipped.items())},
            "skipped_examples": {
                reason: paths[:_EXAMPLES] for reason, paths in sorted(plan.skipped.items())
            },
            "content_skipped": plan.content_skipped,
            "seconds": round(time.perf_counter() - started, 2),
            **await self._tell_listeners(repository_id, git, head, tree),
        }
        fallback = head_info
        await self._store.apply(
            repository_id,
            SyncResult(
                head=head_info,
                removed=sorted(plan.removed),
                moves=[
                    Move(old, entry.path, commits.get(entry.path, fallback))
                    for old, entry in plan.moves
                ],
                recommitted={e.path: commits[e.path] for e in plan.unchanged if e.path in commits},
                report=summary,
            ),
        )
        return summary

    async def _tell_listeners(
        self, repository_id: str, git: Git, head: str, tree: list[TreeEntry]
    ) -> dict[str, Any]:
        reports: dict[str, Any] = {}
        for listener in self._listeners:
            try:
                reports[listener.name] = await listener.synced(repository_id, git, head, tree)
            except Exception as exc:
                logger.exception("%s failed after syncing %s", listener.name, repository_id)
                reports[listener.name] = {"error": f"internal error: {type(exc).__name__}"}
        return reports

    async def _mode(self, git: Git, previous: str | None, head: str) -> tuple[str, str]:
        if previous is None:
            return "full", "first sync"
        if not await git.has_commit_prefix(previous) or not await git.is_ancestor(previous, head):
            return "full", f"history rewritten: {previous[:12]} is no longer on the branch"
        return "incremental", f"{previous[:12]}..{head[:12]}"

    def _plan(
        self,
        tree: list[TreeEntry],
        live: dict[str, IndexedFile],
        known_skips: dict[str, list[str]],
    ) -> _Plan:
        plan = _Plan(to_index=[], removed=set(), moves=[], unchanged=[], live=set(live))
        wanted: dict[str, TreeEntry] = {}
        for entry in tree:
            why = tree_skip_reason(entry, self._policy.max_file_bytes)
            if why:
                plan.skipped[why].append(entry.path)
            else:
                wanted[entry.path] = entry
        if len(wanted) > self._policy.max_files:
            raise TooLarge(
                f"the repository has {len(wanted)} indexable files; the limit is "
                f"{self._policy.max_files} (ALLIN_REPO_MAX_FILES)"
            )
        plan.removed = {path for path in live if path not in wanted}
        removed_by_blob: dict[str, list[str]] = defaultdict(list)
        for path in sorted(plan.removed):
            removed_by_blob[live[path].blob_sha].append(path)
        for path, entry in sorted(wanted.items()):
            indexed = live.get(path)
            # A file read as another language since (a chunker added for its kind), or cut
            # another way, is indexed again: the repository need not be removed and added.
            if indexed is not None and (indexed.blob_sha, indexed.language, indexed.chunking) == (
                entry.sha,
                language_for(path),
                self._policy.chunking,
            ):
                plan.unchanged.append(entry)
            elif indexed is None and known_skips.get(path, [""])[0] == entry.sha:
                reason = known_skips[path][1]
                plan.skipped[reason].append(path)
                plan.content_skipped[path] = [entry.sha, reason]
            elif indexed is None and removed_by_blob.get(entry.sha):
                old = removed_by_blob[entry.sha].pop(0)
                plan.removed.discard(old)
                plan.moves.append((old, entry))
            else:
                plan.to_index.append(entry)
        return plan

    async def _index(
        self,
        repository_id: str,
        git: Git,
        plan: _Plan,
        commits: dict[str, CommitInfo],
        head: CommitInfo,
        report: _Reporter,
    ) -> tuple[int, int]:
        """Stage every file of `plan.to_index` (re-using what an interrupted sync staged); a
        file whose content turns out not worth indexing is skipped and unindexed. Returns how
        many chunks, and how many of their pieces, were embedded."""
        staged = await self._store.staged_files(repository_id)
        targets = {entry.path: entry.sha for entry in plan.to_index}
        stale = [p for p, f in staged.items() if targets.get(p) != f.blob_sha]
        await self._store.discard_staged(repository_id, stale)
        pending = [
            e
            for e in plan.to_index
            if staged.get(e.path, None) is None or staged[e.path].blob_sha != e.sha
        ]
        done = len(plan.to_index) - len(pending)
        await report.phase("indexing", done, len(plan.to_index))
        batch = _Batch()
        async for sha_entry, data in read_entries(git, pending):
            why = skip_reason(sha_entry.path, data, self._policy.max_file_bytes)
            chunks = [] if why else await run_in("parsing", self._chunk, sha_entry.path, data)
            if why or not chunks:
                plan.skipped[why or "empty"].append(sha_entry.path)
                plan.content_skipped[sha_entry.path] = [sha_entry.sha, why or "empty"]
                if sha_entry.path in plan.live:
                    plan.removed.add(sha_entry.path)
                done += 1
                continue
            commit = commits.get(sha_entry.path, head)
            batch.add(staged_file(sha_entry, data, commit, self._policy.chunking), chunks)
            if batch.chunk_count >= _EMBED_BATCH:
                await self._flush(repository_id, batch)
                done += batch.files_flushed
                await report.phase("indexing", done, len(plan.to_index))
        await self._flush(repository_id, batch)
        await report.phase("indexing", len(plan.to_index), len(plan.to_index))
        return batch.embedded_chunks, batch.embedded_pieces

    def _chunk(self, path: str, data: bytes) -> list[SourceChunk]:
        prose = language_for(path) in DOC_LANGUAGES
        return chunk_source_file(
            path,
            data.decode("utf-8", errors="replace"),
            max_tokens=self._policy.chunk_tokens if prose else self._policy.code_chunk_tokens,
            overlap_tokens=self._policy.chunk_overlap,
            # Tests get no pieces: a test file's chunk holds many small tests named after what
            # they check, and a vector each made them outrank the code they test.
            piece_tokens=0 if is_test_path(path) else self._policy.piece_tokens,
        )

    async def _flush(self, repository_id: str, batch: _Batch) -> None:
        if not batch.files:
            batch.files_flushed = 0
            return
        chunks = [(file, chunk) for file, file_chunks in batch.files for chunk in file_chunks]
        texts = [
            chunk_embedding_text(file.path, chunk.heading, chunk.content, chunk.terms)
            for file, chunk in chunks
        ]
        # The pieces' texts go in the same batches, after the chunks'.
        piece_texts = [
            piece_embedding_texts(
                file.path,
                chunk.content,
                chunk.start_line,
                [(p.start_line, p.end_line, p.heading) for p in chunk.pieces],
            )
            for file, chunk in chunks
        ]
        all_texts = texts + [text for texts_of in piece_texts for text in texts_of]
        tokens: list[bytes | None] | None = None
        if isinstance(self._embedder, TokenEmbedder):
            # The reranker's token vectors come from the same forward pass. It reranks prose
            # only (`allin.rag.retrieval.rerank_prose`): a code chunk's would never be read.
            embedded = await self._embedder.embed_with_tokens(all_texts)
            vectors = [e.vector for e in embedded]
            tokens = [
                e.tokens if file.format in DOC_LANGUAGES else None
                for e, (file, _) in zip(embedded[: len(texts)], chunks, strict=True)
            ]
        else:
            vectors = await self._embedder.embed_documents(all_texts)
        position, piece_position = 0, len(texts)
        for file, file_chunks in batch.files:
            first = position
            rows: list[ChunkRow] = []
            pieces: list[Sequence[Sequence[float]]] = []
            for chunk in file_chunks:
                rows.append(
                    (
                        chunk.ord,
                        chunk.content,
                        chunk.heading,
                        None,
                        vectors[position],
                        chunk_meta(chunk),
                    )
                )
                count = len(piece_texts[position])
                pieces.append(vectors[piece_position : piece_position + count])
                piece_position += count
                position += 1
            file_tokens = tokens[first:position] if tokens is not None else None
            await self._store.stage(
                repository_id, file, self._embedder.name, rows, file_tokens, pieces
            )
        batch.files_flushed = len(batch.files)
        batch.embedded_chunks += batch.chunk_count
        batch.embedded_pieces += len(all_texts) - len(texts)
        batch.files, batch.chunk_count = [], 0


@dataclass
class _Batch:
    files: list[tuple[StagedFile, list[SourceChunk]]] = field(default_factory=list)
    chunk_count: int = 0
    files_flushed: int = 0
    embedded_chunks: int = 0
    embedded_pieces: int = 0

    def add(self, file: StagedFile, chunks: list[SourceChunk]) -> None:
        self.files.append((file, chunks))
        self.chunk_count += len(chunks)


class _Reporter:
    """Progress to the caller, at most a few times a second (each report is a database write)."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._last = 0.0

    async def phase(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if self._progress is None or (done not in (0, total) and now - self._last < 0.25):
            return
        self._last = now
        await self._progress(phase, done, total)

"""Retrieval evaluation: ingest a corpus into a scope of its own, ask each question, and score
where the first passage that answers it ranks.

A question file is JSON Lines: `{"id", "question", "source", "answer_contains"}`, `source` being
the answering file's path relative to the corpus folder. A retrieved chunk is a hit when it comes
from `source` and contains `answer_contains` (case-insensitive, whitespace collapsed).

Before anything is ingested, `check_questions` refuses a set in which some question could never
score: its `source` is not a file the corpus ingests, or `answer_contains` is not in it.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, ValidationError

from allin.errors import BadRequest
from allin.rag.document_records import Passage
from allin.rag.files import discover
from allin.rag.hybrid import Scope
from allin.rag.ingest import Ingestor, IngestOutcome
from allin.rag.retrieval import Retriever
from allin.storage.documents import DocumentStore
from allin.storage.repositories import live_owner

if TYPE_CHECKING:
    from allin.sources.service import RepositoryService
    from allin.sources.sync import Progress as SyncProgress

MRR_DEPTH = 10


class Question(BaseModel):
    id: str
    question: str
    source: str
    answer_contains: str
    # Where the question was read from, `file:line`, for messages; not part of the file format.
    origin: str = Field("", exclude=True)


def load_questions(path: Path) -> list[Question]:
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            question = Question.model_validate_json(line)
        except ValidationError as exc:
            raise BadRequest(f"{path}:{number}: {exc.errors()[0]['msg']}") from None
        questions.append(question.model_copy(update={"origin": f"{path}:{number}"}))
    if not questions:
        raise BadRequest(f"{path}: no questions")
    return questions


def _flat(text: str) -> str:
    return " ".join(text.lower().split())


def check_questions(questions: list[Question], corpus: Path, *, tracked: bool = False) -> None:
    """Refuse, listing every offender by `file:line`, questions whose `source` is not a file the
    corpus ingests or whose `answer_contains` is not in that file (whitespace collapsed, any case).
    A phrase found here can still be missed if it straddles two chunks. In a repository
    (`tracked`), any file of the work tree may be a source: the sync decides what it indexes."""
    if tracked:
        ingested = {
            q.source: corpus / q.source
            for q in questions
            if ".." not in q.source.split("/") and (corpus / q.source).is_file()
        }
    else:
        ingested = {file.name: file.path for file in discover([str(corpus)]).files}
    texts: dict[str, str] = {}
    problems = []
    for question in questions:
        where = f"{question.origin or '?'}: {question.id}"
        path = ingested.get(question.source)
        if path is None:
            problem = (
                "not a file the evaluation ingests (unsupported type or hidden)"
                if (corpus / question.source).is_file()
                else "no such file"
            )
            problems.append(f"{where}: source {question.source!r}: {problem} under {corpus}")
            continue
        if question.source not in texts:
            texts[question.source] = _flat(path.read_text(encoding="utf-8", errors="replace"))
        if (
            not _flat(question.answer_contains)
            or _flat(question.answer_contains) not in texts[question.source]
        ):
            problems.append(
                f"{where}: answer_contains {question.answer_contains!r} is not in {question.source}"
            )
    if problems:
        count = f"{len(problems)} question{'s' if len(problems) > 1 else ''}"
        raise BadRequest(f"{count} cannot be scored on {corpus}:\n" + "\n".join(problems))


# Whether a passage comes from the file that answers a question.
FromSource = Callable[[Passage, Question], bool]


def from_source(passage: Passage, question: Question) -> bool:
    return passage.document_name == question.source


def is_hit(passage: Passage, question: Question, same_file: FromSource = from_source) -> bool:
    return same_file(passage, question) and _flat(question.answer_contains) in _flat(
        passage.content
    )


@dataclass(frozen=True, slots=True)
class Answered:
    question: Question
    rank: int | None  # 1-based rank of the first hit within MRR_DEPTH, None if none
    seconds: float
    # ... of the first passage from the answering file, whatever it holds: how a set judged by
    # file (as some are) would score the same ranking.
    file_rank: int | None = None


@dataclass
class Report:
    k: int
    answered: list[Answered] = field(default_factory=list)
    ingest_failures: list[IngestOutcome] = field(default_factory=list)
    chunks: int = 0

    @property
    def hit_at_k(self) -> float:
        return self._hit([a.rank for a in self.answered])

    @property
    def mrr(self) -> float:
        return _mrr([a.rank for a in self.answered])

    @property
    def hit_at_k_by_file(self) -> float:
        return self._hit([a.file_rank for a in self.answered])

    @property
    def mrr_by_file(self) -> float:
        return _mrr([a.file_rank for a in self.answered])

    def _hit(self, ranks: list[int | None]) -> float:
        return sum(1 for rank in ranks if rank is not None and rank <= self.k) / len(ranks)

    def query_ms(self, q: int) -> float:
        seconds = sorted(a.seconds for a in self.answered)
        return 1000 * seconds[min(len(seconds) - 1, round((len(seconds) - 1) * q / 100))]

    def as_dict(self) -> dict[str, object]:
        return {
            "questions": len(self.answered),
            "k": self.k,
            f"hit@{self.k}": round(self.hit_at_k, 4),
            f"mrr@{MRR_DEPTH}": round(self.mrr, 4),
            "by_file": {
                f"hit@{self.k}": round(self.hit_at_k_by_file, 4),
                f"mrr@{MRR_DEPTH}": round(self.mrr_by_file, 4),
            },
            "query_ms_p50": round(self.query_ms(50), 2),
            "query_ms_p95": round(self.query_ms(95), 2),
            "chunks": self.chunks,
            "misses": [a.question.id for a in self.answered if a.rank is None or a.rank > self.k],
        }


async def evaluate(
    *,
    ingestor: Ingestor,
    retriever: Retriever,
    store: DocumentStore,
    corpus: Path,
    questions: list[Question],
    k: int,
    on_file: Callable[[str], None] | None = None,
) -> Report:
    """Ingest `corpus` under a fresh owner (no shared documents in scope), score `questions`,
    then delete what was ingested. Questions that cannot be scored are refused first."""
    check_questions(questions, corpus)
    scope = Scope(owner_id=f"eval-{uuid.uuid4().hex[:12]}", include_shared=False)
    report = Report(k=k)
    found = discover([str(corpus)])
    try:
        for file in found.files:
            outcome = await ingestor.ingest(
                owner_id=scope.owner_id, name=file.name, data=file.path.read_bytes()
            )
            if outcome.status == "failed":
                report.ingest_failures.append(outcome)
            elif outcome.document is not None:
                report.chunks += outcome.document.chunk_count
            if on_file is not None:
                on_file(file.name)
        await ask(retriever, scope, questions, report)
    finally:
        for document in await store.delete_owned(scope.owner_id):
            await ingestor.delete_blob(document)
    return report


async def evaluate_repository(
    *,
    repositories: RepositoryService,
    retriever: Retriever,
    repository: Path,
    questions: list[Question],
    k: int,
    progress: SyncProgress | None = None,
) -> Report:
    """Sync the git repository at `repository` as the team's repositories are synced (code cut
    along its syntax), score `questions` on its files alone, then remove it."""
    check_questions(questions, repository, tracked=True)
    report = Report(k=k)
    name = f"eval-{uuid.uuid4().hex[:12]}"
    registered = await repositories.register("eval", str(repository), name, None)
    try:
        await repositories.sync_now(registered.id, progress)
        report.chunks = (await repositories.store.get(registered.id)).chunk_count
        scope = Scope(owner_id=live_owner(registered.id), include_shared=False)
        await ask(retriever, scope, questions, report)
    finally:
        await repositories.remove(registered.id)
    return report


def is_repository(path: Path) -> bool:
    return (path / ".git").exists()


async def ask(
    retriever: Retriever,
    scope: Scope,
    questions: list[Question],
    report: Report,
    same_file: FromSource = from_source,
) -> None:
    """Ask each question in `scope` and add how it ranked to `report`; `same_file` tells the
    passages of the answering file (`eval/one_scope.py` counts two names as one file)."""
    for question in questions:
        started = time.perf_counter()
        passages = await retriever.search(scope, question.question, k=max(report.k, MRR_DEPTH))
        elapsed = time.perf_counter() - started
        rank = next((n for n, p in enumerate(passages, 1) if is_hit(p, question, same_file)), None)
        file_rank = next((n for n, p in enumerate(passages, 1) if same_file(p, question)), None)
        report.answered.append(Answered(question, rank, elapsed, file_rank))


def _mrr(ranks: list[int | None]) -> float:
    return statistics.fmean(1 / rank if rank else 0.0 for rank in ranks)


def write_json(report: Report, path: Path) -> None:
    path.write_text(json.dumps(report.as_dict(), indent=2) + "\n")

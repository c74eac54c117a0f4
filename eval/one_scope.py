"""Retrieval in one scope holding a docs corpus and a git repository, as a team has them.

`allin eval` scores a docs corpus or a repository alone. A team keeps both where every question
sees them together, and there code and prose compete for the first places (eval/README.md, "One
scope holding docs and code"). This script ingests the corpus and syncs the repository into an
embedded Postgres in a data folder of its own (created if missing; reused, without ingesting
again, when it already holds them), then scores each question set in that one scope:

    git clone -q ../shared/corpus/repos/flask.bundle /tmp/flask-eval
    .venv/bin/python eval/one_scope.py --data-dir /tmp/one-scope \\
        --corpus ../shared/corpus --repository /tmp/flask-eval --alias flask-docs/=docs/ \\
        eval/docs-dev.jsonl eval/docs-dev2.jsonl eval/code-dev.jsonl eval/code-dev2.jsonl

A question's `source` is a path in the corpus or in the repository. `--alias A=B` counts a
passage of `B…` as the file `A…` too: the corpus's `flask-docs/` are the repository's `docs/`,
and of two identical passages the search keeps one.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from rich.console import Console
from rich.table import Table

from allin.errors import BadRequest
from allin.rag.document_records import Passage
from allin.rag.evaluation import (
    Question,
    Report,
    ask,
    check_questions,
    is_repository,
    load_questions,
)
from allin.rag.files import discover
from allin.rag.hybrid import Scope
from allin.services import Services
from allin.terminal import load_settings, without_workers

OWNER = "one-scope"
REPOSITORY = "one-scope"
K = 5


async def main(args: argparse.Namespace) -> None:
    aliases = dict(alias.split("=", 1) for alias in args.alias)
    sets = {path: load_questions(path) for path in args.questions}
    for questions in sets.values():
        # A source the corpus holds is checked there, any other in the repository's work tree.
        in_corpus = [q for q in questions if (args.corpus / q.source).is_file()]
        in_repository = [q for q in questions if q not in in_corpus]
        try:
            check_questions(in_corpus, args.corpus)
            check_questions(in_repository, args.repository, tracked=True)
        except BadRequest as exc:
            raise SystemExit(exc.message) from None
    settings = load_settings(voice=False).model_copy(
        update={"data_dir": args.data_dir, "database_url": None}
    )
    services = await Services.start(without_workers(settings))
    try:
        await _fill(services, args.corpus, args.repository.resolve())
        table = Table(title="One scope: the corpus and the repository together")
        for column in ("set", f"hit@{K}", "MRR@10", f"by file hit@{K}", "by file MRR@10"):
            table.add_column(column, justify="right" if column != "set" else "left")
        for path, questions in sets.items():
            report = await _score(services, questions, aliases)
            table.add_row(
                path.name,
                f"{report.hit_at_k:.3f}",
                f"{report.mrr:.3f}",
                f"{report.hit_at_k_by_file:.3f}",
                f"{report.mrr_by_file:.3f}",
            )
        Console().print(table)
    finally:
        await services.stop()


async def _fill(services: Services, corpus: Path, repository: Path) -> None:
    if not await services.documents.any_ready(Scope(OWNER, include_shared=False)):
        for file in discover([str(corpus)]).files:
            await services.ingestor.ingest(
                owner_id=OWNER, name=file.name, data=file.path.read_bytes()
            )
    known = {r.name: r for r in await services.repositories.store.all()}
    if REPOSITORY not in known:
        if not is_repository(repository):
            raise SystemExit(f"{repository} is not a git work tree")
        registered = await services.repositories.register("eval", str(repository), REPOSITORY, None)
        await services.repositories.sync_now(registered.id)


async def _score(services: Services, questions: list[Question], aliases: dict[str, str]) -> Report:
    def same_file(passage: Passage, question: Question) -> bool:
        return question.source in (passage.document_name, _named(passage, aliases))

    report = Report(k=K)
    # The corpus is the owner's; the repository is team-wide, so shared: both in one scope.
    await ask(services.retriever, Scope(OWNER, include_shared=True), questions, report, same_file)
    return report


def _named(passage: Passage, aliases: dict[str, str]) -> str:
    for alias, name in aliases.items():
        if passage.document_name.startswith(name):
            return alias + passage.document_name[len(name) :]
    return passage.document_name


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--repository", type=Path, required=True)
    parser.add_argument("--alias", action="append", default=[], metavar="A=B")
    parser.add_argument("questions", type=Path, nargs="+")
    asyncio.run(main(parser.parse_args()))

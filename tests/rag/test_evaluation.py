"""Question sets are checked against the corpus before anything is ingested."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from allin.errors import BadRequest
from allin.rag.evaluation import check_questions, evaluate, load_questions


def _corpus(root: Path) -> Path:
    corpus = root / "corpus"
    (corpus / "handbook").mkdir(parents=True)
    (corpus / "handbook" / "leave.md").write_text(
        "# Leave\n\n## Vacation\n\nYou get 25 days\nof paid   vacation.\n"
    )
    (corpus / "logo.png").write_bytes(b"\x89PNG\r\n")
    return corpus


def _questions(root: Path, *rows: dict[str, str]) -> Path:
    path = root / "questions.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def _row(id: str, source: str, answer: str) -> dict[str, str]:
    return {"id": id, "question": "how much holiday?", "source": source, "answer_contains": answer}


def test_a_phrase_in_its_source_passes_whatever_its_case_and_spacing(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    path = _questions(tmp_path, _row("q1", "handbook/leave.md", "25 DAYS of paid vacation"))
    check_questions(load_questions(path), corpus)


def test_a_question_whose_answer_is_not_in_its_source_is_refused(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    path = _questions(
        tmp_path,
        _row("q1", "handbook/leave.md", "25 days of paid vacation"),
        _row("q2", "handbook/leave.md", "30 days of paid vacation"),
    )
    with pytest.raises(BadRequest) as refused:
        check_questions(load_questions(path), corpus)
    message = refused.value.message
    assert message.startswith("1 question cannot be scored")
    assert (
        f"{path}:2: q2: answer_contains '30 days of paid vacation' is not in handbook/leave.md"
        in (message)
    )
    assert "q1" not in message


def test_every_bad_question_is_listed_with_its_line(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    path = _questions(
        tmp_path,
        _row("q1", "handbook/holidays.md", "25 days"),
        _row("q2", "logo.png", "PNG"),
        _row("q3", "handbook/leave.md", "   "),
    )
    with pytest.raises(BadRequest) as refused:
        check_questions(load_questions(path), corpus)
    lines = refused.value.message.splitlines()
    assert lines[0] == f"3 questions cannot be scored on {corpus}:"
    assert lines[1].startswith(f"{path}:1: q1: source 'handbook/holidays.md': no such file")
    assert lines[2].startswith(
        f"{path}:2: q2: source 'logo.png': not a file the evaluation ingests"
    )
    assert lines[3].startswith(f"{path}:3: q3: answer_contains")


async def test_evaluate_refuses_before_ingesting_anything(tmp_path: Path) -> None:
    class Untouchable:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"{name} used before the questions were checked")

    corpus = _corpus(tmp_path)
    path = _questions(tmp_path, _row("q1", "handbook/leave.md", "not there"))
    with pytest.raises(BadRequest, match="q1: answer_contains 'not there' is not in"):
        await evaluate(
            ingestor=Untouchable(),  # type: ignore[arg-type]
            retriever=Untouchable(),  # type: ignore[arg-type]
            store=Untouchable(),  # type: ignore[arg-type]
            corpus=corpus,
            questions=load_questions(path),
            k=5,
        )

"""Calibrating abstention: for questions the knowledge base answers and questions it cannot
(eval/unanswerable-*.jsonl), the best passage's similarity and how many of the question's words
no document contains; the two thresholds (see `AbstentionPolicy`) that abstain on as many
unanswerable questions as possible while still answering nearly every answerable one; and the
precision and recall of abstaining with given thresholds."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from pydantic import BaseModel

from allin.errors import BadRequest

# At most this share of answerable questions may be abstained on: a wrong "I don't know" on a
# question the docs answer costs a newcomer more than a weak answer to one they don't.
MAX_ANSWERABLE_ABSTAINED = 0.02


class Probe(BaseModel):
    id: str
    question: str


@dataclass(frozen=True, slots=True)
class Scored:
    id: str
    answerable: bool
    best: float
    unknown_words: int = 0

    def abstained(self, below: float, unknown_word_below: float) -> bool:
        return self.best < below or (self.unknown_words > 0 and self.best < unknown_word_below)


@dataclass(frozen=True, slots=True)
class Abstention:
    threshold: float
    unknown_word_threshold: float
    precision: float
    recall: float
    answerable_answered: float
    abstained: int
    unanswerable: int
    answerable: int


def load_probes(path: Path) -> list[Probe]:
    """Any question file's ids and questions (`answer_contains` and the rest are not needed)."""
    probes = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                probes.append(Probe.model_validate_json(line))
            except ValueError as exc:
                raise BadRequest(f"{path}:{number}: not a question: {exc}") from None
    if not probes:
        raise BadRequest(f"{path}: no questions")
    return probes


def measure(scored: Sequence[Scored], below: float, unknown_word_below: float) -> Abstention:
    """Abstaining with these thresholds: precision (abstentions that were on unanswerable
    questions), recall (unanswerable questions abstained on) and the share still answered."""
    abstained = [s for s in scored if s.abstained(below, unknown_word_below)]
    right = sum(not s.answerable for s in abstained)
    unanswerable = sum(not s.answerable for s in scored)
    answerable = len(scored) - unanswerable
    answered = answerable - (len(abstained) - right)
    return Abstention(
        threshold=round(below, 4),
        unknown_word_threshold=round(unknown_word_below, 4),
        precision=right / len(abstained) if abstained else 1.0,
        recall=right / unanswerable if unanswerable else 1.0,
        answerable_answered=answered / answerable if answerable else 1.0,
        abstained=len(abstained),
        unanswerable=unanswerable,
        answerable=answerable,
    )


def choose_thresholds(
    scored: Sequence[Scored], max_answerable_abstained: float = MAX_ANSWERABLE_ABSTAINED
) -> tuple[float, float]:
    """The thresholds that abstain on the most unanswerable questions while abstaining on no
    more than the allowed share of answerable ones; each halfway between two observed scores,
    so that it is not fitted to one question, and the lower of equally good ones."""
    answerable = sum(s.answerable for s in scored)
    if not answerable:
        raise BadRequest("calibration needs answerable questions")
    allowed = int(answerable * max_answerable_abstained)
    values = sorted({s.best for s in scored})
    cuts = [values[0]] + [(a + b) / 2 for a, b in pairwise(values)]
    best: tuple[int, int, float, float] | None = None
    for below in cuts:
        for unknown_below in (c for c in cuts if c >= below):
            wrong = sum(s.answerable and s.abstained(below, unknown_below) for s in scored)
            if wrong > allowed:
                continue
            right = sum(not s.answerable and s.abstained(below, unknown_below) for s in scored)
            # More unanswerable ones caught, then fewer answerable ones lost; on a tie the
            # first found, which has the lowest thresholds.
            if best is None or (right, -wrong) > best[:2]:
                best = (right, -wrong, below, unknown_below)
    assert best is not None  # the lowest cut abstains on nothing
    return best[2], best[3]


def write_scores(path: Path, scored: Sequence[Scored], report: dict[str, object]) -> None:
    rows = [
        {
            "id": s.id,
            "answerable": s.answerable,
            "best": round(s.best, 4),
            "unknown_words": s.unknown_words,
        }
        for s in scored
    ]
    path.write_text(json.dumps({**report, "questions": rows}, indent=2) + "\n")

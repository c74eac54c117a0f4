"""Calibrating the abstention threshold: the best passage's similarity for questions the
knowledge base answers and for questions it cannot (eval/unanswerable-*.jsonl), the threshold
that abstains on as many unanswerable ones as possible while still answering nearly every
answerable one, and the precision and recall of abstaining at a given threshold."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Abstention:
    threshold: float
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


def measure(scored: Sequence[Scored], threshold: float) -> Abstention:
    """Abstaining below `threshold`: precision (abstentions that were on unanswerable
    questions), recall (unanswerable questions abstained on) and the share still answered."""
    abstained = [s for s in scored if s.best < threshold]
    right = sum(not s.answerable for s in abstained)
    unanswerable = sum(not s.answerable for s in scored)
    answerable = len(scored) - unanswerable
    answered = sum(s.answerable and s.best >= threshold for s in scored)
    return Abstention(
        threshold=round(threshold, 4),
        precision=right / len(abstained) if abstained else 1.0,
        recall=right / unanswerable if unanswerable else 1.0,
        answerable_answered=answered / answerable if answerable else 1.0,
        abstained=len(abstained),
        unanswerable=unanswerable,
        answerable=answerable,
    )


def choose_threshold(
    scored: Sequence[Scored], max_answerable_abstained: float = MAX_ANSWERABLE_ABSTAINED
) -> float:
    """The highest threshold (most abstention) that abstains on no more than the allowed share
    of answerable questions; halfway between two observed scores, so it is not fitted to one."""
    answerable = sorted(s.best for s in scored if s.answerable)
    if not answerable:
        raise BadRequest("calibration needs answerable questions")
    allowed = int(len(answerable) * max_answerable_abstained)
    # Abstaining below answerable[allowed] abstains on exactly `allowed` answerable questions.
    ceiling = answerable[allowed]
    below = [s.best for s in scored if s.best < ceiling]
    return (ceiling + max(below)) / 2 if below else ceiling


def write_scores(path: Path, scored: Sequence[Scored], report: dict[str, object]) -> None:
    rows = [{"id": s.id, "answerable": s.answerable, "best": round(s.best, 4)} for s in scored]
    path.write_text(json.dumps({**report, "questions": rows}, indent=2) + "\n")

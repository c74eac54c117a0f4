"""Who is asking, in a few words, from what they told Allin about themselves: the memories that
speak of their role, experience and stack, and the labels shown under an answer ("backend,
Python, new to Flask"). Plain rules over the memories' text: no model call on the hot path."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# Roles and technologies a label is made of, as they are best written.
_ROLES = (
    "backend", "frontend", "full-stack", "fullstack", "devops", "SRE", "data engineer",
    "data scientist", "machine learning", "mobile", "QA", "security", "intern", "junior",
    "senior", "staff", "tech lead", "manager", "designer", "student",
)  # fmt: skip
_TECH = (
    "Python", "JavaScript", "TypeScript", "Golang", "Rust", "Java", "Kotlin", "Swift", "C++",
    "C#", "Ruby", "PHP", "Scala", "Elixir", "SQL", "PostgreSQL", "Postgres", "MySQL", "Flask",
    "Django", "FastAPI", "React", "Vue", "Angular", "Node.js", "Docker", "Kubernetes",
    "Terraform", "AWS", "GCP", "Azure", "Linux", "Celery", "Redis", "Kafka", "Spark", "pandas",
)  # fmt: skip
_TERMS = [
    (term, re.compile(rf"(?<![\w+#.-]){re.escape(term)}(?![\w+#-])", re.IGNORECASE))
    for term in (*_ROLES, *_TECH)
]
# "Go" only as written: "go" is a verb far more often than a language.
_GO = re.compile(r"(?<![\w-])Go(?![\w-])")
_NEW_TO = re.compile(
    r"\b(not|no|never|new to|unfamiliar with|learning|doesn't know|don't know|does not know)\b",
    re.IGNORECASE,
)
_CLAUSE = re.compile(r"[,;]|\bbut\b|\band not\b", re.IGNORECASE)
_ABOUT_THEM = re.compile(
    r"\b(i am|i'm|user is|user's|role|engineer|developer|years?|experience|background|knows?|"
    r"familiar|new to|stack|uses|works? (on|in|with)|prefers?|learning|joined)\b",
    re.IGNORECASE,
)
_MAX_FACTS = 5
_MAX_LABELS = 4
_FACT_CHARS = 160


@dataclass(frozen=True, slots=True)
class Profile:
    facts: tuple[str, ...]
    labels: tuple[str, ...]

    @property
    def summary(self) -> str:
        return ", ".join(self.labels)


def profile_of(memories: Sequence[str]) -> Profile:
    facts: list[str] = []
    labels: list[str] = []
    for text in memories:
        found = _labels(text)
        if found or _ABOUT_THEM.search(text):
            flat = " ".join(text.split())
            facts.append(flat if len(flat) <= _FACT_CHARS else flat[: _FACT_CHARS - 1] + "…")
            labels += [label for label in found if label not in labels]
        if len(facts) == _MAX_FACTS:
            break
    return Profile(tuple(facts), tuple(_best(labels)))


def _labels(text: str) -> list[str]:
    found: list[tuple[int, str]] = []
    for clause_start, clause in _clauses(text):
        negated = _NEW_TO.search(clause)
        terms = [(m.start(), term) for term, pattern in _TERMS if (m := pattern.search(clause))]
        if go := _GO.search(clause):
            terms.append((go.start(), "Go"))
        for position, term in terms:
            label = f"new to {term}" if negated and negated.start() < position else term
            found.append((clause_start + position, label))
    return [label for _, label in sorted(found)]


def _clauses(text: str) -> list[tuple[int, str]]:
    clauses, start = [], 0
    for separator in _CLAUSE.finditer(text):
        clauses.append((start, text[start : separator.start()]))
        start = separator.end()
    clauses.append((start, text[start:]))
    return clauses


def _best(labels: list[str]) -> list[str]:
    """Roles first, then what they know, then what is new to them; a few at most."""
    roles = [label for label in labels if label.lower() in {r.lower() for r in _ROLES}]
    new = [label for label in labels if label.startswith("new to ")]
    known = [label for label in labels if label not in roles and label not in new]
    return (roles + known + new)[:_MAX_LABELS]

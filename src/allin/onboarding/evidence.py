"""Steps suggested as done on evidence, after the answer (a `TurnListener`, off the hot path):
the user asked about a step's topic and the answer cited one of the step's linked files, or the
user told Allin they did it. The user confirms with one click; nothing is ticked for them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from allin.onboarding.path_records import PathProgress, StepView
from allin.onboarding.service import OnboardingService
from allin.storage.chat_records import Turn

_WORD = re.compile(r"[a-z0-9][a-z0-9_.-]*[a-z0-9]|[a-z0-9]")
_STOP = frozenset(
    {
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "how",
        "do",
        "does",
        "did",
        "i",
        "we",
        "you",
        "it",
        "is",
        "are",
        "be",
        "my",
        "our",
        "your",
        "this",
        "that",
        "what",
        "where",
        "when",
        "why",
        "which",
        "who",
        "can",
        "could",
        "should",
        "would",
        "will",
        "from",
        "at",
        "by",
        "as",
        "into",
        "about",
        "run",
        "use",
        "using",
        "get",
        "set",
        "up",
        "read",
        "step",
        "first",
        "new",
    }
)  # fmt: skip
_SAID_DONE = re.compile(
    r"\b(i|we)('ve|\s+have)?\s+(just\s+|already\s+|finally\s+)?"
    # Past tenses say it is done, except those that say it is not (yet).
    r"(?!(?:ask|want|need|tri|wonder|notic|start|fail|expect|hop|plann|look|search|attempt|"
    r"struggl|confus|stuck|block|wish|intend|decid)ed\b)"
    r"(\w{3,}ed|done|did|ran|run|read|set up|went through|got|built|wrote|made)\b"
    r"|\b(i'm|i am|we're|we are)\s+(done|finished)\s+with\b",
    re.IGNORECASE,
)
_QUOTE_CHARS = 200


def topic_words(text: str) -> set[str]:
    words = {w.strip(".-") for w in _WORD.findall(text.lower())}
    # "tests" and "test", "blueprints" and "blueprint" are one topic.
    return {w.removesuffix("s") if len(w) > 4 else w for w in words if w and w not in _STOP}


class EvidenceListener:
    name = "onboarding"

    def __init__(self, service: OnboardingService) -> None:
        self._service = service

    async def turn_completed(self, question: Turn, answer: Turn) -> None:
        citations: list[dict[str, Any]] = answer.metadata.get("citations") or []
        said_done = _SAID_DONE.search(question.content) is not None
        if not citations and not said_done:
            return
        asked = topic_words(question.content)
        for progress in await self._service.progress(question.user_id, start=False):
            for step in _open_steps(progress):
                why = _evidence(step, asked, citations, progress.repository_id, said_done)
                if why is None:
                    continue
                await self._service.store.suggest(
                    question.user_id,
                    progress.path_id,
                    step.slug,
                    {
                        **why,
                        "chat_id": question.chat_id,
                        "question_id": question.id,
                        "answer_id": answer.id,
                        "question": question.content[:_QUOTE_CHARS],
                    },
                )


def _open_steps(progress: PathProgress) -> Iterable[StepView]:
    return (s for stage in progress.stages for s in stage.steps if s.state == "todo")


def _evidence(
    step: StepView,
    asked: set[str],
    citations: list[dict[str, Any]],
    repository_id: str,
    said_done: bool,
) -> dict[str, Any] | None:
    topic = topic_words(" ".join([step.title, *step.prompts, *(link.text for link in step.links)]))
    shared = asked & topic
    if not shared:
        return None
    title_words = topic_words(step.title)
    if said_done and len(asked & title_words) * 2 >= max(1, len(title_words)):
        return {"kind": "said_done", "topic": sorted(shared)}
    files = [link.target for link in step.links if link.kind == "file"]
    cited = [
        citation
        for citation in citations
        if citation.get("repository_id") == repository_id
        and any(_covers(target, citation.get("path") or "") for target in files)
    ]
    if not cited:
        return None
    return {
        "kind": "cited_answer",
        "topic": sorted(shared),
        "cited": sorted({c["path"] for c in cited}),
    }


def _covers(target: str, cited_path: str) -> bool:
    """A link to a file covers citations of it; a link to a folder, of anything in it."""
    return cited_path == target or cited_path.startswith(target.rstrip("/") + "/")

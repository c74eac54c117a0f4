"""The knowledge base's context source with the trust layer in it (it replaces `KnowledgeSource`):

- a question nothing is close enough to is **abstained on**: the model is told plainly that
  nothing was found and must not guess, and is handed who is likely to know and a question to
  send them; the offline answerer shows the same text as its answer;
- "who knows about X?" gets that ranking with its reasons;
- passages from a documentation page carry its stale-citation warnings, in the prompt and in the
  citation.

Abstention is decided here, from the retrieval result, before the model is called (DESIGN: "a
property of the retrieval result"), and every abstention is recorded for the gap report.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from allin.chat.context import Context
from allin.llm.base import ContextBlock
from allin.rag.clean import readable
from allin.rag.document_records import Passage
from allin.rag.hybrid import Scope
from allin.rag.retrieval import NOTHING_FOUND, SOURCES_TITLE, Retriever
from allin.storage.chat_records import Turn
from allin.storage.trust import TrustStore
from allin.trust.experts import Expert, ExpertFinder
from allin.trust.questions import is_follow_up, is_small_talk, who_knows_topic
from allin.trust.warnings import CitedDocument, StaleWarnings
from allin.trust.wording import (
    NOTHING_FOUND_TITLE,
    WHO_KNOWS_TITLE,
    abstention_note,
    abstention_text,
    who_knows_note,
    who_knows_text,
)

logger = logging.getLogger(__name__)

# Passages whose files and documents stand for "the most related paths" when ranking people.
RELATED_PASSAGES = 8


@dataclass(frozen=True, slots=True)
class AbstentionPolicy:
    """When the knowledge base has nothing good enough (both calibrated on eval/, see
    `allin eval-abstention`): the best passage's cosine similarity is below `abstain_below`, or
    the question has a word no document contains and the best passage is below
    `unknown_word_below`."""

    abstain_below: float
    unknown_word_below: float
    experts_shown: int = 3

    def abstains(self, best: float | None, unknown_words: int) -> bool:
        if best is None or best < self.abstain_below:
            return True
        return unknown_words > 0 and best < self.unknown_word_below


@dataclass(frozen=True, slots=True)
class Judgement:
    """What the knowledge base found for a question, and whether it is good enough."""

    passages: list[Passage]
    best_similarity: float | None
    unknown_words: tuple[str, ...]
    abstain: bool


class TrustedKnowledgeSource:
    name = "documents"

    def __init__(
        self,
        retriever: Retriever,
        experts: ExpertFinder,
        store: TrustStore,
        warnings: StaleWarnings,
        policy: AbstentionPolicy,
    ) -> None:
        self._retriever = retriever
        self._experts = experts
        self._store = store
        self._warnings = warnings
        self._policy = policy

    async def judge(self, scope: Scope, question: str) -> Judgement | None:
        """None when the scope holds no documents at all (nothing to abstain from)."""
        passages = await self._retriever.ranked(scope, question)
        if passages is None:
            return None
        best = max((p.similarity for p in passages), default=None)
        unknown: list[str] = []
        if (
            best is not None
            and self._policy.abstain_below <= best < self._policy.unknown_word_below
        ):
            # Only where it can change the outcome: one more query, on the full-text index.
            unknown = await self._store.unknown_words(scope, question)
        abstain = self._policy.abstains(best, len(unknown))
        return Judgement(passages, best, tuple(unknown), abstain)

    async def who_knows(self, user_id: str, topic: str) -> list[Expert]:
        """The people likely to know about `topic`, for the REST route and the MCP tool (the
        same ranking a "who knows about X?" question gets in a chat)."""
        passages = await self._retriever.ranked(Scope(user_id), topic) or []
        return await self._experts.rank(
            passages[:RELATED_PASSAGES], self._policy.experts_shown, user_id
        )

    async def context_for(self, question: Turn) -> Context:
        scope = Scope(question.user_id)
        topic = who_knows_topic(question.content)
        if topic is not None:
            return await self._who_knows(question, topic)
        judgement = await self.judge(scope, question.content)
        if judgement is None:
            return Context()
        # Small talk and follow-ups ("explain that more simply") are answered from the
        # conversation: nothing found for their words alone is not a gap.
        conversational = is_small_talk(question.content) or is_follow_up(question.content)
        if judgement.abstain and not conversational:
            return await self._abstain(question, judgement)
        relevant = [p for p in judgement.passages if p.similarity >= self._retriever.min_similarity]
        return await self._sources(relevant)

    async def _who_knows(self, question: Turn, topic: str) -> Context:
        experts = await self.who_knows(question.user_id, topic)
        await self._record(question, "who_knows", None, experts)
        block = ContextBlock(
            WHO_KNOWS_TITLE,
            (),
            when_empty=who_knows_text(topic, experts),
            note=who_knows_note(),
        )
        return Context(block)

    async def _abstain(self, question: Turn, judgement: Judgement) -> Context:
        related = judgement.passages[:RELATED_PASSAGES]
        experts = await self._experts.rank(related, self._policy.experts_shown, question.user_id)
        await self._record(question, "abstained", judgement.best_similarity, experts)
        block = ContextBlock(
            NOTHING_FOUND_TITLE,
            (),
            when_empty=abstention_text(question.content, experts),
            note=abstention_note(judgement.best_similarity, judgement.unknown_words),
        )
        return Context(block)

    async def _sources(self, passages: list[Passage]) -> Context:
        warnings = await self._warnings.of(
            CitedDocument(p.document_id, p.document_name, p.repository_id, p.format)
            for p in passages
        )
        items = []
        citations = []
        for n, p in enumerate(passages, 1):
            stale = warnings.get(p.document_id)
            label = p.location + (f" ({stale[0].summary})" if stale else "")
            items.append(f"[{n}] {label}\n{p.content if p.is_code else readable(p.content)}")
            citations.append(p.citation(n, stale=stale))
        block = ContextBlock(SOURCES_TITLE, tuple(items), when_empty=NOTHING_FOUND)
        return Context(block, tuple(citations))

    async def _record(
        self, question: Turn, kind: str, best: float | None, experts: Sequence[Expert]
    ) -> None:
        try:
            await self._store.record_unanswered(
                question.id,
                question.user_id,
                question.chat_id,
                question.content,
                kind,
                best,
                [{"name": e.name, "basis": e.basis} for e in experts],
            )
        except Exception:
            # The answer matters more than the report: say "not found" even if this fails.
            logger.exception("could not record unanswered question %s", question.id)

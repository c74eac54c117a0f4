"""Hybrid retrieval over the knowledge base, and the context source that puts the best passages,
numbered, into the prompt and their citations into the answer."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from itertools import zip_longest

from allin.chat.context import Context
from allin.embeddings.base import Embedder, TokenEmbedder
from allin.llm.base import ContextBlock
from allin.rag.abbreviations import expanded
from allin.rag.clean import readable
from allin.rag.definitions import whole_definitions
from allin.rag.document_records import Passage
from allin.rag.hybrid import DEFAULT_FUSION, Fusion, Scope
from allin.rag.rerank import Query, Reranker
from allin.sources.roles import asks_about_tests
from allin.storage.chat_records import Turn
from allin.storage.documents import DocumentStore

SOURCES_TITLE = "Sources"
NOTHING_FOUND = "No passage of the team's documents matches this question."


@dataclass(frozen=True, slots=True)
class RetrievalPolicy:
    top_k: int
    candidates: int
    ef_search: int
    min_similarity: float
    fusion: Fusion = DEFAULT_FUSION
    # Fused candidates the reranker (if any) reorders.
    rerank_depth: int = 20
    # Alternate code and prose in the ranking (see `alternate_code_and_prose`).
    mix_code_and_prose: bool = True
    # When they alternate, code leads rather than whichever kind ranked best...
    code_first: bool = False
    # ... if a code passage is among the first this many fused (0: whenever there is code).
    code_leads_within: int = 0
    # ... and a repository's tests come after the code they test, unless the question is about
    # tests.
    tests_after_code: bool = False
    # A part of a function cut into several comes with its sibling parts, up to this many tokens
    # in all (0: each part alone; see `allin.rag.definitions`).
    whole_definition_tokens: int = 0


class Retriever:
    def __init__(
        self,
        store: DocumentStore,
        embedder: Embedder,
        policy: RetrievalPolicy,
        reranker: Reranker | None = None,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._policy = policy
        self._reranker = reranker

    async def search(self, scope: Scope, question: str, k: int | None = None) -> list[Passage]:
        """The best `k` passages for `question` in `scope`, best first, before any relevance
        cut-off (evaluation sees the raw ranking)."""
        wanted = k or self._policy.top_k
        # The abbreviations are looked up while the question is embedded. They are for full text
        # only: the embedder knows the ones common enough to matter, and a parenthesis of long
        # forms pulls the question's vector towards the page defining them.
        query, expansions = await asyncio.gather(
            self._query(question), self._store.expansions(scope, question)
        )
        question = expanded(question, expansions)
        # Twice as many, so that copies of one file stored under two names can be dropped; and at
        # least as many as the reranker reorders.
        fetched = max(wanted * 2, self._policy.rerank_depth if self._reranker else 0)
        passages = await self._store.search(
            scope,
            question,
            query.vector,
            embedder=self._embedder.name,
            dimension=self._embedder.dimension,
            k=fetched,
            candidates=max(self._policy.candidates, fetched),
            ef_search=self._policy.ef_search,
            fusion=self._policy.fusion,
        )
        unique = {" ".join(p.content.split()): p for p in reversed(passages)}
        ranked = sorted(unique.values(), key=passages.index)
        if self._reranker is not None:
            ranked = await rerank_prose(self._reranker, query, ranked)
        # Taken before split parts are joined, as fusion ranked them.
        within = self._policy.code_leads_within
        code_leads = self._policy.code_first and (
            within == 0 or any(p.is_code for p in ranked[:within])
        )
        ranked = await whole_definitions(self._store, ranked, self._policy.whole_definition_tokens)
        if self._policy.mix_code_and_prose:
            ranked = alternate_code_and_prose(
                ranked,
                code_first=code_leads,
                tests_last=self._policy.tests_after_code and not asks_about_tests(question),
            )
        return ranked[:wanted]

    async def _query(self, question: str) -> Query:
        if (
            self._reranker is not None
            and self._reranker.wants_tokens
            and isinstance(self._embedder, TokenEmbedder)
        ):
            (embedded,) = await self._embedder.embed_with_tokens([question])
            return Query(question, embedded.vector, embedded.tokens)
        return Query(question, await self._embedder.embed_query(question))

    @property
    def min_similarity(self) -> float:
        return self._policy.min_similarity

    async def ranked(self, scope: Scope, question: str) -> list[Passage] | None:
        """The best passages before any relevance cut-off, or None when the scope holds no
        documents at all: for callers that judge the ranking as a whole (abstention)."""
        if not await self._store.any_ready(scope):
            return None
        return await self.search(scope, question)

    async def relevant(self, scope: Scope, question: str) -> list[Passage] | None:
        """The passages worth showing the model (those close enough to the question), or None
        when the scope holds no documents at all."""
        # Checked first: most users of a fresh install have no documents, and embedding the
        # question is the costly part.
        if not await self._store.any_ready(scope):
            return None
        passages = await self.search(scope, question)
        return [p for p in passages if p.similarity >= self._policy.min_similarity]


async def rerank_prose(reranker: Reranker, query: Query, ranked: list[Passage]) -> list[Passage]:
    """The prose passages reordered by `reranker`, each code passage kept where fusion put it.

    The token vectors the reranker matches cover a passage's first 256 tokens: all of a section
    of prose, a quarter of a long function, whose answer is more often further down. Reranking
    code moved eval/code-dev.jsonl by nothing and cost code-dev2 two questions of 45."""
    prose = [p for p in ranked if not p.is_code]
    if len(prose) == len(ranked):
        return await reranker.rerank(query, ranked)
    reordered = iter(await reranker.rerank(query, prose))
    return [p if p.is_code else next(reordered) for p in ranked]


def alternate_code_and_prose(
    passages: list[Passage], *, code_first: bool = False, tests_last: bool = False
) -> list[Passage]:
    """Code and prose taking turns, each in its own order, the best passage first (the best code
    passage first with `code_first`; with `tests_last`, the code's own tests after all of it).

    A repository's own documentation shares a question's words far more than its code does, so
    on fused scores alone the pages about a feature fill the top ranks and the code a newcomer
    asked about ("where is this checked?") falls below them. Alternating keeps both what the
    docs say and where the code is among the first passages; a scope with only one kind is left
    as it is. Even alternating, the docs' pages lead most of the time for the same reason, so
    `code_first` lets the code lead: the docs' answer is still second.

    Tests name themselves after what they check (`test_session_dynamic_cookie_name`), so they
    share a question's words more than the code that answers "where does Flask get the cookie's
    name?" does; `tests_last` keeps them behind that code, for questions not about tests."""
    code = [p for p in passages if p.is_code]
    if tests_last:
        code = [p for p in code if not p.is_test] + [p for p in code if p.is_test]
    prose = [p for p in passages if not p.is_code]
    if not code or not prose:
        return passages
    first, second = (code, prose) if code_first or passages[0].is_code else (prose, code)
    mixed = [p for pair in zip_longest(first, second) for p in pair if p is not None]
    return mixed


class KnowledgeSource:
    """The `ContextSource` of the team's documents."""

    name = "documents"

    def __init__(self, retriever: Retriever) -> None:
        self._retriever = retriever

    async def context_for(self, question: Turn) -> Context:
        passages = await self._retriever.relevant(Scope(question.user_id), question.content)
        if passages is None:
            return Context()
        items = tuple(
            f"[{n}] {p.location}\n{p.content if p.is_code else readable(p.content)}"
            for n, p in enumerate(passages, 1)
        )
        citations = tuple(p.citation(n) for n, p in enumerate(passages, 1))
        return Context(ContextBlock(SOURCES_TITLE, items, when_empty=NOTHING_FOUND), citations)

"""The MCP server: Allin's tools and resources, each call authenticated, scoped to its token's
scopes, rate limited like chat messages, and answered with the REST API's errors as tool errors
("forbidden: …") an agent can read."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from allin import __version__
from allin.api.deps import check_owner, checked_ids
from allin.api.memories import get_memory
from allin.api.trust import Experts
from allin.auth.principal import Principal, TokenScope
from allin.errors import AllinError, BadRequest, RateLimited, Unauthorized, as_allin_error
from allin.mcp_server import reading, uris
from allin.mcp_server.asking import ask
from allin.mcp_server.schemas import (
    Answer,
    Citation,
    FoundPassage,
    OnboardingNext,
    Recalled,
    Remembered,
    SearchResult,
    Source,
)
from allin.rag.document_records import Passage
from allin.rag.hybrid import Scope
from allin.services import Services

logger = logging.getLogger(__name__)

# Where the HTTP endpoint leaves the caller it verified, in the request's ASGI scope.
PRINCIPAL_KEY = "allin.principal"
MAX_K = 20
DEFAULT_CHAT = "mcp"

INSTRUCTIONS = """\
Allin knows this team's documents and git repositories, and remembers things about the user.
Use search_knowledge to find passages (each with a citation and a uri), read_source to open a
cited passage or file lines in full, ask_allin for a written, cited answer (stored in the user's
chat history), who_knows for the people to ask about a topic, onboarding_next for the user's next
step on the team's onboarding path, and remember/recall for what the user wants Allin to keep in
mind."""


@dataclass(frozen=True, slots=True)
class Backend:
    """What the tools run on: the app's services (its per-user rates among them)."""

    services: Services


Query = Annotated[str, Field(min_length=1, max_length=2000, description="What to look for.")]
K = Annotated[int, Field(ge=1, le=MAX_K, description=f"How many passages, 1 to {MAX_K}.")]


class AllinTools:
    """Builds the `MCPServer`. `backend` is called per call (the app's services exist only once
    it has started); `token` is the stdio process's `ALLIN_TOKEN`, verified again on every call
    so that revoking it takes effect at once. Over HTTP the endpoint has verified the caller."""

    def __init__(self, backend: Callable[[], Backend], token: str | None = None) -> None:
        self._backend = backend
        self._token = token

    def server(
        self,
        lifespan: Callable[[MCPServer[Any]], AbstractAsyncContextManager[Any]] | None = None,
    ) -> MCPServer[Any]:
        server: MCPServer[Any] = MCPServer(
            "allin", version=__version__, instructions=INSTRUCTIONS, lifespan=lifespan
        )
        read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)
        server.add_tool(self.search_knowledge, annotations=read_only)
        server.add_tool(self.ask_allin, annotations=ToolAnnotations(open_world_hint=False))
        server.add_tool(self.read_source, annotations=read_only)
        server.add_tool(self.who_knows, annotations=read_only)
        server.add_tool(self.remember, annotations=ToolAnnotations(open_world_hint=False))
        server.add_tool(self.recall, annotations=read_only)
        server.add_tool(self.onboarding_next, annotations=read_only)
        server.resource(
            uris.DOCUMENT,
            name="document",
            description="A document of yours or the team's, as text.",
            mime_type="text/plain",
        )(self.document)
        server.resource(
            uris.REPOSITORY_FILE,
            name="repository-file",
            description="An indexed file of a team repository (at `commit`, default the synced "
            "one; `lines` like 10-42 for a range).",
            mime_type="text/plain",
        )(self.repository_file)
        return server

    async def search_knowledge(
        self,
        query: Query,
        ctx: Context,
        k: K = 5,
        sources: Annotated[
            list[str] | None,
            Field(
                max_length=20,
                description="Only passages from these documents or repositories (names or ids).",
            ),
        ] = None,
    ) -> SearchResult:
        """Search the team's documents and repositories (and the user's own documents) for
        passages about `query`, best first, each with a citation: where it is ('document ›
        heading' or 'repo › path:L10–L42 @ commit') and a uri for read_source."""
        async with self._call(ctx, "read") as (services, principal):
            # Filtering by source happens after ranking: look further down the ranking for it.
            wanted = min(k * 5, 100) if sources else k
            found = await services.retriever.search(Scope(principal.user_id), query, wanted)
            if sources:
                names = set(sources)
                found = [p for p in found if names & _names_of(p)][:k]
            return SearchResult(
                query=query,
                passages=[
                    FoundPassage(
                        citation=Citation.of(p.citation(n)), content=p.content, score=p.score
                    )
                    for n, p in enumerate(found, 1)
                ],
            )

    async def who_knows(
        self,
        topic: Annotated[
            str, Field(min_length=1, max_length=500, description="What you need someone for.")
        ],
        ctx: Context,
    ) -> Experts:
        """Who on the team is likely to know about `topic`: the CODEOWNERS of the most related
        files, else the people with the most recent commits to them, else the uploaders of the
        most related documents; each with the reasons (files, commit counts, last activity)."""
        async with self._call(ctx, "read") as (services, principal):
            cleaned = " ".join(topic.split())
            if not cleaned:
                raise BadRequest("topic is empty: say what you want to know about")
            return Experts(
                topic=cleaned,
                experts=await services.knowledge.who_knows(principal.user_id, cleaned),
            )

    async def ask_allin(
        self,
        question: Annotated[
            str, Field(min_length=1, description="The question, as to a colleague.")
        ],
        ctx: Context,
        chat_id: Annotated[
            str,
            Field(
                description="One of your chats: its id, or 'user_id/chat_id' as in the web "
                "app's addresses. Follow-up questions in one chat see the earlier turns."
            ),
        ] = DEFAULT_CHAT,
    ) -> Answer:
        """Ask Allin a question: it answers from the team's knowledge and what it remembers about
        you, with numbered citations, and the turn is kept in your chat history (as if asked in
        the web app). Slower than search_knowledge; use it for an explanation, not a lookup."""
        async with self._call(ctx, "ask") as (services, principal):
            owner, _, chat = chat_id.rpartition("/")
            if owner:
                checked_ids(owner)
                check_owner(principal, owner)
            checked_ids(chat)
            return await ask(services, principal.user_id, chat, question)

    async def read_source(
        self,
        citation: Annotated[
            str,
            Field(
                max_length=4096,
                description="A citation's `uri` (from search_knowledge or ask_allin), or its "
                "chunk_id.",
            ),
        ],
        ctx: Context,
    ) -> Source:
        """Open what a citation points at: a passage in full, or a repository file's cited lines
        at the cited commit (with its language and a link to the hosting site, if any)."""
        async with self._call(ctx, "read") as (services, principal):
            return await reading.read(services, principal, citation, uris.parse(citation))

    async def remember(
        self,
        fact: Annotated[
            str,
            Field(
                min_length=1,
                max_length=1000,
                description="One fact about the user, e.g. 'I work on the billing service'.",
            ),
        ],
        ctx: Context,
    ) -> Remembered:
        """Have Allin remember a fact about the user for later answers (it is shown and can be
        corrected or forgotten in the web app's memory page)."""
        async with self._call(ctx, "remember") as (services, principal):
            memory = get_memory(services)
            if not fact.strip():
                raise BadRequest("the fact is empty")
            added = await memory.remember(principal.user_id, DEFAULT_CHAT, fact.strip())
            return Remembered(fact=fact.strip(), remembered=added)

    async def recall(self, query: Query, ctx: Context, k: K = 5) -> Recalled:
        """What Allin remembers about the user that is closest to `query`."""
        async with self._call(ctx, "read") as (services, principal):
            memory = get_memory(services)
            found = await memory.search(
                principal.user_id, query, top_k=k, threshold=services.settings.memory_threshold
            )
            return Recalled(query=query, memories=found)

    async def onboarding_next(self, ctx: Context) -> OnboardingNext:
        """The user's next step on the team's onboarding path (what to do, who owns it, the files
        and documents it links, questions to start with), and how far along they are."""
        async with self._call(ctx, "read") as (services, principal):
            found = await services.onboarding.next_step(principal.user_id)
            if found is None:
                paths = await services.onboarding.progress(principal.user_id, start=False)
                note = (
                    "Every onboarding step is done."
                    if paths
                    else "The team has no onboarding path yet (ONBOARDING.md in a repository)."
                )
                return OnboardingNext(next_step=None, path=None, percent=None, note=note)
            progress, step = found
            owner = f" (owner: {step.step.owner})" if step.step.owner else ""
            return OnboardingNext(
                next_step=step,
                path=progress.title,
                percent=progress.percent,
                note=f"Next: {step.step.title}{owner}, stage {step.stage_number} of "
                f"{step.stage_count} of {progress.title}.",
            )

    async def document(self, document_id: str, ctx: Context) -> str:
        async with self._call(ctx, "read", ResourceError) as (services, principal):
            return await reading.document_text(services, principal, document_id)

    async def repository_file(
        self, repository_id: str, path: str, ctx: Context, commit: str = "", lines: str = ""
    ) -> str:
        async with self._call(ctx, "read", ResourceError) as (services, principal):
            values = {
                "repository_id": repository_id,
                "path": path,
                "commit": commit,
                "lines": lines,
            }
            target = uris.Target("file", {key: value for key, value in values.items() if value})
            uri = uris.REPOSITORY_FILE
            return (await reading.read(services, principal, uri, target)).content

    @asynccontextmanager
    async def _call(
        self, ctx: Context, scope: TokenScope, failure: type[Exception] = ToolError
    ) -> AsyncIterator[tuple[Services, Principal]]:
        """One call: who is calling, whether the token allows it and the rate limit has room.
        Our errors become `failure` (a tool's or a resource's error) with their code, which the
        SDK shows the agent; anything else is logged and shown as `internal`."""
        backend = self._backend()
        try:
            principal = await self._principal(ctx, backend.services)
            principal.require(scope)
            # The user's message allowance, shared with the chat, across processes.
            wait = await backend.services.rates.message_wait(principal.user_id)
            if wait is not None:
                per_minute = backend.services.settings.rate_limit_per_minute
                raise RateLimited(f"more than {per_minute} calls a minute; wait a moment", wait)
            yield backend.services, principal
        except (ToolError, ResourceError):
            raise
        except Exception as exc:
            error = as_allin_error(exc)
            if not isinstance(exc, AllinError):
                logger.exception("MCP call failed")
            raise failure(f"{error.code}: {error.message}") from None

    async def _principal(self, ctx: Context, services: Services) -> Principal:
        request = ctx.request_context.request
        if request is not None:
            principal = request.scope.get(PRINCIPAL_KEY)
            if isinstance(principal, Principal):
                return principal
        elif self._token is not None:
            return await services.tokens.verify(self._token)
        raise Unauthorized("no access token: send 'Authorization: Bearer <token>'")


def _names_of(passage: Passage) -> set[str]:
    names = {passage.document_id, passage.document_name}
    if passage.repository_id:
        names |= {passage.repository_id, passage.repository or ""}
    return names

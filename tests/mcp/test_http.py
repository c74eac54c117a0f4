"""The MCP server at /mcp, driven by the official SDK's client over Streamable HTTP against the
live app: the tools an editor's agent sees, and what each does with a real account."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from mcp import MCPError

from allin.app import create_app
from tests.mcp.conftest import McpSite, personal_token
from tests.support.accounts import sign_up
from tests.support.mcp_client import error_text, mcp_client, structured
from tests.support.servers import serve_ready

TOOLS = {
    "search_knowledge",
    "ask_allin",
    "read_source",
    "who_knows",
    "onboarding_next",
    "remember",
    "recall",
}


async def test_the_tools_are_listed_with_their_schemas(site: McpSite) -> None:
    token = (await personal_token(site.url, site.admin))["token"]
    async with mcp_client(site.url, token) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(listed) == TOOLS
    search = listed["search_knowledge"]
    assert search.description and "citation" in search.description
    k = search.input_schema["properties"]["k"]
    assert (k["minimum"], k["maximum"], k["default"]) == (1, 20, 5)
    assert search.input_schema["required"] == ["query"]
    assert search.output_schema is not None and "passages" in search.output_schema["properties"]
    assert listed["search_knowledge"].annotations is not None
    assert listed["search_knowledge"].annotations.read_only_hint is True


async def test_search_finds_a_document_with_its_citation_and_opens_it(site: McpSite) -> None:
    token = (await personal_token(site.url, site.admin))["token"]
    async with mcp_client(site.url, token) as client:
        found = structured(
            await client.call_tool(
                "search_knowledge", {"query": "how does billing deploy?", "k": 3}
            )
        )
        best = found["passages"][0]
        citation = best["citation"]
        assert "make release-billing" in best["content"]
        assert citation["location"] == (
            "release-handbook.md › Release handbook › Deploying the billing service"
        )
        assert citation["document_id"] == site.document_id
        assert citation["uri"] == f"allin://passages/{citation['chunk_id']}"

        opened = structured(await client.call_tool("read_source", {"citation": citation["uri"]}))
        assert "make release-billing" in opened["content"]
        assert opened["location"] == citation["location"]


async def test_bad_input_is_a_clear_tool_error(site: McpSite) -> None:
    token = (await personal_token(site.url, site.admin))["token"]
    async with mcp_client(site.url, token) as client:
        huge = await client.call_tool("search_knowledge", {"query": "billing", "k": 10_000})
        assert huge.is_error
        assert "k" in error_text(huge) and "less than or equal to 20" in error_text(huge)
        nonsense = await client.call_tool("read_source", {"citation": "https://example.com"})
        assert nonsense.is_error and "is not a citation" in error_text(nonsense)
        missing = await client.call_tool("read_source", {"citation": "allin://passages/999999"})
        assert missing.is_error and error_text(missing).endswith(
            "not_found: passage 999999 does not exist"
        )


async def test_another_users_private_passage_is_refused(site: McpSite) -> None:
    owner, other = await sign_up(site.url), await sign_up(site.url)
    async with httpx.AsyncClient(base_url=site.url, timeout=60) as http:
        uploaded = await http.post(
            "/api/v1/documents",
            files={"files": ("diary.md", b"# Diary\n\nMy secret plan is kale.", "text/markdown")},
            headers=owner.headers,
        )
    document_id = uploaded.json()["files"][0]["document"]["id"]
    token = (await personal_token(site.url, other))["token"]
    async with mcp_client(site.url, token) as client:
        found = structured(await client.call_tool("search_knowledge", {"query": "secret plan"}))
        assert all(p["citation"]["document_id"] != document_id for p in found["passages"])
        opened = await client.call_tool(
            "read_source", {"citation": f"allin://documents/{document_id}"}
        )
        assert opened.is_error and "not_found" in error_text(opened)


async def test_ask_stores_the_turn_in_the_users_chat_history(site: McpSite) -> None:
    account = await sign_up(site.url)
    token = (await personal_token(site.url, account, "read", "ask"))["token"]
    async with mcp_client(site.url, token) as client:
        answered = structured(
            await client.call_tool(
                "ask_allin", {"question": "How do I deploy the billing service?"}
            )
        )
    assert answered["chat_id"] == "mcp" and answered["answer"]
    assert any("make release-billing" in c["snippet"] for c in answered["citations"])
    async with httpx.AsyncClient(base_url=site.url) as http:
        history = await http.get(answered["history"], headers=account.headers)
    turns = history.json()["turns"]
    assert [t["role"] for t in turns] == ["user", "assistant"]
    assert turns[0]["content"] == "How do I deploy the billing service?"
    assert turns[1]["id"] == answered["answer_turn_id"]


async def test_asking_takes_the_ask_scope_and_ones_own_chat(site: McpSite) -> None:
    owner, other = await sign_up(site.url), await sign_up(site.url)
    read_only = (await personal_token(site.url, other))["token"]
    async with mcp_client(site.url, read_only) as client:
        refused = await client.call_tool("ask_allin", {"question": "hello?"})
    assert refused.is_error and "forbidden" in error_text(refused)
    assert "'ask' scope" in error_text(refused)

    asker = (await personal_token(site.url, other, "ask"))["token"]
    async with mcp_client(site.url, asker) as client:
        theirs = await client.call_tool(
            "ask_allin", {"question": "hello?", "chat_id": f"{owner.user_id}/mcp"}
        )
        assert theirs.is_error
        assert "forbidden: this belongs to another user" in error_text(theirs)
        bad = await client.call_tool("ask_allin", {"question": "hello?", "chat_id": "a b"})
        assert bad.is_error and "bad_request" in error_text(bad)


async def test_a_revoked_token_is_refused(site: McpSite) -> None:
    account = await sign_up(site.url)
    created = await personal_token(site.url, account)
    async with mcp_client(site.url, created["token"]) as client:
        structured(await client.call_tool("search_knowledge", {"query": "rollback"}))
        async with httpx.AsyncClient(base_url=site.url) as http:
            revoked = await http.delete(
                f"/api/v1/tokens/{created['details']['id']}", headers=account.headers
            )
            assert revoked.status_code == 200
        # Stateless: every call is authenticated again, so the open client is refused at once.
        with pytest.raises(MCPError):
            await client.call_tool("search_knowledge", {"query": "rollback"})
    async with httpx.AsyncClient(base_url=site.url) as http:
        direct = await http.post(
            "/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={"Authorization": f"Bearer {created['token']}"},
        )
    assert direct.status_code == 401
    assert direct.json() == {
        "error": "unauthorized",
        "detail": "this personal access token is unknown, revoked or expired",
    }
    assert direct.headers["www-authenticate"] == "Bearer"


async def test_remember_and_recall(site: McpSite) -> None:
    account = await sign_up(site.url)
    token = (await personal_token(site.url, account, "read", "remember"))["token"]
    async with mcp_client(site.url, token) as client:
        kept = structured(
            await client.call_tool("remember", {"fact": "I work on the billing service"})
        )
        assert kept["remembered"] is True
        again = structured(
            await client.call_tool("remember", {"fact": "I work on the billing service"})
        )
        assert again["remembered"] is False
        recalled = structured(await client.call_tool("recall", {"query": "which service?"}))
    assert [m["text"] for m in recalled["memories"]] == ["I work on the billing service"]


async def test_documents_are_resources(site: McpSite) -> None:
    token = (await personal_token(site.url, site.admin))["token"]
    async with mcp_client(site.url, token) as client:
        templates = (await client.list_resource_templates()).resource_templates
        assert {t.uri_template for t in templates} >= {"allin://documents/{document_id}"}
        read = await client.read_resource(f"allin://documents/{site.document_id}")
    assert "Release handbook" in read.contents[0].text  # type: ignore[union-attr]


async def test_the_endpoint_speaks_http_plainly(site: McpSite) -> None:
    async with httpx.AsyncClient(base_url=site.url, timeout=10) as http:
        anonymous = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert anonymous.status_code == 401 and anonymous.json()["error"] == "unauthorized"
        # Stateless: no stream of server-initiated messages to hold open for a GET.
        stream = await http.get("/mcp", headers=site.admin.headers)
        assert stream.status_code == 405 and stream.headers["allow"] == "POST"


@pytest.fixture(scope="module")
def strict_server(site: McpSite) -> Iterator[str]:
    """A second app on the same database: memory off, and 12 calls a minute (3 at once)."""
    settings = site.settings.model_copy(
        update={"memory": False, "jobs_worker": False, "rate_limit_per_minute": 12}
    )
    with serve_ready(create_app(settings)) as url:
        yield url


async def test_memory_tools_say_when_memory_is_off(site: McpSite, strict_server: str) -> None:
    token = (await personal_token(site.url, site.admin, "read", "remember"))["token"]
    async with mcp_client(strict_server, token) as client:
        for tool, arguments in [("remember", {"fact": "I use vim"}), ("recall", {"query": "x"})]:
            refused = await client.call_tool(tool, arguments)
            assert refused.is_error
            assert "long-term memory is off on this server" in error_text(refused)


async def test_tool_calls_share_the_chat_rate_limit(site: McpSite, strict_server: str) -> None:
    account = await sign_up(site.url)
    token = (await personal_token(site.url, account))["token"]
    async with mcp_client(strict_server, token) as client:
        results = [
            await client.call_tool("search_knowledge", {"query": "rollback"}) for _ in range(4)
        ]
    assert [result.is_error for result in results] == [False, False, False, True]
    assert "rate_limited: more than 12 calls a minute" in error_text(results[-1])


async def test_clients_of_the_handshake_era_work_too(site: McpSite) -> None:
    """Editors today speak protocol 2025-xx with an initialize handshake, not 2026's discovery."""
    token = (await personal_token(site.url, site.admin))["token"]
    async with mcp_client(site.url, token, mode="legacy") as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == TOOLS
        found = structured(await client.call_tool("search_knowledge", {"query": "rollback"}))
    assert found["passages"]


async def test_who_knows_names_the_uploader_of_the_related_document(site: McpSite) -> None:
    colleague = await sign_up(site.url)
    token = (await personal_token(site.url, colleague))["token"]
    async with mcp_client(site.url, token) as client:
        found = structured(await client.call_tool("who_knows", {"topic": "billing deploys"}))
        assert found["topic"] == "billing deploys"
        (first, *_) = found["experts"]
        assert (first["name"], first["basis"]) == (site.admin.email, "uploader")
        assert first["reasons"] == ["uploaded `release-handbook.md`"]
        blank = await client.call_tool("who_knows", {"topic": "   "})
        assert blank.is_error and "topic is empty" in error_text(blank)

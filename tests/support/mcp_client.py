"""The official MCP SDK's client, over Streamable HTTP with a bearer token, as an editor uses it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, TextContent


@asynccontextmanager
async def mcp_client(base_url: str, token: str, mode: str = "auto") -> AsyncIterator[Client]:
    """`mode="legacy"` speaks the initialize handshake (protocol 2025-xx), as today's editors do;
    "auto" negotiates the newest version the server offers."""
    http = httpx2.AsyncClient(
        headers={"Authorization": f"Bearer {token}"}, timeout=httpx2.Timeout(30, read=60)
    )
    transport = streamable_http_client(f"{base_url}/mcp", http_client=http)
    async with http, Client(transport, mode=mode) as client:  # type: ignore[arg-type]
        yield client


def structured(result: CallToolResult) -> dict[str, Any]:
    """A successful call's typed result."""
    assert not result.is_error, error_text(result)
    assert result.structured_content is not None
    return result.structured_content


def error_text(result: CallToolResult) -> str:
    texts = [block.text for block in result.content if isinstance(block, TextContent)]
    return " ".join(texts) or json.dumps(result.model_dump(mode="json"))

"""`allin mcp --stdio` as an agent launches it: a real process on the test database, found through
DATABASE_URL and ALLIN_DATA_DIR, acting as the user of ALLIN_TOKEN."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from mcp import Client, StdioServerParameters

from tests.conftest import project_root
from tests.mcp.conftest import McpSite, personal_token
from tests.mcp.test_http import TOOLS
from tests.support.mcp_client import structured


def launch(site: McpSite, token: str) -> StdioServerParameters:
    env = {
        **os.environ,
        "DATABASE_URL": str(site.settings.database_url),
        "ALLIN_DATA_DIR": str(site.settings.data_dir),
        "ALLIN_LLM": "offline",
        "ALLIN_VOICE": "off",
        "ALLIN_TOKEN": token,
    }
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "allin", "mcp", "--stdio"],
        env=env,
        cwd=str(project_root()),
    )


async def test_over_stdio_the_tools_are_listed_and_search_works(site: McpSite) -> None:
    token = (await personal_token(site.url, site.admin))["token"]
    async with Client(launch(site, token), read_timeout_seconds=90) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == TOOLS
        found = structured(
            await client.call_tool("search_knowledge", {"query": "how do I roll back billing?"})
        )
    assert any("rollback-billing" in p["content"] for p in found["passages"])
    assert found["passages"][0]["citation"]["document"] == "release-handbook.md"


async def test_over_stdio_a_bad_token_stops_the_server_saying_why(site: McpSite) -> None:
    params = launch(site, "allin_pat_not-a-token")
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "0"},
        },
    }
    result = await asyncio.to_thread(
        subprocess.run,
        [params.command, *params.args],
        input=json.dumps(initialize) + "\n",
        capture_output=True,
        text=True,
        env=params.env,
        cwd=params.cwd,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "ALLIN_TOKEN: this personal access token is unknown, revoked or expired" in (
        result.stderr
    )
    assert result.stdout == ""


def test_without_a_token_it_says_what_to_set() -> None:
    env = {key: value for key, value in os.environ.items() if key != "ALLIN_TOKEN"}
    result = subprocess.run(
        [sys.executable, "-m", "allin", "mcp", "--stdio"],
        capture_output=True,
        text=True,
        env=env,
        cwd=project_root(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "set ALLIN_TOKEN" in result.stderr

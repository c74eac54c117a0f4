"""One app on a fresh database for the MCP tests, so the first sign-up here is its admin (who may
share documents with the whole team), and a small shared document to find."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from allin.app import create_app
from allin.config import Settings
from tests.conftest import make_settings, new_database
from tests.support.accounts import Account, sign_up
from tests.support.servers import serve_ready

HANDBOOK = b"""# Release handbook

## Deploying the billing service

Billing deploys with `make release-billing` from the main branch, every Tuesday after the
freeze lifts. The on-call engineer watches the payments dashboard for thirty minutes.

## Rolling back

Run `make rollback-billing VERSION=<previous tag>`; rollbacks need no approval.
"""


@dataclass(frozen=True)
class McpSite:
    url: str
    settings: Settings
    admin: Account
    document_id: str


@pytest.fixture(scope="module")
def mcp_settings(postgres: Any, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # Its own job worker: the repository test syncs through the queue, as the app does.
    return make_settings(
        database_url=new_database(postgres),
        data_dir=tmp_path_factory.mktemp("mcp-data"),
        jobs_worker=True,
    )


@pytest.fixture(scope="module")
def mcp_server(mcp_settings: Settings) -> Iterator[str]:
    with serve_ready(create_app(mcp_settings)) as url:
        yield url


@pytest.fixture(scope="module")
async def site(mcp_server: str, mcp_settings: Settings) -> McpSite:
    admin = await sign_up(mcp_server)
    async with httpx.AsyncClient(base_url=mcp_server, timeout=60) as http:
        uploaded = await http.post(
            "/api/v1/documents",
            files={"files": ("release-handbook.md", HANDBOOK, "text/markdown")},
            data={"shared": "true"},
            headers=admin.headers,
        )
    assert uploaded.status_code == 200, uploaded.text
    document = uploaded.json()["files"][0]["document"]
    return McpSite(mcp_server, mcp_settings, admin, document["id"])


async def personal_token(base_url: str, account: Account, *scopes: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.post(
            "/api/v1/tokens",
            json={"name": "editor", "scopes": list(scopes or ["read"])},
            headers=account.headers,
        )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]

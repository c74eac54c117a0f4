"""Code citations over MCP: a synced repository's passage is cited by path, lines and commit, and
read_source opens exactly those lines of the file at that commit."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.api.test_repositories import until_synced
from tests.mcp.conftest import McpSite, personal_token
from tests.support.gitrepo import GitRepo
from tests.support.mcp_client import error_text, mcp_client, structured

LEDGER = '''"""The ledger: every payment is posted twice."""


def post_refund(ledger, payment, amount):
    """A refund reverses the payment's two entries; partial refunds reverse part of each."""
    if amount > payment.amount:
        raise ValueError("a refund cannot exceed its payment")
    ledger.credit(payment.account, amount)
    ledger.debit(payment.revenue_account, amount)
'''


async def test_a_code_passage_is_cited_and_opened_at_its_commit(
    site: McpSite, tmp_path: Path
) -> None:
    repo = GitRepo(tmp_path / "payments")
    repo.write("src/payments/ledger.py", LEDGER)
    head = repo.commit("ledger")
    async with httpx.AsyncClient(base_url=site.url, timeout=60) as http:
        added = await http.post(
            "/api/v1/repositories", json={"location": str(repo.path)}, headers=site.admin.headers
        )
        assert added.status_code == 202, added.text
        repository = await until_synced(http, site.admin, added.json()["repository"]["id"])
    assert repository["status"] == "ready", repository

    token = (await personal_token(site.url, site.admin))["token"]
    async with mcp_client(site.url, token) as client:
        found = structured(
            await client.call_tool(
                "search_knowledge",
                {"query": "how is a refund posted to the ledger?", "sources": ["payments"]},
            )
        )
        assert found["passages"], "nothing found in the repository"
        citation = found["passages"][0]["citation"]
        assert citation["repository"] == "payments" and citation["commit"] == head
        assert citation["path"] == "src/payments/ledger.py"
        start, end = citation["start_line"], citation["end_line"]
        assert citation["location"] == (
            f"payments › src/payments/ledger.py:L{start}–L{end} @ {head[:7]}"
        )
        assert citation["uri"] == (
            f"allin://repositories/{repository['id']}/files/src/payments/ledger.py"
            f"?commit={head}&lines={start}-{end}"
        )

        opened = structured(await client.call_tool("read_source", {"citation": citation["uri"]}))
        assert opened["content"] == "\n".join(LEDGER.splitlines()[start - 1 : end])
        assert opened["commit"] == head and opened["language"] == "python"

        elsewhere = await client.call_tool(
            "read_source",
            {"citation": f"allin://repositories/{repository['id']}/files/src/../../etc/passwd"},
        )
        assert elsewhere.is_error and "not_found" in error_text(elsewhere)
        whole = await client.read_resource(
            f"allin://repositories/{repository['id']}/files/src/payments/ledger.py"
        )
    assert whole.contents[0].text == LEDGER  # type: ignore[union-attr]

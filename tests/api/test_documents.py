"""The knowledge base over real HTTP and WebSocket: upload, list, open, delete; answers that cite
the uploaded documents; documents seen only by their owner, or by everyone when an admin shares
them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from allin.app import create_app
from tests.conftest import make_settings, new_database, ws_url
from tests.support.accounts import Account, sign_up
from tests.support.servers import serve_ready
from tests.support.wsclient import ask

HANDBOOK = b"""# Handbook

## Paid time off

Everyone gets 25 days of paid vacation a year, plus public holidays.

## Expenses

Keep the receipt for anything over 20 euros.
"""


async def upload(
    base_url: str, account: Account, files: list[tuple[str, bytes]], **form: str
) -> httpx.Response:
    # The first upload of a run may wait for the embedding model to load.
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        return await http.post(
            "/api/v1/documents",
            headers=account.headers,
            files=[("files", (name, data)) for name, data in files],
            data=form,
        )


async def test_upload_list_open_and_delete(live_server: str, account: Account) -> None:
    response = await upload(
        live_server, account, [("handbook.md", HANDBOOK), ("logo.png", b"\x89PNG")]
    )
    assert response.status_code == 207, response.text
    good, bad = response.json()["files"]
    assert good["status"] == "indexed" and good["document"]["chunk_count"] == 2
    assert bad == {
        "name": "logo.png",
        "status": "failed",
        "document": None,
        "error": "bad_request",
        "detail": bad["detail"],
    }
    assert "unsupported file type" in bad["detail"]
    document_id = good["document"]["id"]

    async with httpx.AsyncClient(base_url=live_server, headers=account.headers) as http:
        listed = (await http.get("/api/v1/documents")).json()["documents"]
        assert [(d["name"], d["status"]) for d in listed if not d["shared"]] == [
            ("handbook.md", "ready")
        ]
        link = (await http.get(f"/api/v1/documents/{document_id}/link")).json()["url"]
        raw = await http.get(link, headers={"Authorization": ""})
        assert raw.status_code == 200 and raw.content == HANDBOOK
        assert raw.headers["content-type"].startswith("text/plain")
        tampered = await http.get(link.replace("sig=", "sig=0"), headers={"Authorization": ""})
        assert tampered.status_code == 403

        again = await upload(live_server, account, [("handbook.md", HANDBOOK)])
        assert again.status_code == 200 and again.json()["files"][0]["status"] == "unchanged"
        reindexed = await http.post(f"/api/v1/documents/{document_id}/reindex")
        assert reindexed.json()["status"] == "indexed"

        assert (await http.delete(f"/api/v1/documents/{document_id}")).status_code == 204
        gone = await http.get(f"/api/v1/documents/{document_id}")
        assert gone.status_code == 404 and gone.json()["error"] == "not_found"
        assert (await http.get(link, headers={"Authorization": ""})).status_code == 404


async def test_answer_cites_the_uploaded_document(live_server: str, account: Account) -> None:
    await upload(live_server, account, [("handbook.md", HANDBOOK)])
    async with connect(ws_url(live_server, account, "kb")) as socket:
        frames = await ask(socket, "m1", "How many vacation days do I get?")
    done = frames[-1]
    assert done["type"] == "done", frames
    citation = done["citations"][0]
    assert citation["n"] == 1 and citation["document"] == "handbook.md"
    assert citation["heading"] == "Handbook › Paid time off"
    # Who uploaded the cited document, and when it was last indexed.
    assert citation["updated_by"] == account.email and citation["updated_at"]
    answer = "".join(f["text"] for f in frames if f["type"] == "token")
    assert "[1]" in answer and "25 days of paid vacation" in answer
    assert done["turn"]["metadata"]["citations"] == done["citations"]

    async with httpx.AsyncClient(base_url=live_server, headers=account.headers) as http:
        passage = await http.get(f"/api/v1/passages/{citation['chunk_id']}")
        assert "25 days of paid vacation" in passage.json()["content"]
        history = await http.get(f"/api/v1/chat/history/{account.user_id}/kb")
        assert history.json()["turns"][-1]["metadata"]["citations"][0]["n"] == 1


async def test_nothing_relevant_is_said_plainly(live_server: str, account: Account) -> None:
    await upload(live_server, account, [("handbook.md", HANDBOOK)])
    async with connect(ws_url(live_server, account, "kb-none")) as socket:
        frames = await ask(socket, "m1", "What is the airspeed of an unladen swallow?")
    answer = "".join(f["text"] for f in frames if f["type"] == "token")
    # Abstained on (issue 19): said first, and the asker is not sent to ask themselves.
    assert answer.startswith("**I couldn't find this in the team's knowledge.**")
    assert account.email not in answer
    assert frames[-1]["citations"] == []


async def test_another_users_documents_stay_private(live_server: str, account: Account) -> None:
    response = await upload(live_server, account, [("secret.md", b"# Secret\n\nThe code is 4417.")])
    document = response.json()["files"][0]["document"]
    intruder = await sign_up(live_server)
    async with httpx.AsyncClient(base_url=live_server, headers=intruder.headers) as http:
        assert (await http.get(f"/api/v1/documents/{document['id']}")).status_code == 404
        assert (await http.delete(f"/api/v1/documents/{document['id']}")).status_code == 404
        listed = (await http.get("/api/v1/documents")).json()["documents"]
        assert document["id"] not in [d["id"] for d in listed]
    async with connect(ws_url(live_server, intruder, "snoop")) as socket:
        frames = await ask(socket, "m1", "What is the secret code?")
    assert "4417" not in "".join(f.get("text", "") for f in frames)


@pytest.fixture
def team_server(postgres: Any, tmp_path: Path) -> Iterator[str]:
    """An app on a database of its own, so its first account is the admin."""
    settings = make_settings(database_url=new_database(postgres), data_dir=tmp_path)
    with serve_ready(create_app(settings)) as url:
        yield url


async def test_only_admins_share_and_shared_documents_reach_everyone(team_server: str) -> None:
    admin, member = await sign_up(team_server), await sign_up(team_server)
    refused = await upload(team_server, member, [("team.md", HANDBOOK)], shared="true")
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    shared = await upload(team_server, admin, [("team.md", HANDBOOK)], shared="true")
    document = shared.json()["files"][0]["document"]
    assert document["shared"] is True

    async with connect(ws_url(team_server, member, "c")) as socket:
        frames = await ask(socket, "m1", "how much paid vacation is there?")
    assert frames[-1]["citations"][0]["document_id"] == document["id"]
    async with httpx.AsyncClient(base_url=team_server, headers=member.headers) as http:
        assert (await http.delete(f"/api/v1/documents/{document['id']}")).status_code == 403
    async with httpx.AsyncClient(base_url=team_server, headers=admin.headers) as http:
        assert (await http.delete(f"/api/v1/documents/{document['id']}")).status_code == 204


async def test_upload_without_files_is_a_clear_error(live_server: str, account: Account) -> None:
    async with httpx.AsyncClient(base_url=live_server, headers=account.headers) as http:
        response = await http.post("/api/v1/documents", data={"shared": "false"})
    assert response.status_code == 422 and response.json()["error"] == "bad_request"

"""Input crafted to slip past validation: ids with a trailing newline or made of dots, numbers
past what Postgres stores. Each gets a clear refusal (422, or a 4400 close on the socket), never
a 500, and nothing is stored."""

from __future__ import annotations

import httpx
import psycopg
import pytest
from websockets.asyncio.client import connect

from tests.api.test_documents import upload
from tests.api.test_memories import say
from tests.api.test_ws import closed_with, history
from tests.conftest import ws_url
from tests.support.accounts import PASSWORD, Account
from tests.support.documents import make_pdf
from tests.support.wsclient import ask, next_frame, send

# Percent-encoded so that no client or server normalises them away before the app sees them.
BAD_CHAT_IDS = ["chat%0A", "%2E", "%2E%2E", "chat%0D%0A", "%00"]


@pytest.mark.parametrize("chat", BAD_CHAT_IDS)
async def test_a_socket_for_a_bad_chat_id_is_refused(
    live_server: str, account: Account, chat: str
) -> None:
    await closed_with(ws_url(live_server, account, chat), 4400, "bad_request")
    async with httpx.AsyncClient(base_url=live_server, headers=account.headers) as http:
        chats = (await http.get(f"/api/v1/chat/chats/{account.user_id}")).json()["chats"]
    assert chats == []


@pytest.mark.parametrize("chat", BAD_CHAT_IDS)
async def test_rest_routes_refuse_a_bad_chat_id(
    live_server: str, account: Account, chat: str
) -> None:
    base = f"/api/v1/chat/chats/{account.user_id}"
    async with httpx.AsyncClient(base_url=live_server, headers=account.headers) as http:
        for method, url, body in [
            ("GET", f"/api/v1/chat/history/{account.user_id}/{chat}", None),
            ("PATCH", f"{base}/{chat}", {"title": "renamed"}),
            ("DELETE", f"{base}/{chat}", None),
        ]:
            response = await http.request(method, url, json=body)
            assert response.status_code == 422, (method, url, response.text)
            assert response.json()["error"] == "bad_request"


@pytest.mark.parametrize("chat", ["chat\n", ".", "..", "chat\r\n", "\x00", "x" * 129, ""])
async def test_creating_a_chat_with_a_bad_id_is_refused(
    live_server: str, account: Account, chat: str
) -> None:
    async with httpx.AsyncClient(base_url=live_server, headers=account.headers) as http:
        response = await http.post(f"/api/v1/chat/chats/{account.user_id}", json={"chat_id": chat})
        assert response.status_code == 422, response.text
        assert "chat_id" in response.json()["detail"]
        assert (await http.get(f"/api/v1/chat/chats/{account.user_id}")).json()["chats"] == []


async def test_ids_with_dots_inside_are_still_fine(live_server: str, account: Account) -> None:
    async with httpx.AsyncClient(base_url=live_server, headers=account.headers) as http:
        response = await http.post(
            f"/api/v1/chat/chats/{account.user_id}", json={"chat_id": "v1.2..final"}
        )
    assert response.status_code == 201, response.text


BIGINT_MAX = 2**63 - 1


async def test_row_ids_past_bigint_are_refused_not_a_500(
    live_server: str, account: Account
) -> None:
    chat = f"/api/v1/chat/history/{account.user_id}/c1"
    async with httpx.AsyncClient(base_url=live_server, headers=account.headers) as http:
        await http.post(f"/api/v1/chat/chats/{account.user_id}", json={"chat_id": "c1"})
        for url in [
            f"{chat}?before={BIGINT_MAX + 1}",
            f"{chat}?before={10**30}",
            f"/api/v1/passages/{BIGINT_MAX + 1}",
            f"/api/v1/voice/{account.user_id}/c1/{BIGINT_MAX + 1}/audio",
        ]:
            response = await http.get(url)
            assert response.status_code == 422, (url, response.text)
            assert "less than or equal to" in response.json()["detail"]
        # The largest id Postgres stores is still a valid (empty) page.
        response = await http.get(f"{chat}?before={BIGINT_MAX}")
        assert response.status_code == 200 and response.json()["turns"] == []


# NUL (U+0000) is valid JSON and UTF-8, but Postgres text cannot hold it.
NUL = "\x00"


async def test_nul_in_credentials_is_refused(live_server: str) -> None:
    async with httpx.AsyncClient(base_url=live_server) as http:
        for route in ("signup", "login"):
            body = {"email": f"nul{NUL}@example.com", "password": PASSWORD}
            response = await http.post(f"/api/v1/auth/{route}", json=body)
            assert response.status_code == 422, (route, response.text)
            assert "NUL" in response.json()["detail"]


async def test_nul_in_chat_titles_is_refused(live_server: str, account: Account) -> None:
    base = f"/api/v1/chat/chats/{account.user_id}"
    async with httpx.AsyncClient(base_url=live_server, headers=account.headers) as http:
        created = await http.post(base, json={"chat_id": "c1", "title": "fine"})
        assert created.status_code == 201
        for method, url in [("POST", base), ("PATCH", f"{base}/c1")]:
            response = await http.request(method, url, json={"title": f"a{NUL}b"})
            assert response.status_code == 422, (method, response.text)
            assert "NUL" in response.json()["detail"]
        chats = (await http.get(base)).json()["chats"]
    assert [(c["chat_id"], c["title"]) for c in chats] == [("c1", "fine")]


async def test_nul_in_a_message_is_an_error_frame(live_server: str, account: Account) -> None:
    async with connect(ws_url(live_server, account, "c1")) as socket:
        await send(socket, type="message", id="m1", content=f"hello{NUL}world")
        error = await next_frame(socket)
        assert error["type"] == "error" and error["code"] == "bad_request", error
        assert "NUL" in error["message"]
        assert (await ask(socket, "m2", "still there?"))[-1]["type"] == "done"
    turns = await history(live_server, account, "c1")
    assert [t["content"] for t in turns if t["role"] == "user"] == ["still there?"]


async def test_nul_in_a_memory_edit_is_refused(live_server: str, account: Account) -> None:
    await say(live_server, account, "c", "I'm new to Go.")
    url = f"/api/v1/memories/{account.user_id}"
    async with httpx.AsyncClient(base_url=live_server, headers=account.headers) as http:
        [memory] = (await http.get(url)).json()["memories"]
        response = await http.patch(f"{url}/{memory['id']}", json={"text": f"Go{NUL}"})
        assert response.status_code == 422, response.text
        assert "NUL" in response.json()["detail"]
        assert (await http.get(url)).json()["memories"] == [memory]


async def test_nul_in_a_file_name_fails_that_file(live_server: str, account: Account) -> None:
    # By hand: httpx would percent-encode the NUL; a hostile client sends it raw.
    boundary = "hostile"
    parts = [(b"notes\x00.md", b"# Notes\n\nfine"), (b"ok.md", b"# Ok\n\nok")]
    body = (
        b"".join(
            b'--%s\r\nContent-Disposition: form-data; name="files"; filename="%s"\r\n\r\n%s\r\n'
            % (boundary.encode(), name, data)
            for name, data in parts
        )
        + f"--{boundary}--\r\n".encode()
    )
    headers = {**account.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    async with httpx.AsyncClient(base_url=live_server, timeout=60) as http:
        response = await http.post("/api/v1/documents", content=body, headers=headers)
    assert response.status_code == 207, response.text
    bad, good = response.json()["files"]
    assert (bad["status"], bad["error"]) == ("failed", "bad_request")
    assert "NUL" in bad["detail"]
    assert good["status"] == "indexed"


async def test_nul_inside_a_document_is_dropped(
    live_server: str, account: Account, database_url: str
) -> None:
    # Binary sniffing looks at the first 8 KiB only: this NUL comes after them.
    text = b"# Runbook\n\n" + b"Restart the queue worker.\n" * 400 + b"Page the on-call\x00 SRE.\n"
    pdf = make_pdf([f"Escalate to the{NUL} duty manager."])
    response = await upload(live_server, account, [("runbook.md", text), ("escalation.pdf", pdf)])
    assert response.status_code == 200, response.text
    assert [f["status"] for f in response.json()["files"]] == ["indexed", "indexed"]
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cursor = await conn.execute(
            "select string_agg(c.content, ' ') from document_chunks c"
            " join documents d on d.id = c.document_id where d.owner_id = %s",
            (account.user_id,),
        )
        row = await cursor.fetchone()
    assert row is not None
    assert "Page the on-call SRE." in row[0] and "Escalate to the duty manager." in row[0]

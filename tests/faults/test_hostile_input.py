"""Input crafted to slip past validation: ids with a trailing newline or made of dots, numbers
past what Postgres stores. Each gets a clear refusal (422, or a 4400 close on the socket), never
a 500, and nothing is stored."""

from __future__ import annotations

import httpx
import pytest

from tests.api.test_ws import closed_with
from tests.conftest import ws_url
from tests.support.accounts import Account

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

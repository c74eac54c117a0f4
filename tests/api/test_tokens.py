"""Personal access tokens over REST: shown once, stored as a hash, read-only by default, accepted
as bearer tokens for reading, refused once revoked."""

from __future__ import annotations

import hashlib

import httpx
import psycopg

from tests.support.accounts import Account, sign_up


async def create_token(http: httpx.AsyncClient, account: Account, **body: object) -> dict:  # type: ignore[type-arg]
    response = await http.post(
        "/api/v1/tokens", json={"name": "editor", **body}, headers=account.headers
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_token_is_shown_once_and_stored_as_a_hash(
    live_server: str, database_url: str
) -> None:
    account = await sign_up(live_server)
    async with httpx.AsyncClient(base_url=live_server) as http:
        created = await create_token(http, account)
        token = created["token"]
        assert token.startswith("allin_pat_")
        assert created["details"]["scopes"] == ["read"]
        listed = (await http.get("/api/v1/tokens", headers=account.headers)).json()["tokens"]
    assert [t["id"] for t in listed] == [created["details"]["id"]]
    assert token not in str(listed)
    assert listed[0]["hint"] == token[:14] + "…"
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "select token_hash from personal_tokens where id = %s", (listed[0]["id"],)
        ).fetchone()
    assert row is not None and row[0] == hashlib.sha256(token.encode()).hexdigest()


async def test_a_token_reads_the_api_as_its_owner_until_revoked(live_server: str) -> None:
    account = await sign_up(live_server)
    async with httpx.AsyncClient(base_url=live_server) as http:
        created = await create_token(http, account)
        pat = bearer(created["token"])
        me = await http.get("/api/v1/auth/me", headers=pat)
        assert me.status_code == 200 and me.json()["user_id"] == account.user_id
        chats = await http.get(f"/api/v1/chat/chats/{account.user_id}", headers=pat)
        assert chats.status_code == 200

        # Changes take a login session: a token cannot mint tokens, nor delete anything.
        minted = await http.post("/api/v1/tokens", json={"name": "x"}, headers=pat)
        assert minted.status_code == 403, minted.text
        assert "only reads" in minted.json()["detail"]

        revoked = await http.delete(
            f"/api/v1/tokens/{created['details']['id']}", headers=account.headers
        )
        assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
        refused = await http.get("/api/v1/auth/me", headers=pat)
        assert refused.status_code == 401
        assert "revoked" in refused.json()["detail"]


async def test_scopes_are_checked_and_others_tokens_are_not_found(live_server: str) -> None:
    owner, other = await sign_up(live_server), await sign_up(live_server)
    async with httpx.AsyncClient(base_url=live_server) as http:
        bad = await http.post(
            "/api/v1/tokens", json={"name": "x", "scopes": ["admin"]}, headers=owner.headers
        )
        assert bad.status_code == 422 and "scopes" in bad.json()["detail"]
        huge = await http.post(
            "/api/v1/tokens", json={"name": "x", "expires_in_days": 5000}, headers=owner.headers
        )
        assert huge.status_code == 422
        created = await create_token(http, owner, scopes=["ask"])
        # Without `read`, the token reads nothing over REST either.
        unread = await http.get("/api/v1/auth/me", headers=bearer(created["token"]))
        assert unread.status_code == 403 and "'read' scope" in unread.json()["detail"]
        theirs = await http.delete(
            f"/api/v1/tokens/{created['details']['id']}", headers=other.headers
        )
        assert theirs.status_code == 404
        assert (await http.get("/api/v1/tokens", headers=other.headers)).json()["tokens"] == []

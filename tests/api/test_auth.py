from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import psycopg
import pytest

from allin.app import create_app
from tests.conftest import make_settings, new_database
from tests.support.accounts import PASSWORD, sign_up
from tests.support.servers import serve_ready


@pytest.fixture
async def http(live_server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server) as client:
        yield client


def email() -> str:
    return f"{uuid.uuid4().hex[:10]}@Example.com"


async def test_signup_login_me_logout(http: httpx.AsyncClient) -> None:
    address = email()
    signed_up = await http.post(
        "/api/v1/auth/signup", json={"email": address, "password": PASSWORD}
    )
    assert signed_up.status_code == 201
    body = signed_up.json()
    assert body["token_type"] == "bearer" and body["user_id"] and body["access_token"]

    logged_in = await http.post(
        "/api/v1/auth/login", json={"email": address.lower(), "password": PASSWORD}
    )
    assert logged_in.status_code == 200 and logged_in.json()["user_id"] == body["user_id"]
    token = logged_in.json()["access_token"]
    me = await http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json() == {"user_id": body["user_id"], "email": address, "is_admin": body["is_admin"]}

    assert (
        await http.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 204
    after = await http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert after.status_code == 401 and "session has ended" in after.json()["detail"]
    # Logging out one session leaves the others working.
    first = body["access_token"]
    assert (
        await http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {first}"})
    ).status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "status", "error", "detail"),
    [
        (
            "signup",
            {"email": "not-an-email", "password": PASSWORD},
            400,
            "bad_request",
            "valid email",
        ),
        ("signup", {"email": "a@b.co", "password": "short"}, 400, "bad_request", "at least 8"),
        ("signup", {"email": "a@b.co"}, 422, "bad_request", "password"),
        (
            "login",
            {"email": "nobody@example.com", "password": PASSWORD},
            401,
            "unauthorized",
            "wrong email or password",
        ),
    ],
)
async def test_bad_credentials(
    http: httpx.AsyncClient, path: str, body: dict[str, Any], status: int, error: str, detail: str
) -> None:
    response = await http.post(f"/api/v1/auth/{path}", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error and detail in response.json()["detail"]


async def test_wrong_password_and_duplicate_email(
    http: httpx.AsyncClient, live_server: str
) -> None:
    account = await sign_up(live_server)
    wrong = await http.post(
        "/api/v1/auth/login", json={"email": account.email, "password": "x" * 12}
    )
    assert wrong.status_code == 401 and wrong.json()["detail"] == "wrong email or password"
    again = await http.post(
        "/api/v1/auth/signup", json={"email": account.email.upper(), "password": PASSWORD}
    )
    assert again.status_code == 409 and again.json()["error"] == "conflict"


async def test_client_config_is_public(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/v1/config")
    assert response.json() == {
        "auth_mode": "local",
        "voice": False,
        "model": "offline",
        "offline": True,
        "max_message_bytes": 32 * 1024,
        "signup": "open",
        "signup_domains": [],
        "supabase_url": None,
        "supabase_anon_key": None,
    }


@pytest.fixture
def fresh_app(postgres: Any, tmp_path: Any) -> Iterator[str]:
    settings = make_settings(database_url=new_database(postgres), data_dir=tmp_path)
    with serve_ready(create_app(settings)) as url:
        yield url


async def test_first_user_is_admin_but_no_backdoor(fresh_app: str) -> None:
    admin, user = await sign_up(fresh_app), await sign_up(fresh_app)
    async with httpx.AsyncClient(base_url=fresh_app) as http:
        assert (await http.get("/api/v1/auth/me", headers=admin.headers)).json()["is_admin"]
        assert not (await http.get("/api/v1/auth/me", headers=user.headers)).json()["is_admin"]
        peek = await http.get(f"/api/v1/chat/chats/{user.user_id}", headers=admin.headers)
    assert peek.status_code == 403


async def test_supabase_mode_has_no_local_accounts(postgres: Any, tmp_path: Any) -> None:
    settings = make_settings(
        database_url=new_database(postgres),
        data_dir=tmp_path,
        auth_mode="supabase",
        supabase_url="https://project.supabase.co",
        supabase_anon_key="anon-key",
    )
    with serve_ready(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            refused = await http.post(
                "/api/v1/auth/signup", json={"email": email(), "password": PASSWORD}
            )
            config = (await http.get("/api/v1/config")).json()
    assert refused.status_code == 400 and "Supabase Auth" in refused.json()["detail"]
    assert config == {
        "auth_mode": "supabase",
        "voice": False,
        "model": "offline",
        "offline": True,
        "max_message_bytes": 32 * 1024,
        "signup": None,
        "signup_domains": [],
        "supabase_url": "https://project.supabase.co",
        "supabase_anon_key": "anon-key",
    }


async def test_a_demoted_admin_loses_admin_rights_at_once(postgres: Any, tmp_path: Any) -> None:
    database = new_database(postgres)
    settings = make_settings(database_url=database, data_dir=tmp_path)
    with serve_ready(create_app(settings)) as url:
        admin = await sign_up(url)
        async with httpx.AsyncClient(base_url=url, headers=admin.headers) as http:
            assert (await http.get("/api/v1/auth/me")).json()["is_admin"]
            # The token, issued while they were admin, still says so; the database decides.
            with psycopg.connect(database, autocommit=True) as conn:
                conn.execute("update users set is_admin = false where id = %s", (admin.user_id,))
            assert not (await http.get("/api/v1/auth/me")).json()["is_admin"]
            shared = await http.post(
                "/api/v1/documents",
                files=[("files", ("team.md", b"# Team\n\nnotes"))],
                data={"shared": "true"},
            )
    assert shared.status_code == 403, shared.text

"""Closing open sign-up (issue #12, finding 5): `ALLIN_SIGNUP=invite` takes an admin's
invitation, used once; `ALLIN_SIGNUP_DOMAINS` lets addresses in those domains in without one."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from allin.app import create_app
from tests.conftest import make_settings, new_database
from tests.support.accounts import PASSWORD, Account, sign_up
from tests.support.servers import serve_ready


@pytest.fixture(scope="module")
def server(postgres: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = make_settings(
        database_url=new_database(postgres),
        data_dir=tmp_path_factory.mktemp("invites"),
        memory=False,
        signup="invite",
        signup_domains="team8.dev, Example.org",
    )
    with serve_ready(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
async def admin(server: str) -> Account:
    """The first account is always let in (someone must make the invitations): the admin."""
    return await sign_up(server)


@pytest.fixture
async def http(server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server) as client:
        yield client


def stranger() -> str:
    return f"{uuid.uuid4().hex[:10]}@elsewhere.com"


async def signup(http: httpx.AsyncClient, email: str, invite: str | None = None) -> httpx.Response:
    body = {"email": email, "password": PASSWORD, **({"invite": invite} if invite else {})}
    return await http.post("/api/v1/auth/signup", json=body)


async def test_the_config_says_sign_up_is_by_invitation(http: httpx.AsyncClient) -> None:
    config = (await http.get("/api/v1/config")).json()
    assert config["signup"] == "invite"
    assert config["signup_domains"] == ["team8.dev", "example.org"]


async def test_without_an_invitation_only_the_allowed_domains_sign_up(
    http: httpx.AsyncClient, admin: Account
) -> None:
    refused = await signup(http, stranger())
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert "team8.dev" in refused.json()["detail"]
    welcome = await signup(http, f"{uuid.uuid4().hex[:10]}@Team8.dev")
    assert welcome.status_code == 201 and welcome.json()["is_admin"] is False


async def test_an_invitation_is_used_once_and_only_by_its_address(
    http: httpx.AsyncClient, admin: Account
) -> None:
    invited = stranger()
    created = await http.post("/api/v1/invites", json={"email": invited}, headers=admin.headers)
    assert created.status_code == 201, created.text
    code = created.json()["code"]
    assert code.startswith("allin_inv_") and created.json()["details"]["email"] == invited
    assert created.json()["link"] == f"{str(http.base_url).rstrip('/')}/?invite={code}"

    wrong_person = await signup(http, stranger(), code)
    assert wrong_person.status_code == 403 and "invitation" in wrong_person.json()["detail"]
    assert (await signup(http, invited, code)).status_code == 201
    assert (await signup(http, stranger(), code)).status_code == 403

    listed = (await http.get("/api/v1/invites", headers=admin.headers)).json()["invites"]
    mine = next(i for i in listed if i["id"] == created.json()["details"]["id"])
    assert mine["used_at"] is not None and mine["used_by"] == invited
    assert all("code" not in i and "code_hash" not in i for i in listed)


async def test_an_email_already_taken_does_not_use_the_invitation_up(
    http: httpx.AsyncClient, admin: Account
) -> None:
    code = (await http.post("/api/v1/invites", json={}, headers=admin.headers)).json()["code"]
    taken = await signup(http, admin.email, code)
    assert taken.status_code == 409
    assert (await signup(http, stranger(), code)).status_code == 201


async def test_a_revoked_invitation_lets_no_one_in(http: httpx.AsyncClient, admin: Account) -> None:
    created = (await http.post("/api/v1/invites", json={}, headers=admin.headers)).json()
    revoked = await http.delete(
        f"/api/v1/invites/{created['details']['id']}", headers=admin.headers
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert (await signup(http, stranger(), created["code"])).status_code == 403


async def test_only_admins_manage_invitations(http: httpx.AsyncClient, admin: Account) -> None:
    member = await signup(http, f"{uuid.uuid4().hex[:10]}@team8.dev")
    headers = {"Authorization": f"Bearer {member.json()['access_token']}"}
    assert (await http.post("/api/v1/invites", json={}, headers=headers)).status_code == 403
    assert (await http.get("/api/v1/invites", headers=headers)).status_code == 403
    assert (await http.get("/api/v1/invites")).status_code == 401

"""Sign-up by invitation in the browser (issue #12, finding 5): an admin's invitation link opens
the sign-up form with the code filled in; without a code, the form says why it is refused."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from allin.app import create_app
from tests.conftest import make_settings, new_database
from tests.support.accounts import PASSWORD
from tests.support.servers import serve_ready


@pytest.fixture(scope="module")
def invite_server(postgres: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = make_settings(
        database_url=new_database(postgres),
        data_dir=tmp_path_factory.mktemp("invite-ui"),
        memory=False,
        signup="invite",
    )
    with serve_ready(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def invite_link(invite_server: str) -> str:
    """An invitation from the server's first account (its admin: always let in)."""
    admin = httpx.post(
        f"{invite_server}/api/v1/auth/signup",
        json={"email": f"{uuid.uuid4().hex[:10]}@example.com", "password": PASSWORD},
    )
    assert admin.status_code == 201, admin.text
    created = httpx.post(
        f"{invite_server}/api/v1/invites",
        json={},
        headers={"Authorization": f"Bearer {admin.json()['access_token']}"},
    )
    assert created.status_code == 201, created.text
    return str(created.json()["link"])


def fill_sign_up(page: Page) -> str:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    page.get_by_test_id("auth-email").fill(email)
    page.get_by_test_id("auth-password").fill(PASSWORD)
    page.get_by_test_id("auth-submit").click()
    return email


def test_without_an_invitation_sign_up_says_why(
    page: Page, invite_server: str, invite_link: str
) -> None:
    page.goto(invite_server)
    expect(page.get_by_test_id("auth-invite")).to_be_hidden()  # logging in needs none
    page.get_by_test_id("tab-signup").click()
    expect(page.get_by_test_id("auth-invite")).to_be_visible()
    fill_sign_up(page)
    expect(page.get_by_test_id("auth-error")).to_have_text(
        "sign-up is by invitation: ask an admin for one"
    )


def test_an_invitation_link_signs_up(page: Page, invite_link: str) -> None:
    page.goto(invite_link)
    expect(page.get_by_test_id("tab-signup")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("auth-invite")).to_have_value(invite_link.split("invite=")[1])
    email = fill_sign_up(page)
    expect(page.get_by_test_id("account-email")).to_have_text(email)

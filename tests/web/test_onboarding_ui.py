"""Onboarding in the browser, the issue's "Done when": the Flask repository synced with the sample
path; a new user sees stage 1 and its first step as the next step; asking about the step's topic
gets a cited answer that suggests it as done; confirming it moves the next step; the admin's
overview shows the user on stage 1 with one step done; the path edited and synced again keeps
the progress; the per-chat switch; the panel on a phone, light and dark."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from allin.app import create_app
from tests.conftest import make_settings, new_database
from tests.onboarding.flask_path import FLASK_PATH, flask_repo
from tests.support.accounts import PASSWORD, Account
from tests.support.servers import serve_ready
from tests.web.conftest import csp_refusals
from tests.web.test_browser import sign_up as sign_up_in_browser

SHOTS = Path("/test-results")
SYNC_TIMEOUT_S = 240


@pytest.fixture(scope="module")
def server(postgres: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = make_settings(
        database_url=new_database(postgres),
        data_dir=tmp_path_factory.mktemp("data"),
        jobs_worker=True,
        memory=False,
    )
    with serve_ready(create_app(settings)) as url:
        yield url


def synced(http: httpx.Client, admin: Account, repository_id: str, after: str | None) -> None:
    deadline = time.monotonic() + SYNC_TIMEOUT_S
    while time.monotonic() < deadline:
        repository = http.get(f"/api/v1/repositories/{repository_id}", headers=admin.headers).json()
        settled = repository["job_status"] not in ("todo", "doing")
        if settled and repository["status"] == "ready" and repository["synced_at"] != after:
            return
        assert repository["status"] != "failed", repository
        time.sleep(0.3)
    raise AssertionError(f"not synced: {repository}")


def account(http: httpx.Client) -> Account:
    """A real account, signed up over HTTP (Playwright's loop forbids the async helper here)."""
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    response = http.post("/api/v1/auth/signup", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    body = response.json()
    return Account(user_id=body["user_id"], email=email, token=body["access_token"])


def log_in(page: Page, base_url: str, email: str) -> None:
    page.goto(base_url)
    page.get_by_test_id("auth-email").fill(email)
    page.get_by_test_id("auth-password").fill(PASSWORD)
    page.get_by_test_id("auth-submit").click()
    expect(page.get_by_test_id("conn-state")).to_have_text("connected")


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"onboarding-{name}.png"))


def test_a_newcomer_follows_the_flask_path(browser: Browser, server: str, tmp_path: Path) -> None:
    http = httpx.Client(base_url=server, timeout=60)
    admin = account(http)  # the first account: an admin
    repo = flask_repo(tmp_path / "flask")
    added = http.post(
        "/api/v1/repositories", json={"location": str(repo.path)}, headers=admin.headers
    )
    assert added.status_code == 202, added.text
    repository_id = added.json()["repository"]["id"]
    synced(http, admin, repository_id, None)

    context = browser.new_context(viewport={"width": 1366, "height": 850})
    page = context.new_page()
    refusals = csp_refusals(page)
    email = sign_up_in_browser(page, server)

    # A new user: stage 1, its first step as the next one, with its starter prompts.
    welcome = page.get_by_test_id("onboarding-welcome")
    expect(welcome).to_be_visible()
    expect(page.get_by_test_id("onboarding-next")).to_have_text(
        "Welcome — your first step: Install Flask (owner: Ada Lovelace)"
    )
    expect(page.get_by_test_id("onboarding-stage")).to_contain_text("Stage 1 of 5: Setup")
    expect(page.get_by_test_id("onboarding-starter")).to_have_text(
        ["How do I install Flask?", "Which Python version does Flask support?"]
    )
    expect(page.get_by_test_id("starters")).to_be_hidden()
    expect(page.get_by_test_id("onboarding-badge")).to_have_text("0%")
    shoot(page, "welcome-desktop-light")

    page.get_by_test_id("open-onboarding").click()
    dialog = page.get_by_test_id("onboarding-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("ob-summary")).to_contain_text("stage 1 of 5 · 0 of 9 steps")
    first_stage = dialog.get_by_test_id("ob-stage").first
    expect(first_stage).to_have_attribute("data-current", "true")
    expect(dialog.locator('[data-next="true"]')).to_have_attribute("data-slug", "install-flask")
    expect(dialog.get_by_test_id("ob-team")).to_be_hidden()  # the team's progress: admins only
    dialog.get_by_test_id("onboarding-close").click()

    # Asking about the step's topic: a cited answer, pitched at the user, suggests the step.
    page.get_by_test_id("onboarding-starter").first.click()
    answer = page.get_by_test_id("message-assistant").last
    expect(answer).not_to_have_class("streaming")
    expect(answer.get_by_test_id("sources")).to_contain_text("docs/installation.rst")
    expect(answer.get_by_test_id("answered-for")).to_have_text(
        "Answered for: stage 1 of 5 · next step: Install Flask"
    )
    suggestion = answer.get_by_test_id("onboarding-suggestion")
    expect(suggestion).to_contain_text("This answer covers “Install Flask”", timeout=20_000)
    shoot(page, "suggestion-desktop-light")

    # One click confirms it; the next step moves.
    suggestion.get_by_test_id("step-confirm").click()
    expect(suggestion).to_be_hidden()
    expect(page.get_by_test_id("onboarding-badge")).to_have_text("11%")
    page.get_by_test_id("open-onboarding").click()
    expect(dialog.locator('[data-slug="install-flask"]')).to_have_attribute("data-state", "done")
    expect(dialog.locator('[data-next="true"]')).to_have_attribute("data-slug", "venv")
    expect(dialog.get_by_test_id("ob-summary")).to_contain_text("1 of 9 steps")
    dialog.get_by_test_id("onboarding-close").click()
    page.get_by_test_id("new-chat").click()
    expect(page.get_by_test_id("onboarding-next")).to_have_text(
        "Welcome back — next: Create a virtual environment (owner: Ada Lovelace)"
    )

    # The admin's overview: the newcomer on stage 1, one step done; no chat contents.
    admin_context = browser.new_context(viewport={"width": 1366, "height": 850})
    admin_page = admin_context.new_page()
    log_in(admin_page, server, admin.email)
    admin_page.get_by_test_id("open-onboarding").click()
    row = admin_page.get_by_test_id("ob-members-row").filter(has_text=email)
    expect(row).to_contain_text("1 of 5: Setup")
    expect(row).to_contain_text("1/9")
    expect(row).to_contain_text("Create a virtual environment")
    team = admin_page.get_by_test_id("ob-team")
    expect(team).not_to_contain_text("How do I install Flask")
    team.scroll_into_view_if_needed()
    shoot(admin_page, "overview-desktop-light")
    admin_context.close()

    # The path edited (reworded, a stage renamed, a step added) and synced again.
    before = http.get(f"/api/v1/repositories/{repository_id}", headers=admin.headers).json()
    edited = (
        FLASK_PATH.replace("## Setup", "## Getting set up").replace(
            "- [ ] Install Flask — the", "- [ ] Install Flask — read the"
        )
        + "- [ ] Write your first command\n"
    )
    repo.write("ONBOARDING.md", edited)
    repo.commit("Reword the path")
    http.post(f"/api/v1/repositories/{repository_id}/sync", headers=admin.headers)
    synced(http, admin, repository_id, before["synced_at"])
    page.get_by_test_id("open-onboarding").click()
    expect(dialog.get_by_test_id("ob-stage-title").first).to_contain_text("Getting set up")
    expect(dialog.locator('[data-slug="install-flask"]')).to_have_attribute("data-state", "done")
    expect(dialog.get_by_test_id("ob-summary")).to_contain_text("1 of 10 steps")
    dialog.get_by_test_id("onboarding-close").click()

    # Switched off for this chat: the next answer is not pitched.
    toggle = page.get_by_test_id("pitch-toggle")
    expect(toggle).to_have_text("Answers for me: on")
    toggle.click()
    expect(toggle).to_have_text("Answers for me: off")
    page.get_by_test_id("composer").fill("How do I register a blueprint?")
    page.get_by_test_id("composer").press("Enter")
    expect(page.get_by_test_id("message-assistant")).to_have_count(1)
    unpitched = page.get_by_test_id("message-assistant").last
    expect(unpitched).not_to_have_class("streaming")
    expect(unpitched.get_by_test_id("sources")).to_be_visible()
    expect(unpitched.get_by_test_id("answered-for")).to_have_count(0)
    assert "next step" not in unpitched.inner_text()
    assert refusals == []
    context.close()

    # A phone, light and dark: the panel fits the screen.
    phone = browser.new_context(viewport={"width": 390, "height": 844})
    small = phone.new_page()
    log_in(small, server, email)
    for scheme in ("light", "dark"):
        small.emulate_media(color_scheme=scheme)
        expect(small.get_by_test_id("onboarding-welcome")).to_be_visible()
        shoot(small, f"welcome-phone-{scheme}")
        small.get_by_test_id("toggle-sidebar").click()
        small.get_by_test_id("open-onboarding").click()
        panel = small.get_by_test_id("onboarding-dialog")
        expect(panel.get_by_test_id("ob-step")).to_have_count(10)
        box = panel.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        width = panel.evaluate("(node) => node.scrollWidth <= node.clientWidth")
        assert width, "the panel scrolls sideways on a phone"
        shoot(small, f"panel-phone-{scheme}")
        panel.get_by_test_id("onboarding-close").click()
    phone.close()
    http.close()

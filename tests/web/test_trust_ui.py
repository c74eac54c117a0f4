"""The trust layer in the browser: a citation of a documentation page whose code changed since
shows the stale warning with the newest commit; a question nothing answers is answered "not
found" with who to ask; thumbs-down answers and unanswered questions appear, grouped, in the
admins' knowledge-gap report; a member sees the warning on a phone in dark mode but no report."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from allin.app import create_app
from tests.conftest import make_settings, new_database
from tests.support.accounts import PASSWORD
from tests.support.servers import serve_in_thread
from tests.trust.shop import shop
from tests.web.conftest import csp_refusals
from tests.web.test_browser import ask

SHOTS = Path("/test-results")
PHONE = {"width": 390, "height": 844}
COOKIE_QUESTION = "Which setting names the session cookie?"
KUBERNETES = "How do I configure Kubernetes autoscaling for our app?"


@pytest.fixture(scope="module")
def server(postgres: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = make_settings(
        database_url=new_database(postgres),
        data_dir=tmp_path_factory.mktemp("data"),
        jobs_worker=True,
        memory=False,
        trust_abstain_below=0.35,
    )
    with serve_in_thread(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def accounts(server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An admin (the first account) who added the shop repository, synced; and a member."""
    emails = {"admin": "trust-admin@example.com", "member": "trust-member@example.com"}
    repo, _ = shop(tmp_path_factory.mktemp("repo") / "shop")
    with httpx.Client(base_url=server, timeout=60) as http:
        tokens = {}
        for role, email in emails.items():
            created = http.post("/api/v1/auth/signup", json={"email": email, "password": PASSWORD})
            assert created.status_code == 201, created.text
            tokens[role] = created.json()["access_token"]
        admin = {"Authorization": f"Bearer {tokens['admin']}"}
        added = http.post("/api/v1/repositories", json={"location": str(repo.path)}, headers=admin)
        assert added.status_code == 202, added.text
        repository_id = added.json()["repository"]["id"]
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            state = http.get(f"/api/v1/repositories/{repository_id}", headers=admin).json()
            if state["status"] == "ready" and state["job_status"] not in ("todo", "doing"):
                break
            time.sleep(0.3)
        else:
            raise AssertionError(f"not synced: {state}")
    return emails


def log_in(page: Page, server: str, email: str) -> None:
    page.goto(server)
    page.get_by_test_id("auth-email").fill(email)
    page.get_by_test_id("auth-password").fill(PASSWORD)
    page.get_by_test_id("auth-submit").click()
    expect(page.get_by_test_id("account-email")).to_have_text(email)
    expect(page.get_by_test_id("conn-state")).to_have_text("connected")


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"trust-{name}.png"))


def thumbs_down(page: Page, comment: str) -> None:
    answer = page.get_by_test_id("message-assistant").last
    down = answer.get_by_test_id("feedback-down")
    down.click()
    page.get_by_test_id("ask-input").fill(comment)
    page.get_by_test_id("ask-confirm").click()
    expect(down).to_have_attribute("aria-pressed", "true")


def test_stale_warning_not_found_answer_and_the_gap_report(
    browser: Browser, server: str, accounts: dict[str, str]
) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 850})
    page = context.new_page()
    refusals = csp_refusals(page)
    try:
        log_in(page, server, accounts["admin"])
        expect(page.get_by_test_id("open-gaps")).to_be_visible()

        ask(page, COOKIE_QUESTION)
        answer = page.get_by_test_id("message-assistant").last
        warning = answer.get_by_test_id("stale-warning").first
        expect(warning).to_contain_text(
            "May be out of date: src/shop/sessions.py changed in 3 commits since this page was "
            "last edited"
        )
        # The newest of those commits: the formatting one, after Grace's two.
        expect(warning.get_by_test_id("stale-newest")).to_contain_text("by pre-commit-ci[bot]")
        shoot(page, "stale-desktop-light")
        thumbs_down(page, "It should say which file sets the default.")

        ask(page, KUBERNETES)
        answer = page.get_by_test_id("message-assistant").last
        expect(answer).to_contain_text("I couldn't find this in the team's knowledge.")
        expect(answer).to_contain_text("Who is likely to know")
        expect(answer).to_contain_text("Grace Hopper")
        expect(answer.locator("pre code")).to_contain_text("Hi Grace")
        expect(answer.get_by_test_id("sources")).to_have_count(0)
        shoot(page, "not-found-desktop-light")

        page.get_by_test_id("open-gaps").click()
        dialog = page.get_by_test_id("gaps-dialog")
        # Embedding, clustering and a search per topic: seconds on a loaded machine.
        expect(dialog).to_have_attribute("data-state", "ready", timeout=60_000)
        groups = dialog.get_by_test_id("gap-group")
        expect(groups).to_have_count(2)
        kubernetes = groups.filter(has_text="Kubernetes")
        expect(kubernetes.get_by_test_id("gap-counts")).to_contain_text("1 not found")
        expect(kubernetes.get_by_test_id("gap-owners")).to_contain_text("Grace Hopper")
        cookie = groups.filter(has_text="thumbs down")
        expect(cookie.get_by_test_id("gap-question")).to_contain_text(
            "It should say which file sets the default."
        )
        expect(cookie.get_by_test_id("gap-nearest")).to_contain_text("shop ›")
        shoot(page, "gaps-desktop-light")

        page.get_by_test_id("gaps-since").select_option("7d")
        expect(dialog).to_have_attribute("data-state", "ready", timeout=60_000)
        expect(groups).to_have_count(2)
        page.get_by_test_id("gaps-close").click()
        expect(dialog).to_be_hidden()

        # On a phone, in dark mode: the report fits the screen.
        page.set_viewport_size(PHONE)
        page.emulate_media(color_scheme="dark")
        page.get_by_test_id("toggle-sidebar").click()
        page.get_by_test_id("open-gaps").click()
        expect(dialog).to_have_attribute("data-state", "ready", timeout=60_000)
        expect(groups).to_have_count(2)
        assert dialog.evaluate("d => d.scrollWidth <= d.clientWidth")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        shoot(page, "gaps-phone-dark")
    finally:
        context.close()
    assert refusals == []


def test_a_member_on_a_phone_in_dark_mode_sees_warnings_but_no_report(
    browser: Browser, server: str, accounts: dict[str, str]
) -> None:
    context = browser.new_context(viewport=PHONE, color_scheme="dark", is_mobile=True)
    page = context.new_page()
    try:
        log_in(page, server, accounts["member"])
        expect(page.get_by_test_id("open-gaps")).to_be_hidden()
        ask(page, COOKIE_QUESTION)
        warning = page.get_by_test_id("message-assistant").last.get_by_test_id("stale-warning")
        expect(warning.first).to_be_visible()
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        shoot(page, "stale-phone-dark")
    finally:
        context.close()

"""The trust layer in the browser: a citation of a documentation page whose code changed since
shows the stale warning with the newest commit; a question nothing answers is answered "not
found" with who to ask; thumbs-down answers and unanswered questions appear, grouped, in the
admins' knowledge-gap report; a member sees the warning on a phone in dark mode but no report;
the passage view (of an uploaded page describing a repository) and the code view (of a
repository's page) show how fresh the source is and its warning, on a desktop and a phone."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from allin.app import create_app
from tests.conftest import make_settings, new_database
from tests.support.accounts import PASSWORD
from tests.support.servers import serve_ready
from tests.trust.shop import GRACE, shop, tomorrow
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
    with serve_ready(create_app(settings)) as url:
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
        add_synced(http, tokens["admin"], repo.path)
    return emails


def token_of(http: httpx.Client, email: str) -> str:
    login = http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    token: str = login.json()["access_token"]
    return token


def add_synced(http: httpx.Client, token: str, path: Path) -> str:
    """Add the repository at `path` (as the admin whose token this is) and wait for its sync."""
    admin = {"Authorization": f"Bearer {token}"}
    added = http.post("/api/v1/repositories", json={"location": str(path)}, headers=admin)
    assert added.status_code == 202, added.text
    repository_id: str = added.json()["repository"]["id"]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        state = http.get(f"/api/v1/repositories/{repository_id}", headers=admin).json()
        if state["status"] == "ready" and state["job_status"] not in ("todo", "doing"):
            return repository_id
        time.sleep(0.3)
    raise AssertionError(f"not synced: {state}")


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


LOYALTY = """# Loyalty points

Loyalty points are kept in a signed loyalty cookie, signed with `CookieSigner` from
`src/shop/sessions.py` like the session cookie.
"""
LOYALTY_QUESTION = "Where are loyalty points kept?"


@pytest.fixture(scope="module")
def wiki(server: str, accounts: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> str:
    """A second shop whose sessions.py changed after today, and a shared page of the team's wiki
    (uploaded by the admin) that describes it: the page is out of date as soon as it is up."""
    repo, _ = shop(tmp_path_factory.mktemp("repo") / "wikishop")
    repo.write("src/shop/sessions.py", "class CookieSigner:\n    salt = 'v2'\n")
    repo.commit("Salt the signer", tomorrow(GRACE))
    with httpx.Client(base_url=server, timeout=60) as http:
        token = token_of(http, accounts["admin"])
        repository_id = add_synced(http, token, repo.path)
        uploaded = http.post(
            "/api/v1/documents",
            files=[("files", ("loyalty.md", LOYALTY.encode()))],
            data={"shared": "true", "describes_repository": repository_id},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert uploaded.status_code == 200, uploaded.text
    return accounts["admin"]


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_passage_and_code_views_show_freshness_and_warnings(
    browser: Browser, server: str, accounts: dict[str, str], wiki: str, device: str
) -> None:
    phone = device == "phone"
    context = browser.new_context(
        viewport=PHONE if phone else {"width": 1366, "height": 850},
        color_scheme="dark" if phone else "light",
        is_mobile=phone,
    )
    page = context.new_page()
    refusals = csp_refusals(page)
    try:
        log_in(page, server, accounts["member" if phone else "admin"])

        # An uploaded page: the passage view says who uploaded it, and what changed since.
        ask(page, LOYALTY_QUESTION)
        sources = page.get_by_test_id("message-assistant").last.get_by_test_id("sources")
        sources.get_by_test_id("citation").filter(has_text="loyalty.md").first.click()
        dialog = page.get_by_test_id("passage-dialog")
        expect(dialog).to_be_visible()
        expect(page.get_by_test_id("passage-body")).to_contain_text("loyalty cookie")
        trust = page.get_by_test_id("passage-trust")
        expect(trust.get_by_test_id("freshness")).to_have_text(
            re.compile(rf"^Updated (just now|.* ago) by {re.escape(wiki)}$")
        )
        warning = trust.get_by_test_id("stale-warning")
        expect(warning).to_contain_text(
            "May be out of date: src/shop/sessions.py changed in 1 commit since this page was "
            "last edited"
        )
        expect(warning.get_by_test_id("stale-newest")).to_contain_text("by Grace Hopper")
        fits(page, dialog, phone)
        shoot(page, f"passage-{device}")
        page.locator("#passage-close").click()

        # A repository's documentation page opens in the code view, with its last commit.
        ask(page, COOKIE_QUESTION)
        sources = page.get_by_test_id("message-assistant").last.get_by_test_id("sources")
        sources.get_by_test_id("citation").filter(has_text="docs/sessions.md").first.click()
        code = page.get_by_test_id("code-dialog")
        expect(page.get_by_test_id("code-view")).to_have_attribute("data-state", "ready")
        trust = page.get_by_test_id("code-trust")
        expect(trust.get_by_test_id("freshness")).to_have_text(
            re.compile(r"^Updated .* ago by Ada Lovelace$")
        )
        expect(trust.get_by_test_id("stale-warning")).to_contain_text(
            "May be out of date: src/shop/sessions.py changed in"
        )
        fits(page, code, phone)
        shoot(page, f"code-{device}")
    finally:
        context.close()
    assert refusals == []


def fits(page: Page, dialog: Locator, phone: bool) -> None:
    """Nothing in the dialog is wider than it, nor the page than a phone."""
    assert dialog.evaluate("d => d.scrollWidth <= d.clientWidth")
    if phone:
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]


def test_an_upload_can_say_which_repository_it_describes(
    browser: Browser, server: str, accounts: dict[str, str], wiki: str
) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    try:
        log_in(page, server, accounts["member"])
        page.get_by_test_id("toggle-sidebar").click()
        page.get_by_test_id("open-docs").click()
        choice = page.get_by_test_id("upload-describes")
        expect(choice.locator("option")).to_have_text(["no repository", "shop", "wikishop"])
        choice.select_option(label="wikishop")
        page.get_by_test_id("upload-files").set_input_files(
            {"name": "pricing.md", "mimeType": "text/markdown", "buffer": LOYALTY.encode()}
        )
        page.get_by_test_id("upload-submit").click()
        expect(page.get_by_test_id("upload-note")).to_contain_text("✓ pricing.md: indexed")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        shoot(page, "describes-phone")
    finally:
        context.close()
    with httpx.Client(base_url=server, timeout=60) as http:
        headers = {"Authorization": f"Bearer {token_of(http, accounts['member'])}"}
        repositories = http.get("/api/v1/repositories", headers=headers).json()["repositories"]
        documents = http.get("/api/v1/documents", headers=headers).json()["documents"]
    (pricing,) = [d for d in documents if d["name"] == "pricing.md"]
    (wikishop,) = [r for r in repositories if r["name"] == "wikishop"]
    assert pricing["describes_repository"] == wikishop["id"]

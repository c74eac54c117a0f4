"""Every panel on a phone and a desktop, light and dark, as screenshots under test-results/screens/
(git-ignored; CI keeps them as artifacts) for a person to look at. Each shot is also measured for
what a screenshot would show broken (tests/support/layout.py): nothing wider than the screen,
text at 4.5:1, tables whose words stay whole, and on a phone controls a finger can hit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute, expect

from allin.app import create_app
from tests.conftest import make_settings, new_database, project_root
from tests.support.accounts import PASSWORD
from tests.support.layout import audit
from tests.support.servers import serve_in_thread
from tests.trust.shop import GRACE, shop, tomorrow
from tests.web.conftest import csp_refusals
from tests.web.test_browser import ask
from tests.web.test_trust_ui import (
    COOKIE_QUESTION,
    KUBERNETES,
    LOYALTY,
    LOYALTY_QUESTION,
    add_synced,
    log_in,
)

SCREENS = project_root() / "test-results" / "screens"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 850}}
ADMIN = "screens-admin@example.com"
# Something new for Allin to remember in each run (the same admin's memory is shared by them).
TEACHES = {
    "phone-light": "My manager is Dana.",
    "phone-dark": "I'm new to Kubernetes.",
    "desktop-light": "Our team uses Flask.",
    "desktop-dark": "I prefer short answers.",
}

# A page of the team's handbook with what answers are made of: prose, a code block with a long
# line, a table.
COMMAND = (
    "make deploy SERVICE=payments ENV=staging IMAGE_TAG=$(git rev-parse --short HEAD) "
    "DRY_RUN=false VERBOSE=1"
)
HANDBOOK = f"""# Deploying a service

Every service deploys with `make deploy`, which runs the tests and pushes the image:

```bash
{COMMAND}
```

| Environment | URL | Who approves | Rollback |
|---|---|---|---|
| staging | https://staging.payments.internal.example.com | anyone on the team | automatic |
| production | https://payments.internal.example.com | the on-call engineer | `make rollback` |
"""
HANDBOOK_QUESTION = "How do I deploy a service to staging?"

ONBOARDING = """\
# Shop onboarding

## Setup
- [ ] Read how sessions work — [sessions](docs/sessions.md) (owner: Ada Lovelace)
  - Ask: Which setting names the session cookie?
- [ ] Add an item to the cart — [the cart](docs/cart.md) (owner: Grace Hopper) {#cart}

## Shipping
- [ ] Find the session code — [sessions.py](src/shop/sessions.py) (owner: Grace Hopper)
"""


@pytest.fixture(scope="module")
def server(postgres: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app, offline, with a job worker and a database of its own (its first account is
    the admin, who sees every panel)."""
    settings = make_settings(
        database_url=new_database(postgres),
        data_dir=tmp_path_factory.mktemp("data"),
        jobs_worker=True,
        trust_abstain_below=0.35,
    )
    with serve_in_thread(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def admin(server: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The admin, who added a repository with an onboarding path and code changed after the
    page of the wiki that describes it (so its citations are stale), and shared the handbook."""
    repo, _ = shop(tmp_path_factory.mktemp("repo") / "shop")
    repo.write("ONBOARDING.md", ONBOARDING)
    repo.write("src/shop/sessions.py", "class CookieSigner:\n    salt = 'v2'\n")
    repo.commit("Salt the signer", tomorrow(GRACE))
    with httpx.Client(base_url=server, timeout=60) as http:
        created = http.post("/api/v1/auth/signup", json={"email": ADMIN, "password": PASSWORD})
        assert created.status_code == 201, created.text
        token = created.json()["access_token"]
        repository_id = add_synced(http, token, repo.path)
        for name, text, describes in (
            ("loyalty.md", LOYALTY, repository_id),
            ("deploying.md", HANDBOOK, ""),
        ):
            uploaded = http.post(
                "/api/v1/documents",
                files=[("files", (name, text.encode()))],
                data={"shared": "true", "describes_repository": describes},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert uploaded.status_code == 200, uploaded.text
    return ADMIN


def shoot(page: Page, name: str) -> None:
    """A screenshot under test-results/screens/, of a page that scrolls nowhere sideways."""
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth"), name
    # A phone's browser zooms out to fit what is too wide, so innerWidth alone is no proof.
    viewport = page.viewport_size
    assert viewport is not None
    assert page.evaluate("() => innerWidth") <= viewport["width"], name
    page.screenshot(path=SCREENS / f"{name}.png")


class Camera:
    """Takes the screenshots of one device and scheme, and measures each."""

    def __init__(self, page: Page, name: str, phone: bool) -> None:
        self.page, self.name, self.phone = page, name, phone
        self.problems: dict[str, dict[str, Any]] = {}

    def shoot(self, shot: str) -> None:
        shoot(self.page, f"{self.name}-{shot}")
        found = audit(self.page, phone=self.phone)
        if any(found.values()):
            self.problems[shot] = found


def open_from_sidebar(page: Page, testid: str, phone: bool) -> None:
    if phone:
        page.get_by_test_id("toggle-sidebar").click()
    page.get_by_test_id(testid).click()


def citation(page: Page, source: str) -> None:
    """Open the first citation of `source` in the chat."""
    sources = page.get_by_test_id("message-assistant").get_by_test_id("sources")
    sources.get_by_test_id("citation").filter(has_text=source).first.click()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_every_panel(browser: Browser, server: str, admin: str, device: str, scheme: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    phone = device == "phone"
    context = browser.new_context(
        viewport=VIEWPORTS[device], color_scheme=scheme, is_mobile=phone, has_touch=phone
    )
    try:
        page = context.new_page()
        refusals = csp_refusals(page)
        camera = Camera(page, f"{device}-{scheme}", phone)
        shoot = camera.shoot
        # The chat socket through a relay the test can cut, to show the server going away.
        down = False
        relays: list[WebSocketRoute] = []

        def relay(socket: WebSocketRoute) -> None:
            if down:
                socket.close()
                return
            socket.connect_to_server()
            relays.append(socket)

        page.route_web_socket(re.compile(r".*/ws/.*"), relay)
        page.goto(server)
        expect(page.get_by_test_id("auth-form")).to_be_visible()
        shoot("01-login")
        log_in(page, server, admin)
        expect(page.get_by_test_id("setup-banner")).to_be_visible()
        expect(page.get_by_test_id("onboarding-welcome")).to_be_visible()
        shoot("02-empty-chat-banner")
        page.get_by_test_id("setup-banner-dismiss").click()

        open_from_sidebar(page, "open-docs", phone)
        expect(page.get_by_test_id("docs-dialog")).to_contain_text("deploying.md")
        shoot("03-documents")
        page.keyboard.press("Escape")
        if phone:
            page.keyboard.press("Escape")  # and the drawer

        ask(page, HANDBOOK_QUESTION)
        answer = page.get_by_test_id("message-assistant").last
        expect(answer.locator("table")).to_be_visible()
        expect(answer.locator("pre code").first).to_be_visible()
        answer.locator("table").scroll_into_view_if_needed()
        shoot("04-answer-code-table")
        # The title keeps room beside the chat's switch and buttons (it was cut to "How do I de…").
        title = page.get_by_test_id("chat-title").bounding_box()
        assert title is not None and title["width"] >= 0.4 * page.viewport_size["width"], title
        answer.get_by_test_id("sources").scroll_into_view_if_needed()
        shoot("05-answer-citations")

        ask(page, TEACHES[camera.name])
        notice = page.get_by_test_id("memory-notice")
        expect(notice).to_have_text("Memory updated · View")
        notice.scroll_into_view_if_needed()
        shoot("06-memory-notice")

        citation(page, "deploying.md")
        expect(page.get_by_test_id("passage-body").locator("pre code")).to_be_visible()
        shoot("07-passage")
        page.keyboard.press("Escape")
        ask(page, LOYALTY_QUESTION)
        citation(page, "loyalty.md")
        warning = page.get_by_test_id("passage-trust").get_by_test_id("stale-warning")
        expect(warning).to_be_visible()
        # The newest commit is dated tomorrow: said in hours, not as "in 1,439 minutes".
        expect(warning.get_by_test_id("stale-newest")).to_contain_text(re.compile(r"in 2\d hours"))
        shoot("08-passage-stale")
        page.keyboard.press("Escape")

        ask(page, COOKIE_QUESTION)
        expect(
            page.get_by_test_id("message-assistant").last.get_by_test_id("stale-warning").first
        ).to_be_visible()
        shoot("09-answer-stale")
        citation(page, "docs/sessions.md")
        expect(page.get_by_test_id("code-view")).to_have_attribute("data-state", "ready")
        expect(page.get_by_test_id("code-trust").get_by_test_id("stale-warning")).to_be_visible()
        shoot("10-code")
        page.keyboard.press("Escape")

        ask(page, KUBERNETES)
        not_found = page.get_by_test_id("message-assistant").last
        expect(not_found).to_contain_text("I couldn't find this in the team's knowledge")
        not_found.evaluate("(answer) => answer.scrollIntoView({ block: 'start' })")
        shoot("11-not-found")

        if phone:
            page.get_by_test_id("toggle-sidebar").click()
            expect(page.locator(".sidebar")).to_have_css("transform", "none")
            shoot("12-drawer")
        page.get_by_test_id("chat-search").fill("deploy")
        expect(page.get_by_test_id("chat-search-results").locator("li").first).to_be_visible()
        # The excerpt of an answer reads as text, not as the Markdown it is stored in.
        excerpt = page.get_by_test_id("chat-search-excerpt").first
        expect(excerpt).to_contain_text("make deploy")
        expect(excerpt).not_to_contain_text(re.compile(r"\*\*|`|\\\("))
        shoot("13-search")
        page.get_by_test_id("chat-search").fill("")
        if phone:
            page.keyboard.press("Escape")

        for shot, testid, shown in (
            ("14-memories", "open-memories", "memory-item"),
            ("15-repositories", "open-repos", "repo-card"),
            ("16-onboarding", "open-onboarding", "ob-step"),
            ("17-gaps", "open-gaps", "gaps-list"),
        ):
            open_from_sidebar(page, testid, phone)
            expect(page.get_by_test_id(shown).first).to_be_visible()
            if testid == "open-gaps":
                expect(page.get_by_test_id("gaps-dialog")).to_have_attribute("data-state", "ready")
                # The files a suggested owner changed are shown as code, not with backticks.
                owners = page.get_by_test_id("gap-owners").first
                expect(owners.locator("code").first).to_be_visible()
                expect(owners).not_to_contain_text("`")
            shoot(shot)
            page.keyboard.press("Escape")

        open_from_sidebar(page, "open-tokens", phone)
        page.get_by_test_id("token-name").fill("laptop: Claude Code")
        page.get_by_test_id("token-submit").click()
        expect(page.get_by_test_id("token-created")).to_be_visible()
        shoot("18-tokens")
        page.keyboard.press("Escape")

        page.get_by_test_id("rename-chat").click()
        expect(page.get_by_test_id("ask-dialog")).to_be_visible()
        shoot("19-rename")
        page.keyboard.press("Escape")
        page.get_by_test_id("delete-chat").click()
        expect(page.get_by_test_id("ask-dialog")).to_be_visible()
        shoot("20-delete")
        page.get_by_test_id("ask-cancel").click()

        # The server gone: its API refused, its socket closed, and closed again as soon as it
        # opens. The page says so, and a message typed now waits.
        page.route(re.compile(r".*/api/v1/.*"), lambda route: route.abort())
        down = True
        for socket in relays:
            socket.close()
        expect(page.get_by_test_id("conn-state")).to_have_text("reconnecting…")
        page.get_by_test_id("composer").fill("Typed while the server is down")
        page.get_by_test_id("composer").press("Enter")
        expect(page.get_by_test_id("message-user").last).to_contain_text("sending…")
        shoot("21-reconnecting")
        page.reload()
        # A blank page once: the page says it cannot reach the server, and keeps trying.
        expect(page.get_by_test_id("boot-error")).to_contain_text("Can't reach the Allin server")
        expect(page.get_by_test_id("boot-error")).to_be_in_viewport()
        shoot("22-server-down")
        assert refusals == []  # every panel works under the Content-Security-Policy
        assert camera.problems == {}
    finally:
        context.close()

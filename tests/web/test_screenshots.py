"""Every panel on a phone and a desktop, light and dark, as screenshots under test-results/screens/
(git-ignored; CI keeps them as artifacts) for a person to look at. The test also checks what a
screenshot would show broken: nothing wider than the screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import project_root
from tests.web.conftest import csp_refusals
from tests.web.test_browser import ask, sign_up
from tests.web.test_documents_ui import FLASK_GUIDE

SCREENS = project_root() / "test-results" / "screens"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 850}}


def shoot(page: Page, name: str) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth"), name
    page.screenshot(path=SCREENS / f"{name}.png")


def open_from_sidebar(page: Page, testid: str, phone: bool) -> None:
    if phone:
        page.get_by_test_id("toggle-sidebar").click()
    page.get_by_test_id(testid).click()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_every_panel(
    browser: Browser, live_server: str, tmp_path: Path, device: str, scheme: str
) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    phone = device == "phone"
    context = browser.new_context(
        viewport=VIEWPORTS[device], color_scheme=scheme, is_mobile=phone, has_touch=phone
    )
    try:
        page = context.new_page()
        refusals = csp_refusals(page)
        name = f"{device}-{scheme}"
        page.goto(live_server)
        expect(page.get_by_test_id("auth-form")).to_be_visible()
        shoot(page, f"{name}-1-login")
        sign_up(page, live_server)
        shoot(page, f"{name}-2-empty-chat")

        guide = tmp_path / "flask-guide.md"
        guide.write_text(FLASK_GUIDE)
        open_from_sidebar(page, "open-docs", phone)
        page.get_by_test_id("upload-files").set_input_files(guide)
        page.get_by_test_id("upload-submit").click()
        expect(page.get_by_test_id("upload-note")).to_contain_text("indexed", timeout=60_000)
        shoot(page, f"{name}-3-documents")
        page.keyboard.press("Escape")
        if phone:
            page.keyboard.press("Escape")  # and the drawer

        ask(page, "How does a service create its Flask application object?")
        shoot(page, f"{name}-4-answer")
        page.get_by_test_id("message-assistant").last.get_by_test_id("citation").first.click()
        expect(page.get_by_test_id("passage-body").locator("pre code")).to_be_visible()
        shoot(page, f"{name}-5-passage")
        page.keyboard.press("Escape")

        if phone:
            page.get_by_test_id("toggle-sidebar").click()
            # Shot once the drawer has slid all the way in.
            expect(page.locator(".sidebar")).to_have_css("transform", "none")
            shoot(page, f"{name}-6-drawer")
            page.keyboard.press("Escape")
        open_from_sidebar(page, "open-memories", phone)
        expect(page.get_by_test_id("memories")).to_be_visible()
        shoot(page, f"{name}-7-memories")
        page.keyboard.press("Escape")
        open_from_sidebar(page, "open-tokens", phone)
        page.get_by_test_id("token-name").fill("laptop: Claude Code")
        page.get_by_test_id("token-submit").click()
        expect(page.get_by_test_id("token-created")).to_be_visible()
        expect(page.get_by_test_id("token-item")).to_have_count(1)
        shoot(page, f"{name}-9-editor-tokens")
        page.keyboard.press("Escape")
        page.get_by_test_id("rename-chat").click()
        expect(page.get_by_test_id("ask-dialog")).to_be_visible()
        shoot(page, f"{name}-8-rename")
        assert refusals == []  # every panel works under the Content-Security-Policy
    finally:
        context.close()

"""The sidebar in a real Chromium: chats grouped by when they were last active, and the search
over what was said in them, on a desktop and on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import csp_refusals
from tests.web.test_browser import ask, sign_up
from tests.web.test_screenshots import SCREENS, VIEWPORTS, shoot


def new_chat(page: Page, phone: bool) -> None:
    if phone:
        page.get_by_test_id("toggle-sidebar").click()
    page.get_by_test_id("new-chat").click()
    expect(page.get_by_test_id("message-user")).to_have_count(0)


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_searching_chats_finds_what_was_said_and_opens_the_chat(
    browser: Browser, live_server: str, device: str
) -> None:
    phone = device == "phone"
    context = browser.new_context(
        viewport=VIEWPORTS[device], color_scheme="dark", is_mobile=phone, has_touch=phone
    )
    try:
        page = context.new_page()
        refusals = csp_refusals(page)
        sign_up(page, live_server)
        ask(page, "Where is the deployment checklist kept?")
        new_chat(page, phone)
        ask(page, "How many vacation days do I get?")

        if phone:
            page.get_by_test_id("toggle-sidebar").click()
        # Both chats were active today: one group, newest first.
        expect(page.get_by_test_id("chat-group")).to_have_text(["Today"])
        expect(page.get_by_test_id("chat-item")).to_have_text(
            ["How many vacation days do I get?", "Where is the deployment checklist kept?"]
        )

        search = page.get_by_test_id("chat-search")
        search.fill("deploying")  # stemmed: finds "deployment"
        results = page.get_by_test_id("chat-search-result")
        expect(results).to_have_count(1)
        expect(results.first).to_contain_text("Where is the deployment checklist kept?")
        expect(results.first.locator("mark").first).to_have_text("deployment")
        expect(page.get_by_test_id("chat-list")).to_be_hidden()
        SCREENS.mkdir(parents=True, exist_ok=True)
        shoot(page, f"{device}-dark-8-chat-search")

        # Opening a result opens its chat, and the list comes back in place of the results.
        results.first.click()
        expect(page.get_by_test_id("message-user").locator(".bubble")).to_have_text(
            ["Where is the deployment checklist kept?"]
        )
        if phone:
            page.get_by_test_id("toggle-sidebar").click()
        expect(search).to_have_value("")
        expect(page.get_by_test_id("chat-list")).to_be_visible()
        expect(page.get_by_test_id("chat-item").last).to_have_attribute("aria-current", "page")

        # Nothing found says so; Esc clears the search.
        search.fill("kubernetes autoscaling")
        expect(page.get_by_test_id("chat-search-status")).to_have_text(
            "No chats match “kubernetes autoscaling”."
        )
        expect(results).to_have_count(0)
        search.press("Escape")
        expect(search).to_have_value("")
        expect(page.get_by_test_id("chat-search-status")).to_be_hidden()
        expect(page.get_by_test_id("chat-item")).to_have_count(2)
        assert refusals == []
    finally:
        context.close()


def test_a_search_the_server_cannot_answer_says_so(page: Page, live_server: str) -> None:
    sign_up(page, live_server)
    ask(page, "How do I run the tests?")
    page.route("**/api/v1/chat/search/**", lambda route: route.abort())
    page.get_by_test_id("chat-search").fill("tests")
    expect(page.get_by_test_id("chat-search-status")).to_have_text(
        "Search is unavailable: the server can't be reached."
    )
    expect(page.get_by_test_id("chat-search-result")).to_have_count(0)

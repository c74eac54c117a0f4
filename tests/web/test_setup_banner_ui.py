"""Offline mode is said once: a setup banner over the chat (not a notice after every answer),
saying what Allin can and cannot do and how to configure a model; dismissed, it stays dismissed.
Readable on a phone and a desktop, in light and dark."""

from __future__ import annotations

from typing import Literal

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.layout import audit
from tests.web.test_browser import ask, sign_up

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

# The banner's text colour against its own background, as the WCAG computes it.


def test_offline_mode_is_one_dismissible_banner_not_a_notice_per_answer(
    page: Page, live_server: str
) -> None:
    sign_up(page, live_server)
    banner = page.get_by_test_id("setup-banner")
    expect(banner).to_be_visible()
    expect(banner).to_have_accessible_name("Offline mode: no language model is configured")
    expect(banner).to_contain_text("can't write new answers")
    for setting in ("GEMINI_API_KEY", "ALLIN_LLM=openai", "ALLIN_OPENAI_BASE_URL"):
        expect(banner).to_contain_text(setting)

    ask(page, "Who are you?")
    answer = page.get_by_test_id("message-assistant").last
    expect(answer).to_contain_text("I remember what you tell me across chats.")
    expect(answer).not_to_contain_text("Offline mode")
    expect(answer).not_to_contain_text("GEMINI_API_KEY")

    page.get_by_test_id("setup-banner-dismiss").click()
    expect(banner).to_be_hidden()
    expect(page.get_by_test_id("composer")).to_be_focused()
    page.reload()
    expect(page.get_by_test_id("conn-state")).to_have_text("connected")
    expect(banner).to_be_hidden()


def test_a_server_with_a_model_shows_no_banner(page: Page, live_server: str) -> None:
    page.route(
        "**/api/v1/config",
        lambda route: route.fulfill(
            json={**route.fetch().json(), "model": "gemini:gemini-2.0-flash", "offline": False}
        ),
    )
    sign_up(page, live_server)
    expect(page.get_by_test_id("setup-banner")).to_be_hidden()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_banner_fits_and_reads_on_a_phone_and_a_desktop(
    browser: Browser,
    live_server: str,
    scheme: Literal["light", "dark"],
    viewport: dict[str, int],
) -> None:
    phone = viewport is PHONE
    context = browser.new_context(
        viewport=viewport,  # type: ignore[arg-type]
        color_scheme=scheme,
        is_mobile=phone,
        has_touch=phone,
    )
    try:
        page = context.new_page()
        sign_up(page, live_server)
        banner = page.get_by_test_id("setup-banner")
        expect(banner).to_be_in_viewport()
        box = banner.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
        # The chat keeps most of the screen, and nothing scrolls sideways.
        assert box["height"] <= viewport["height"] * 0.4
        assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
        # Every text of the page, the banner's included, at 4.5:1 or more (3:1 when large).
        assert audit(page, phone=phone)["contrast"] == []
        dismiss = page.get_by_test_id("setup-banner-dismiss")
        expect(dismiss).to_be_in_viewport()
        expect(page.get_by_test_id("composer")).to_be_in_viewport()
    finally:
        context.close()

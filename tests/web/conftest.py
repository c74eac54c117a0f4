"""One Chromium per test module, a fresh browser context (no cookies, no storage) per test, and a
page that must not break the Content-Security-Policy. A module that needs other browser flags
(the fake microphone) overrides `browser`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A page that fails its test if anything on it broke the Content-Security-Policy."""
    page = context.new_page()
    refusals = csp_refusals(page)
    yield page
    assert refusals == []


def csp_refusals(page: Page) -> list[str]:
    """What Chromium refused on `page` for breaking the Content-Security-Policy, as it happens."""
    refusals: list[str] = []
    page.on(
        "console",
        lambda message: (
            refusals.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return refusals

"""Feedback in the browser: thumbs up, then thumbs down with a comment in the app's dialog, kept
across a reload; on a phone in the dark scheme, the buttons fit beside Copy."""

from __future__ import annotations

import json
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import csp_refusals
from tests.web.test_browser import ask, sign_up


def test_thumbs_down_with_a_comment_survives_a_reload(page: Page, live_server: str) -> None:
    sign_up(page, live_server)
    ask(page, "Where is the deploy script?")
    answer = page.get_by_test_id("message-assistant").last
    up, down = answer.get_by_test_id("feedback-up"), answer.get_by_test_id("feedback-down")
    expect(up).to_have_attribute("aria-pressed", "false")
    expect(down).to_have_attribute("aria-pressed", "false")

    up.click()
    expect(up).to_have_attribute("aria-pressed", "true")

    down.click()
    dialog = page.get_by_test_id("ask-dialog")
    expect(dialog).to_be_visible()
    page.get_by_test_id("ask-input").fill("It did not say which repository.")
    page.get_by_test_id("ask-confirm").click()
    expect(down).to_have_attribute("aria-pressed", "true")
    expect(up).to_have_attribute("aria-pressed", "false")

    page.reload()
    answer = page.get_by_test_id("message-assistant").last
    down = answer.get_by_test_id("feedback-down")
    expect(down).to_have_attribute("aria-pressed", "true")
    expect(answer.get_by_test_id("feedback-up")).to_have_attribute("aria-pressed", "false")
    assert stored_feedback(page, live_server) == {
        "rating": "down",
        "comment": "It did not say which repository.",
    }

    # Pressing the chosen one again withdraws it; cancelling the comment box changes nothing.
    down.click()
    expect(down).to_have_attribute("aria-pressed", "false")
    down.click()
    page.get_by_test_id("ask-cancel").click()
    expect(page.get_by_test_id("ask-dialog")).to_be_hidden()
    expect(down).to_have_attribute("aria-pressed", "false")
    page.reload()
    answer = page.get_by_test_id("message-assistant").last
    expect(answer.get_by_test_id("feedback-down")).to_have_attribute("aria-pressed", "false")
    assert stored_feedback(page, live_server) is None


def stored_feedback(page: Page, base_url: str) -> Any:
    """The feedback on the chat's last answer, as the server has it (with the page's token)."""
    session = json.loads(page.evaluate("() => localStorage.getItem('allin.session')"))
    chat_id = page.evaluate("() => location.hash").removeprefix("#/c/")
    history = httpx.get(
        f"{base_url}/api/v1/chat/history/{session['userId']}/{chat_id}",
        headers={"Authorization": f"Bearer {session['token']}"},
    ).json()
    return [turn for turn in history["turns"] if turn["role"] == "assistant"][-1]["feedback"]


def test_on_a_phone_in_the_dark(browser: Browser, live_server: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    page = context.new_page()
    refusals = csp_refusals(page)
    try:
        sign_up(page, live_server)
        ask(page, "How do I get database access?")
        answer = page.get_by_test_id("message-assistant").last
        copy = answer.get_by_test_id("copy-answer")
        down = answer.get_by_test_id("feedback-down")
        down.click()
        page.get_by_test_id("ask-confirm").click()  # no comment: it is optional
        expect(down).to_have_attribute("aria-pressed", "true")
        copy_box, down_box = copy.bounding_box(), down.bounding_box()
        assert copy_box is not None and down_box is not None
        assert down_box["x"] + down_box["width"] <= 390
        # On Copy's line, after it.
        assert abs(down_box["y"] - copy_box["y"]) < copy_box["height"]
        assert down_box["x"] > copy_box["x"]
        page.screenshot(path="/tmp/allin-feedback-phone-dark.png")
    finally:
        context.close()
    assert refusals == []

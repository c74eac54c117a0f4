"""The UI in a real headless Chromium (Debian's, driven by Playwright), against the real app."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from allin.app import create_app
from allin.config import Settings
from tests.support.accounts import PASSWORD
from tests.support.servers import free_port, serve_ready
from tests.web.conftest import csp_refusals


def sign_up(page: Page, base_url: str) -> str:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    page.goto(base_url)
    page.get_by_test_id("tab-signup").click()
    page.get_by_test_id("auth-email").fill(email)
    page.get_by_test_id("auth-password").fill(PASSWORD)
    page.get_by_test_id("auth-submit").click()
    expect(page.get_by_test_id("account-email")).to_have_text(email)
    expect(page.get_by_test_id("conn-state")).to_have_text("connected")
    return email


def bubbles(page: Page, role: str) -> Locator:
    """The text of each message of `role` ("user" or "assistant"), oldest first."""
    return page.get_by_test_id(f"message-{role}").locator(".bubble")


def ask(page: Page, text: str) -> None:
    answers = page.get_by_test_id("message-assistant")
    before = answers.count()
    page.get_by_test_id("composer").fill(text)
    page.get_by_test_id("composer").press("Enter")
    expect(answers).to_have_count(before + 1)
    expect(answers.last).not_to_have_class(re.compile("streaming"))


def test_sign_up_chat_stream_and_reload(page: Page, live_server: str) -> None:
    sign_up(page, live_server)
    ask(page, "Who are you?")
    expect(bubbles(page, "user")).to_have_text(["Who are you?"])
    answer = page.get_by_test_id("message-assistant").last
    expect(answer).to_contain_text("Allin")
    expect(answer).to_contain_text("Team 8")
    expect(answer.locator("strong").first).to_have_text("Allin")  # Markdown rendered
    expect(page.get_by_test_id("chat-item")).to_have_text(["Who are you?"])
    expect(page.get_by_test_id("chat-title")).to_have_text("Who are you?")

    ask(page, "What did I ask?")
    expect(page.get_by_test_id("message-assistant").last.locator("ol li")).to_have_text(
        ["Who are you?"]
    )
    page.screenshot(path="/tmp/allin-ui.png")

    page.reload()
    expect(bubbles(page, "user")).to_have_text(["Who are you?", "What did I ask?"])
    expect(page.get_by_test_id("message-assistant")).to_have_count(2)
    expect(page.get_by_test_id("message-assistant").first).to_contain_text("Team 8")


def test_rename_new_chat_and_delete(page: Page, live_server: str) -> None:
    sign_up(page, live_server)
    ask(page, "How do I run the tests?")
    # In-app dialogs, not the browser's prompt() and confirm().
    page.on("dialog", lambda dialog: pytest.fail(f"a native {dialog.type} dialog"))
    page.get_by_test_id("rename-chat").click()
    expect(page.get_by_test_id("ask-input")).to_have_value("How do I run the tests?")
    page.get_by_test_id("ask-input").fill("Testing setup")
    page.get_by_test_id("ask-input").press("Enter")
    expect(page.get_by_test_id("chat-item")).to_have_text(["Testing setup"])
    expect(page.get_by_test_id("chat-title")).to_have_text("Testing setup")

    page.get_by_test_id("new-chat").click()
    expect(page.get_by_test_id("message-user")).to_have_count(0)
    expect(page.get_by_test_id("conn-state")).to_have_text("connected")
    ask(page, "Where is the deploy script?")
    expect(page.get_by_test_id("chat-item")).to_have_text(
        ["Where is the deploy script?", "Testing setup"]
    )

    page.get_by_test_id("delete-chat").click()
    page.get_by_test_id("ask-cancel").click()
    expect(page.get_by_test_id("chat-item")).to_have_count(2)
    page.get_by_test_id("delete-chat").click()
    page.get_by_test_id("ask-confirm").click()
    expect(page.get_by_test_id("chat-item")).to_have_text(["Testing setup"])
    page.get_by_test_id("chat-item").first.click()
    expect(bubbles(page, "user")).to_have_text(["How do I run the tests?"])


def test_each_user_sees_only_their_own_chats(browser: Browser, live_server: str) -> None:
    first, second = browser.new_context(), browser.new_context()
    try:
        ann, bob = first.new_page(), second.new_page()
        sign_up(ann, live_server)
        ask(ann, "Ann's private question")
        sign_up(bob, live_server)
        expect(bob.get_by_test_id("chat-list")).to_be_empty()
        ask(bob, "Bob's question")
        expect(bob.get_by_test_id("chat-item")).to_have_text(["Bob's question"])
        ann.reload()
        expect(ann.get_by_test_id("chat-item")).to_have_text(["Ann's private question"])
    finally:
        first.close()
        second.close()


def test_log_out_and_back_in(page: Page, live_server: str) -> None:
    email = sign_up(page, live_server)
    ask(page, "Remember this chat")
    page.get_by_test_id("logout").click()
    expect(page.get_by_test_id("auth-form")).to_be_visible()
    page.get_by_test_id("auth-email").fill(email)
    page.get_by_test_id("auth-password").fill("wrong password!")
    page.get_by_test_id("auth-submit").click()
    expect(page.get_by_test_id("auth-error")).to_have_text("wrong email or password")
    page.get_by_test_id("auth-password").fill(PASSWORD)
    page.get_by_test_id("auth-submit").click()
    expect(page.get_by_test_id("chat-item")).to_have_text(["Remember this chat"])


def test_connection_drop_shows_state_and_sends_queued_message(
    page: Page, settings: Settings
) -> None:
    port = free_port()
    with serve_ready(create_app(settings), port=port) as url:
        sign_up(page, url)
        ask(page, "Before the drop")
    # The server is gone: the page says so, and a message typed now waits for the connection.
    expect(page.get_by_test_id("conn-state")).to_have_text("reconnecting…")
    page.get_by_test_id("composer").fill("Typed while offline")
    page.get_by_test_id("composer").press("Enter")
    expect(page.get_by_test_id("message-user").last).to_contain_text("sending…")
    with serve_ready(create_app(settings), port=port):
        expect(page.get_by_test_id("conn-state")).to_have_text("connected", timeout=15_000)
        answers = page.get_by_test_id("message-assistant")
        expect(answers).to_have_count(2)
        expect(answers.last).not_to_have_class(re.compile("streaming"))
        page.reload()
        expect(bubbles(page, "user")).to_have_text(["Before the drop", "Typed while offline"])
        expect(page.get_by_test_id("message-assistant")).to_have_count(2)


def test_memory_panel_lists_edits_and_forgets(page: Page, live_server: str) -> None:
    sign_up(page, live_server)
    ask(page, "I'm new to Kubernetes. What is a pod?")
    page.get_by_test_id("open-memories").click()
    texts = page.get_by_test_id("memory-text")
    expect(texts).to_have_text(["User is new to Kubernetes"])

    page.get_by_test_id("memory-edit").click()
    page.get_by_test_id("memory-input").fill("User knows the Kubernetes basics")
    page.get_by_test_id("memory-save").click()
    expect(texts).to_have_text(["User knows the Kubernetes basics"])

    page.get_by_test_id("memory-delete").click()
    expect(page.get_by_test_id("memory-item")).to_have_count(0)
    expect(page.get_by_test_id("memory-empty")).to_be_visible()
    page.get_by_test_id("memory-close").click()

    # Forgotten on the server too; and "forget everything" clears what is learned next.
    ask(page, "Our team uses Flask. I prefer short answers.")
    page.reload()
    page.get_by_test_id("open-memories").click()
    expect(texts).to_have_text(["User prefers short answers", "User's team uses Flask"])
    page.get_by_test_id("memory-forget-all").click()
    page.get_by_test_id("ask-confirm").click()
    expect(page.get_by_test_id("memory-empty")).to_be_visible()
    expect(page.get_by_test_id("memory-item")).to_have_count(0)


def test_the_ui_runs_under_its_policy_and_injected_script_does_not(
    context: BrowserContext, live_server: str
) -> None:
    page = context.new_page()
    refusals = csp_refusals(page)
    sign_up(page, live_server)
    ask(page, "Who are you?")
    assert refusals == []
    # What the policy is for: script that got into the page some other way does not run.
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.head.append(script);
        }"""
    )
    expect(page.get_by_test_id("conn-state")).to_have_text("connected")
    assert page.evaluate("() => window.injected") is None
    assert any("script-src" in refusal for refusal in refusals), refusals

"""An answer whose turn taught Allin something says so underneath: "Memory updated · View", where
View opens the memory panel. Shown as the server tells the page, and again after a reload."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.web.test_browser import ask, sign_up


def test_an_answer_that_taught_a_memory_says_so_and_opens_the_panel(
    page: Page, live_server: str
) -> None:
    sign_up(page, live_server)
    ask(page, "How do I run the tests?")
    ask(page, "My manager is Dana.")
    answers = page.get_by_test_id("message-assistant")
    notice = answers.last.get_by_test_id("memory-notice")
    expect(notice).to_have_text("Memory updated · View")
    expect(page.get_by_test_id("announcer")).to_contain_text("User's manager is Dana")
    # Only under the answer that taught it: the question before taught nothing.
    expect(page.get_by_test_id("memory-notice")).to_have_count(1)

    view = notice.get_by_test_id("memory-notice-view")
    expect(view).to_have_accessible_name("View what Allin remembers")
    view.click()
    expect(page.get_by_test_id("memories")).to_be_visible()
    expect(page.get_by_test_id("memory-text")).to_have_text(["User's manager is Dana"])
    page.get_by_test_id("memory-close").click()

    # The answer keeps it: a reload shows it where it was.
    page.reload()
    expect(page.get_by_test_id("conn-state")).to_have_text("connected")
    expect(answers).to_have_count(2)
    expect(answers.last.get_by_test_id("memory-notice")).to_have_text("Memory updated · View")
    expect(answers.first.get_by_test_id("memory-notice")).to_have_count(0)

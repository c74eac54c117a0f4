"""Message actions in a real Chromium: edit the last message and send it again, regenerate the
last answer, long messages folded behind "Show more", and answers' tables that fit a phone."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.web.test_browser import ask, bubbles, sign_up


def test_edit_and_regenerate_act_on_the_last_exchange_only(page: Page, live_server: str) -> None:
    sign_up(page, live_server)
    ask(page, "Who are you?")
    ask(page, "How many vacation days do I get?")
    users = page.get_by_test_id("message-user")
    answers = page.get_by_test_id("message-assistant")
    expect(page.get_by_test_id("edit-message")).to_have_count(1)
    expect(users.last.get_by_test_id("edit-message")).to_be_visible()
    expect(page.get_by_test_id("regenerate")).to_have_count(1)
    expect(answers.last.get_by_test_id("regenerate")).to_be_visible()

    # Edit puts the message back in the composer; what is sent is a new message.
    users.last.get_by_test_id("edit-message").click()
    composer = page.get_by_test_id("composer")
    expect(composer).to_have_value("How many vacation days do I get?")
    expect(composer).to_be_focused()
    composer.fill("How many sick days do I get?")
    composer.press("Enter")
    # While it is sent and answered there is nothing to redo yet.
    expect(answers).to_have_count(3)
    expect(answers.last).not_to_have_class(re.compile("streaming"))
    expect(bubbles(page, "user")).to_have_text(
        ["Who are you?", "How many vacation days do I get?", "How many sick days do I get?"]
    )
    expect(page.get_by_test_id("edit-message")).to_have_count(1)
    expect(users.last.get_by_test_id("edit-message")).to_be_visible()

    # Regenerate asks the same question again, for a new answer after it.
    answers.last.get_by_test_id("regenerate").click()
    expect(answers).to_have_count(4)
    expect(answers.last).not_to_have_class(re.compile("streaming"))
    expect(bubbles(page, "user").last).to_have_text("How many sick days do I get?")
    expect(users).to_have_count(4)
    expect(page.get_by_test_id("regenerate")).to_have_count(1)

    # After a reload the actions are on the stored last exchange again.
    page.reload()
    expect(answers).to_have_count(4)
    expect(answers.last.get_by_test_id("regenerate")).to_be_visible()
    expect(users.last.get_by_test_id("edit-message")).to_be_visible()


def test_a_long_message_is_folded_behind_show_more(page: Page, live_server: str) -> None:
    sign_up(page, live_server)
    long_message = "\n".join(f"Line {n} of the stack trace I got" for n in range(1, 41))
    ask(page, long_message)
    question = page.get_by_test_id("message-user").last
    bubble = question.locator(".bubble")
    toggle = question.get_by_test_id("show-more")
    expect(toggle).to_have_text("Show more")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    folded = bubble.evaluate("element => element.getBoundingClientRect().height")
    assert folded <= 300, folded
    toggle.click()
    expect(toggle).to_have_text("Show less")
    unfolded = bubble.evaluate("element => element.getBoundingClientRect().height")
    assert unfolded > 2 * folded, (folded, unfolded)
    # The whole text was there all along: copying or searching the page finds every line.
    expect(bubble).to_contain_text("Line 40 of the stack trace I got")
    # A short message is never folded.
    ask(page, "Thanks!")
    expect(page.get_by_test_id("message-user").last.get_by_test_id("show-more")).to_have_count(0)


def test_a_wide_table_in_an_answer_scrolls_inside_it_on_a_phone(
    page: Page, live_server: str
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_up(page, live_server)
    header = "| " + " | ".join(f"Column {n}" for n in range(12)) + " |"
    rule = "|" + "---|" * 12
    row = "| " + " | ".join("value" for _ in range(12)) + " |"
    page.evaluate(
        """async (markdown) => {
            const { renderMarkdown } = await import("/static/markdown.js");
            const message = document.createElement("div");
            message.className = "msg assistant";
            message.innerHTML = '<div class="bubble" data-testid="table-answer"></div>';
            document.getElementById("messages").append(message);
            renderMarkdown(message.querySelector(".bubble"), markdown);
        }""",
        "\n".join([header, rule, row, row]),
    )
    table = page.get_by_test_id("table-answer").locator("table")
    expect(table.locator("th")).to_have_count(12)
    expect(table).to_have_css("overflow-x", "auto")
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")

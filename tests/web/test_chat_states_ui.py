"""The chat page's rough edges, each once a bug: long titles, refused messages, messages typed
offline across chat switches and reloads, error states instead of false empty states, the phone
layout, links in answers, contrast and what screen readers hear."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, WebSocketRoute, expect

from allin.app import create_app
from allin.config import Settings
from tests.support.servers import serve_ready
from tests.web.conftest import csp_refusals
from tests.web.test_browser import ask, bubbles, sign_up
from tests.web.test_resume_ui import plain, stored_turns

PHONE = {"width": 390, "height": 844}
LONG_QUESTION = "How do I set up the local development environment for the payments service?"


def test_a_long_title_ends_in_an_ellipsis_without_sideways_scrolling(
    page: Page, live_server: str
) -> None:
    sign_up(page, live_server)
    ask(page, LONG_QUESTION)
    item = page.get_by_test_id("chat-item")
    expect(item).to_have_text([re.compile("^How do I set up the local")])
    nav = page.locator(".sidebar nav")
    assert nav.evaluate("nav => nav.scrollWidth <= nav.clientWidth")
    assert item.evaluate("link => link.scrollWidth > link.clientWidth")  # cut, so…
    assert item.evaluate("link => getComputedStyle(link).textOverflow") == "ellipsis"
    assert item.evaluate("link => link.getBoundingClientRect().right") <= nav.evaluate(
        "nav => nav.getBoundingClientRect().right"
    )
    # Its focus ring is drawn inside the link, where the scrolling list cannot clip it.
    item.focus()
    assert item.evaluate("link => getComputedStyle(link).outlineOffset") == "-2px"


def test_a_message_over_the_limit_stays_in_the_composer(page: Page, live_server: str) -> None:
    sign_up(page, live_server)
    text = "a" * 40_000
    page.get_by_test_id("composer").fill(text)
    page.get_by_test_id("composer").press("Enter")
    expect(page.get_by_test_id("composer-error")).to_contain_text("the limit is 32,768")
    expect(page.get_by_test_id("composer")).to_have_value(text)
    expect(page.get_by_test_id("message-user")).to_have_count(0)


def test_a_message_the_server_refuses_goes_back_to_the_composer(
    page: Page, live_server: str
) -> None:
    # A page that does not know the limit (an older server's config) sends it; the server refuses.
    page.route(
        "**/api/v1/config",
        lambda route: route.fulfill(json={**route.fetch().json(), "max_message_bytes": None}),
    )
    sign_up(page, live_server)
    text = "b" * 40_000
    page.get_by_test_id("composer").fill(text)
    page.get_by_test_id("composer").press("Enter")
    expect(page.get_by_test_id("composer-error")).to_contain_text("the limit is 32768")
    expect(page.get_by_test_id("composer")).to_have_value(text)
    expect(page.get_by_test_id("message-user")).to_have_count(0)
    expect(page.get_by_text("sending…")).to_have_count(0)


def test_unsent_messages_survive_chat_switches_and_reloads(page: Page, live_server: str) -> None:
    blocked = False
    sockets: list[WebSocketRoute] = []

    def socket(ws: WebSocketRoute) -> None:
        # While `blocked`, the chat socket cannot connect (the HTTP API still answers).
        if blocked:
            ws.close()
        else:
            ws.connect_to_server()
            sockets.append(ws)

    page.route_web_socket(re.compile(r"/ws/"), socket)
    sign_up(page, live_server)
    ask(page, "Before the drop")
    blocked = True
    sockets[-1].close()
    expect(page.get_by_test_id("conn-state")).to_have_text(re.compile("reconnecting"))
    page.get_by_test_id("composer").fill("Typed while offline")
    page.get_by_test_id("composer").press("Enter")
    expect(page.get_by_test_id("message-user").last).to_contain_text("sending…")

    page.get_by_test_id("new-chat").click()
    expect(page.get_by_test_id("message-user")).to_have_count(0)
    page.get_by_test_id("chat-item").first.click()
    expect(bubbles(page, "user")).to_have_text(["Before the drop", "Typed while offline"])
    expect(page.get_by_test_id("message-user").last).to_contain_text("sending…")
    page.reload()
    expect(bubbles(page, "user")).to_have_text(["Before the drop", "Typed while offline"])
    expect(page.get_by_test_id("message-user").last).to_contain_text("sending…")

    blocked = False
    expect(page.get_by_test_id("conn-state")).to_have_text("connected", timeout=30_000)
    expect(page.get_by_test_id("message-assistant")).to_have_count(2)
    expect(page.get_by_text("sending…")).to_have_count(0)
    page.reload()
    expect(bubbles(page, "user")).to_have_text(["Before the drop", "Typed while offline"])


def test_server_down_shows_an_error_not_an_empty_chat(page: Page, settings: Settings) -> None:
    with serve_ready(create_app(settings)) as url:
        sign_up(page, url)
        ask(page, "A chat with history")
        page.get_by_test_id("new-chat").click()
        expect(page.get_by_test_id("message-user")).to_have_count(0)
    expect(page.get_by_test_id("conn-state")).to_have_text(re.compile("reconnecting"))
    page.get_by_test_id("chat-item").first.click()
    expect(page.get_by_test_id("history-error")).to_be_visible()
    expect(page.locator("#empty")).to_be_hidden()


def test_phone_layout(browser: Browser, live_server: str) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        refusals = csp_refusals(page)
        sign_up(page, live_server)
        expect(page.get_by_test_id("conn-state")).not_to_be_in_viewport()  # connected: no badge
        ask(page, LONG_QUESTION)
        assert page.get_by_test_id("composer").bounding_box()["width"] >= 250  # type: ignore[index]
        assert page.get_by_test_id("chat-title").bounding_box()["width"] >= 200  # type: ignore[index]
        page.get_by_test_id("composer").fill("Still typing")
        assert page.get_by_test_id("composer").bounding_box()["width"] >= 250  # type: ignore[index]

        sidebar = page.locator(".sidebar")
        page.get_by_test_id("toggle-sidebar").click()
        expect(sidebar).to_be_in_viewport()
        page.get_by_test_id("scrim").tap(position={"x": 370, "y": 400})
        expect(sidebar).not_to_be_in_viewport()
        page.get_by_test_id("toggle-sidebar").click()
        expect(sidebar).to_be_in_viewport()
        page.keyboard.press("Escape")
        expect(sidebar).not_to_be_in_viewport()
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        assert refusals == []
    finally:
        context.close()


def test_links_leave_in_a_new_tab(page: Page, live_server: str) -> None:
    sign_up(page, live_server)
    links = page.evaluate(
        """async () => {
            const { renderMarkdown } = await import("/static/markdown.js");
            const element = document.createElement("div");
            renderMarkdown(element, "[docs](https://example.com/docs) and [a chat](#/c/abc)");
            return [...element.querySelectorAll("a")].map((a) => [a.target, a.rel]);
        }"""
    )
    assert links == [["_blank", "noopener noreferrer"], ["", ""]]


CONTRAST = """() => {
    const rgb = (css) => css.match(/[\\d.]+/g).slice(0, 3).map(Number);
    const luminance = (css) => {
        const [r, g, b] = rgb(css).map((v) => {
            const c = v / 255;
            return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const ratio = (a, b) => {
        const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
        return (hi + 0.05) / (lo + 0.05);
    };
    const probe = document.createElement("span");
    document.body.append(probe);
    const computed = (property, value) => {
        probe.style[property] = value;
        return getComputedStyle(probe)[property];
    };
    const result = {};
    for (const background of ["--panel", "--bg"]) {
        const behind = computed("backgroundColor", `var(${background})`);
        for (const text of ["--text", "--muted", "--danger", "--ok", "--warn", "--link"]) {
            result[`${text} on ${background}`] = ratio(computed("color", `var(${text})`), behind);
        }
    }
    probe.remove();
    return result;
}"""


def test_text_contrast_is_at_least_4_5_in_both_schemes(browser: Browser, live_server: str) -> None:
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme)
        try:
            page = context.new_page()
            page.goto(live_server)
            expect(page.get_by_test_id("auth-form")).to_be_visible()
            ratios = page.evaluate(CONTRAST)
            low = {pair: round(ratio, 2) for pair, ratio in ratios.items() if ratio < 4.5}
            assert low == {}, scheme
        finally:
            context.close()


def test_screen_readers_hear_the_finished_answer_not_the_stream(
    page: Page, live_server: str
) -> None:
    sign_up(page, live_server)
    assert page.get_by_test_id("messages").get_attribute("aria-live") is None
    ask(page, "Who are you?")
    announcer = page.get_by_test_id("announcer")
    expect(announcer).to_have_attribute("aria-live", "polite")
    expect(announcer).to_contain_text("I'm Allin")


def test_starter_prompts_and_copying_an_answer(browser: Browser, live_server: str) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    try:
        page = context.new_page()
        sign_up(page, live_server)
        page.get_by_test_id("starter").first.click()
        expect(bubbles(page, "user")).to_have_text(["How do I run the tests?"])
        answer = page.get_by_test_id("message-assistant").last
        expect(answer).not_to_have_class(re.compile("streaming"))
        answer.get_by_test_id("copy-answer").click()
        expect(answer.get_by_test_id("copy-answer")).to_have_text("Copied")
        copied = page.evaluate("() => navigator.clipboard.readText()")
        # The whole answer, to its last words, and none of the page's buttons.
        stored = stored_turns(page, live_server)[-1]["content"]
        assert plain(copied).endswith(plain(stored)[-40:]) and "Copy" not in copied
    finally:
        context.close()


def test_a_reload_while_the_database_is_down_keeps_the_session(
    page: Page, live_server: str
) -> None:
    sign_up(page, live_server)
    ask(page, "A chat to come back to")
    # What the API answers while its database is down (api/errors.py: `unavailable`, 503).
    outage = {"error": "unavailable", "detail": "the database is unavailable; try again shortly"}
    page.route(
        re.compile(r"/api/v1/(auth/me|chat/)"),
        lambda route: route.fulfill(status=503, json=outage),
    )
    page.reload()
    expect(page.get_by_test_id("chat-list-error")).to_be_visible()
    expect(page.get_by_test_id("auth-form")).to_be_hidden()
    # The chat socket still works here: it replays the chat.
    expect(bubbles(page, "user")).to_have_text(["A chat to come back to"])
    page.unroute_all()
    expect(page.get_by_test_id("chat-item")).to_have_text(
        ["A chat to come back to"], timeout=20_000
    )
    expect(page.get_by_test_id("chat-list-error")).to_be_hidden()

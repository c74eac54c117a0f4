"""A saturated server in a real Chromium: with one turn answered at a time, a question asked
while another user's answer is written says it waits its turn, then is answered as usual."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from allin.app import create_app
from allin.config import Settings
from tests.support.servers import serve_ready
from tests.web.test_browser import sign_up


@pytest.fixture(scope="module")
def one_turn_server(settings: Settings) -> Iterator[str]:
    # Slow offline answers, one at a time: a second question has to wait for the first.
    busy = settings.model_copy(update={"max_concurrent_turns": 1, "offline_token_delay_ms": 150})
    with serve_ready(create_app(busy)) as url:
        yield url


def test_a_waiting_question_says_so_then_is_answered(
    browser: Browser, one_turn_server: str
) -> None:
    first_user, second_user = browser.new_context(), browser.new_context()
    try:
        first, second = first_user.new_page(), second_user.new_page()
        sign_up(first, one_turn_server)
        sign_up(second, one_turn_server)
        first.get_by_test_id("composer").fill("Who are you?")
        first.get_by_test_id("composer").press("Enter")
        expect(first.get_by_test_id("message-assistant")).to_have_class(re.compile("streaming"))

        second.get_by_test_id("composer").fill("How many vacation days do I get?")
        second.get_by_test_id("composer").press("Enter")
        note = second.get_by_test_id("message-user").get_by_test_id("busy-note")
        # First in line: nobody else waits ahead of it (the first answer is being written).
        expect(note).to_have_text("Allin is answering other questions; yours is next in line.")
        # Its turn comes: the answer is written, and the notice is gone.
        answer = second.get_by_test_id("message-assistant")
        expect(answer).to_have_count(1, timeout=60_000)
        expect(answer).not_to_have_class(re.compile("streaming"), timeout=60_000)
        expect(note).to_have_count(0)
        expect(second.get_by_test_id("message-error")).to_have_count(0)
    finally:
        first_user.close()
        second_user.close()

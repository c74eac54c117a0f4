"""The browser client survives a dropped connection: it shows that it is reconnecting, resumes the
answer being written without repeating or losing text, sends what was typed offline once, and can
stop an answer. The page reaches the app through a proxy that the tests cut (Chromium's offline
mode leaves open WebSockets alone)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from allin.app import create_app
from tests.conftest import make_settings
from tests.support.proxy import CuttableProxy, cuttable_proxy
from tests.support.servers import free_port, serve_in_thread, serve_ready
from tests.web.test_browser import bubbles, sign_up

# Answers take a couple of seconds: long enough to cut the connection mid-answer.
# Slow enough that an answer is still being written after a cut, a pause and a reconnection with
# backoff, even on a busy 2-core machine (at 25 ms, it sometimes finished first). The answer is
# some 40 words: at 120 ms it takes about 5 s.
TOKEN_DELAY_MS = 120
QUESTION = "Who are you?"
# How the offline answer to QUESTION ends: seen, the answer was written to the end.
ANSWER_ENDS = "I remember what you tell me across chats."


@pytest.fixture
def proxy(slow_server: str) -> Iterator[CuttableProxy]:
    with cuttable_proxy(slow_server) as proxy:
        yield proxy


def slow_app(
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    token_delay_ms: int = TOKEN_DELAY_MS,
    **overrides: Any,
) -> Any:
    return create_app(
        make_settings(
            database_url=database_url,
            data_dir=tmp_path_factory.mktemp("slow-ui"),
            offline_token_delay_ms=token_delay_ms,
            memory=False,  # not what these tests are about, and slow to start
            **overrides,
        )
    )


@pytest.fixture(scope="module")
def slow_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_in_thread(slow_app(database_url, tmp_path_factory)) as url:
        yield url


@pytest.fixture(scope="module")
def forgetful_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Keeps one frame per chat, so a resume after a short drop is caught up from the database:
    one token frame with the whole partial answer, overlapping what the page has.

    Only while the answer is still being written: once it is finished, the database has the
    whole turn to send instead. So its answers are twice as slow, and a reconnection held up by
    a machine loaded well past its cores (seen with a CI run and these suites side by side)
    still finds the answer unfinished; and it keeps a single frame, so that even the few frames
    of a quick reconnection are more than it holds."""
    app = slow_app(
        database_url, tmp_path_factory, token_delay_ms=2 * TOKEN_DELAY_MS, resume_buffer_frames=1
    )
    with serve_ready(app) as url:
        yield url


class SocketFrames:
    """The frames the page sends (and receives), socket by socket."""

    def __init__(self, page: Page) -> None:
        self.sockets: list[list[dict[str, Any]]] = []
        self.received: list[list[dict[str, Any]]] = []
        page.on("websocket", self._opened)

    def _opened(self, socket: Any) -> None:
        frames: list[dict[str, Any]] = []
        received: list[dict[str, Any]] = []
        self.sockets.append(frames)
        self.received.append(received)
        socket.on("framesent", lambda payload: frames.append(json.loads(payload)))
        socket.on("framereceived", lambda payload: received.append(json.loads(payload)))

    def messages(self) -> list[dict[str, Any]]:
        return [f for frames in self.sockets for f in frames if f["type"] == "message"]


def record_answer_texts(page: Page) -> None:
    """Keep every text the answers show, to check later that none repeated anything."""
    page.evaluate(
        """() => {
        window.answerTexts = [];
        const record = () => {
          for (const bubble of document.querySelectorAll(".msg.assistant .bubble")) {
            window.answerTexts.push(bubble.textContent);
          }
        };
        new MutationObserver(record).observe(document.getElementById("messages"),
          { childList: true, subtree: true, characterData: true });
      }"""
    )


def plain(text: str) -> str:
    """Text without Markdown's emphasis marks and with spaces collapsed, to compare what the page
    shows with the stored Markdown."""
    return " ".join(re.sub(r"[*_`]", "", text).split())


def stored_turns(page: Page, base_url: str, *, missing_ok: bool = False) -> list[dict[str, Any]]:
    """The page's chat as the server stored it (REST history)."""
    session = page.evaluate("JSON.parse(localStorage.getItem('allin.session'))")
    chat_id = page.evaluate("location.hash.slice(4)")
    response = httpx.get(
        f"{base_url}/api/v1/chat/history/{session['userId']}/{chat_id}",
        headers={"Authorization": f"Bearer {session['token']}"},
    )
    if missing_ok and response.status_code == 404:
        return []  # the chat is created with its first message
    assert response.status_code == 200, response.text
    return list(response.json()["turns"])


def wait_until_streaming(page: Page, text: str) -> None:
    expect(page.locator(".msg.assistant.streaming .bubble")).to_contain_text(text)


def assert_answer_shown_once(page: Page, stored: dict[str, Any]) -> None:
    answers = bubbles(page, "assistant")
    expect(answers).to_have_count(1)
    assert plain(answers.first.text_content() or "") == plain(stored["content"])
    # While it streamed, before and after the drop, the answer only ever grew.
    final = plain(stored["content"])
    for shown in page.evaluate("window.answerTexts"):
        assert final.startswith(plain(shown)), shown


@pytest.mark.parametrize("server", ["slow_server", "forgetful_server"])
def test_connection_cut_mid_answer_resumes_without_repeating_text(
    page: Page, server: str, request: pytest.FixtureRequest
) -> None:
    base_url = request.getfixturevalue(server)
    with cuttable_proxy(base_url) as proxy:
        sent = check_resume_mid_answer(page, proxy, base_url)
    # The catch-up came as the server's kind says: the missed tokens one by one from its buffer,
    # or, from the database, the whole partial answer at offset 0, overlapping what the page had.
    tokens = [f for f in sent.received[-1] if f["type"] == "token"]
    from_database = any(t["offset"] == 0 for t in tokens)
    assert from_database == (server == "forgetful_server"), tokens[:3]


def check_resume_mid_answer(page: Page, proxy: CuttableProxy, base_url: str) -> SocketFrames:
    sent = SocketFrames(page)
    sign_up(page, proxy.url)
    record_answer_texts(page)
    page.get_by_test_id("composer").fill(QUESTION)
    page.get_by_test_id("composer").press("Enter")
    wait_until_streaming(page, "Team 8")

    proxy.cut()
    status = page.get_by_test_id("conn-state")
    expect(status).to_have_text("reconnecting…")
    expect(page.get_by_role("status").filter(has_text="reconnecting…")).to_be_visible()
    page.wait_for_timeout(600)  # the answer goes on being written meanwhile
    proxy.restore()

    expect(status).to_have_text("connected", timeout=15_000)
    answer = page.get_by_test_id("message-assistant")
    expect(answer).not_to_have_class(re.compile("streaming"), timeout=30_000)
    turns = stored_turns(page, base_url)
    assert [t["role"] for t in turns] == ["user", "assistant"]
    assert "status" not in turns[1]["metadata"]
    assert_answer_shown_once(page, turns[1])
    expect(bubbles(page, "user")).to_have_text([QUESTION])

    # Every connection began by saying where the page was; the second one, mid-answer.
    assert len(sent.sockets) >= 2
    assert all(frames[0]["type"] == "resume" for frames in sent.sockets if frames)
    assert sent.sockets[0][0]["last_seq"] == 0
    assert sent.sockets[-1][0]["last_seq"] > 1
    assert [m["content"] for m in sent.messages()] == [QUESTION]
    return sent


def test_message_typed_offline_is_sent_once_on_reconnect(
    page: Page, proxy: CuttableProxy, slow_server: str
) -> None:
    sent = SocketFrames(page)
    sign_up(page, proxy.url)
    proxy.cut()
    expect(page.get_by_test_id("conn-state")).to_have_text("reconnecting…")
    page.get_by_test_id("composer").fill(QUESTION)
    page.get_by_test_id("composer").press("Enter")
    pending = page.get_by_test_id("message-user")
    expect(pending).to_have_count(1)
    expect(pending).to_contain_text("sending…")
    page.wait_for_timeout(300)
    proxy.restore()

    expect(page.get_by_test_id("conn-state")).to_have_text("connected", timeout=15_000)
    answer = page.get_by_test_id("message-assistant")
    expect(answer).to_have_count(1)
    expect(answer).not_to_have_class(re.compile("streaming"), timeout=15_000)
    expect(pending).not_to_contain_text("sending…")
    turns = stored_turns(page, slow_server)
    assert [(t["role"], t["content"]) for t in turns][:1] == [("user", QUESTION)]
    assert len(turns) == 2
    messages = sent.messages()
    assert len(messages) == 1
    # Sent on the new connection, after its resume frame.
    last = sent.sockets[-1]
    assert [f["type"] for f in last[:2]] == ["resume", "message"]

    # Reloading shows the same chat: nothing was stored twice.
    page.reload()
    expect(bubbles(page, "user")).to_have_text([QUESTION])
    expect(page.get_by_test_id("message-assistant")).to_have_count(1)


def test_message_sent_just_before_a_drop_is_not_stored_twice(
    page: Page, proxy: CuttableProxy, slow_server: str
) -> None:
    sent = SocketFrames(page)
    sign_up(page, proxy.url)
    proxy.mute()  # the message reaches the server; its ack and answer do not reach the page
    page.get_by_test_id("composer").fill(QUESTION)
    page.get_by_test_id("composer").press("Enter")
    expect(page.get_by_test_id("message-user")).to_contain_text("sending…")
    for _ in range(100):
        if stored_turns(page, slow_server, missing_ok=True):
            break
        page.wait_for_timeout(50)
    else:
        pytest.fail("the message never reached the server")
    proxy.cut()
    expect(page.get_by_test_id("conn-state")).to_have_text("reconnecting…")
    proxy.restore()

    expect(page.get_by_test_id("conn-state")).to_have_text("connected", timeout=15_000)
    answer = page.get_by_test_id("message-assistant")
    expect(answer).not_to_have_class(re.compile("streaming"), timeout=15_000)
    # Sent on both connections, with one id; stored and answered once.
    ids = [m["id"] for m in sent.messages()]
    assert len(ids) == 2 and len(set(ids)) == 1
    turns = stored_turns(page, slow_server)
    assert [t["role"] for t in turns] == ["user", "assistant"]
    expect(bubbles(page, "user")).to_have_text([QUESTION])
    expect(answer).to_have_count(1)
    assert plain(bubbles(page, "assistant").first.text_content() or "") == plain(
        turns[1]["content"]
    )


def test_stop_keeps_what_was_written_and_retry_asks_again(page: Page, slow_server: str) -> None:
    sign_up(page, slow_server)
    stop = page.get_by_test_id("stop")
    expect(stop).to_be_hidden()
    page.get_by_test_id("composer").fill(QUESTION)
    page.get_by_test_id("composer").press("Enter")
    wait_until_streaming(page, "Team 8")
    stop.click()

    answer = page.get_by_test_id("message-assistant")
    expect(answer.get_by_test_id("answer-status")).to_contain_text("Stopped")
    expect(answer).not_to_have_class(re.compile("streaming"))
    expect(stop).to_be_hidden()
    turns = stored_turns(page, slow_server)
    assert turns[1]["metadata"]["status"] == "cancelled"
    shown = plain(bubbles(page, "assistant").first.text_content() or "")
    assert shown == plain(turns[1]["content"]) and "Team 8" in shown
    assert not shown.endswith(plain(ANSWER_ENDS))  # stopped before the end

    # The label survives a reload, and Retry asks the same question again.
    page.reload()
    expect(answer.get_by_test_id("answer-status")).to_contain_text("Stopped")
    answer.get_by_test_id("retry-answer").click()
    expect(bubbles(page, "user")).to_have_text([QUESTION, QUESTION])
    expect(answer).to_have_count(2)
    expect(answer.last).not_to_have_class(re.compile("streaming"), timeout=15_000)
    expect(answer.last.get_by_test_id("answer-status")).to_have_count(0)
    expect(answer.last).to_contain_text(ANSWER_ENDS)


def test_other_tabs_follow_the_chat_and_catch_up_mid_answer(
    context: BrowserContext, page: Page, slow_server: str
) -> None:
    sign_up(page, slow_server)
    chat_url = page.url
    watcher = context.new_page()  # the same account (same storage), the same chat
    watcher.goto(chat_url)
    expect(watcher.get_by_test_id("conn-state")).to_have_text("connected")

    page.get_by_test_id("composer").fill(QUESTION)
    page.get_by_test_id("composer").press("Enter")
    # The other tab shows the question it did not send, and the answer as it is written.
    expect(bubbles(watcher, "user")).to_have_text([QUESTION])
    wait_until_streaming(watcher, "Team 8")

    # A tab opened mid-answer gets the part already written, then the rest.
    late = context.new_page()
    late.goto(chat_url)
    record_answer_texts(late)
    wait_until_streaming(late, "Team 8")
    for tab in (page, watcher, late):
        expect(tab.get_by_test_id("message-assistant")).not_to_have_class(
            re.compile("streaming"), timeout=15_000
        )
    turns = stored_turns(page, slow_server)
    for tab in (page, watcher):
        expect(bubbles(tab, "user")).to_have_text([QUESTION])
        expect(bubbles(tab, "assistant")).to_have_count(1)
        shown = bubbles(tab, "assistant").first.text_content() or ""
        assert plain(shown) == plain(turns[1]["content"])
    expect(bubbles(late, "user")).to_have_text([QUESTION])
    assert_answer_shown_once(late, turns[1])


def test_answer_cut_by_a_server_restart_shows_interrupted_and_retry(
    page: Page,
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Shutdown waits this little for answers being written, then stores them as interrupted.
    monkeypatch.setattr("allin.services._DRAIN_TIMEOUT_S", 0.05)
    port = free_port()
    with serve_in_thread(slow_app(database_url, tmp_path_factory), port=port) as url:
        sign_up(page, url)
        page.get_by_test_id("composer").fill(QUESTION)
        page.get_by_test_id("composer").press("Enter")
        wait_until_streaming(page, "Team 8")
    expect(page.get_by_test_id("conn-state")).to_have_text("reconnecting…")

    with serve_in_thread(slow_app(database_url, tmp_path_factory), port=port):
        expect(page.get_by_test_id("conn-state")).to_have_text("connected", timeout=15_000)
        answer = page.get_by_test_id("message-assistant")
        expect(answer.get_by_test_id("answer-status")).to_contain_text("Interrupted")
        expect(answer).not_to_have_class(re.compile("streaming"))
        turns = stored_turns(page, url)
        assert turns[1]["metadata"]["status"] == "interrupted"
        shown = bubbles(page, "assistant").first.text_content() or ""
        assert plain(shown) == plain(turns[1]["content"]) and "Team 8" in shown

        answer.get_by_test_id("retry-answer").click()
        expect(bubbles(page, "user")).to_have_text([QUESTION, QUESTION])
        expect(answer).to_have_count(2)
        expect(answer.last).not_to_have_class(re.compile("streaming"), timeout=15_000)
        expect(answer.last).to_contain_text(ANSWER_ENDS)


def test_switching_chats_mid_answer_and_back_shows_it_once(page: Page, slow_server: str) -> None:
    sign_up(page, slow_server)
    page.get_by_test_id("composer").fill(QUESTION)
    page.get_by_test_id("composer").press("Enter")
    wait_until_streaming(page, "Team 8")
    page.get_by_test_id("new-chat").click()
    expect(page.get_by_test_id("message-user")).to_have_count(0)
    expect(page.get_by_test_id("conn-state")).to_have_text("connected")
    expect(page.get_by_test_id("stop")).to_be_hidden()  # nothing is being written in this chat

    page.get_by_test_id("chat-item").first.click()
    record_answer_texts(page)
    answer = page.get_by_test_id("message-assistant")
    expect(answer).not_to_have_class(re.compile("streaming"), timeout=15_000)
    expect(bubbles(page, "user")).to_have_text([QUESTION])
    assert_answer_shown_once(page, stored_turns(page, slow_server)[1])

"""Adding a document from the conversation, in a real Chromium: the composer's attach button and
files dropped on the chat go to the user's documents, and the next question is answered from
them with a citation; a refused file says why."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.web.test_browser import ask, sign_up
from tests.web.test_documents_ui import FLASK_GUIDE


def drop_file(page: Page, name: str, text: str) -> None:
    """Drag a file from the desktop onto the chat, as a browser reports it to the page."""
    page.evaluate(
        """([name, text]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([text], name, { type: "text/markdown" }));
            const chat = document.querySelector("main.chat");
            const init = { dataTransfer: transfer, bubbles: true, cancelable: true };
            for (const type of ["dragenter", "dragover", "drop"]) {
                chat.dispatchEvent(new DragEvent(type, init));
            }
        }""",
        [name, text],
    )


@pytest.mark.parametrize("how", ["button", "drop"])
def test_an_attached_document_answers_the_next_question(
    page: Page, live_server: str, tmp_path: Path, how: str
) -> None:
    sign_up(page, live_server)
    if how == "button":
        guide = tmp_path / "flask-guide.md"
        guide.write_text(FLASK_GUIDE)
        page.get_by_test_id("attach-files").set_input_files(guide)
    else:
        drop_file(page, "flask-guide.md", FLASK_GUIDE)
    note = page.get_by_test_id("attach-note")
    expect(note).to_have_text(
        "✓ flask-guide.md is in your documents: ask about it.", timeout=60_000
    )
    expect(page.get_by_test_id("composer")).to_be_focused()
    expect(page.locator("main.chat")).not_to_have_class("chat dropping")

    ask(page, "How does a service create its Flask application object?")
    answer = page.get_by_test_id("message-assistant").last
    expect(answer.locator("pre code")).to_contain_text("app = Flask(__name__)")
    expect(answer.get_by_test_id("citation").first).to_be_visible()

    page.get_by_test_id("open-docs").click()
    expect(page.get_by_test_id("docs-table")).to_contain_text("flask-guide.md")


def test_a_file_that_cannot_be_read_is_refused_with_its_reason(
    page: Page, live_server: str, tmp_path: Path
) -> None:
    sign_up(page, live_server)
    picture = tmp_path / "diagram.bmp"
    picture.write_bytes(b"BM" + bytes(64))
    page.get_by_test_id("attach-files").set_input_files(picture)
    note = page.get_by_test_id("attach-note")
    expect(note).to_contain_text("✗ diagram.bmp: diagram.bmp: unsupported file type")
    expect(note).to_have_class("attach-note small error-text")

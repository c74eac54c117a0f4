"""The knowledge base in the browser: upload a document with the team-documents panel, ask about
it, follow the answer's citation to the passage."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from allin.app import create_app
from allin.config import Settings
from tests.conftest import make_settings, new_database
from tests.support.accounts import PASSWORD
from tests.support.servers import serve_ready
from tests.web.test_browser import ask, sign_up

HANDBOOK = """# Handbook

## Paid time off

Everyone gets 25 days of paid vacation a year, plus public holidays.

## Expenses

Keep the receipt for anything over 20 euros.
"""


def test_upload_ask_and_open_the_cited_passage(
    page: Page, live_server: str, tmp_path: Path
) -> None:
    handbook = tmp_path / "handbook.md"
    handbook.write_text(HANDBOOK)
    unsupported = tmp_path / "logo.png"
    unsupported.write_bytes(b"\x89PNG")
    notes = tmp_path / "notes.txt"
    notes.write_text("Lunch is at noon.\n")
    sign_up(page, live_server)

    page.get_by_test_id("open-docs").click()
    expect(page.get_by_test_id("docs-dialog")).to_be_visible()
    page.get_by_test_id("upload-files").set_input_files([handbook, unsupported, notes])
    page.get_by_test_id("upload-submit").click()
    note = page.get_by_test_id("upload-note")
    expect(note).to_contain_text("✓ handbook.md: indexed", timeout=60_000)
    expect(note).to_contain_text("✗ logo.png: logo.png: unsupported file type")
    row = page.get_by_test_id("document-row").filter(has_text="handbook.md")
    expect(row).to_contain_text("ready")
    expect(row.locator("td").nth(3)).to_have_text("2")
    # A document that is not Markdown opens as its file, in a new tab.
    with page.context.expect_page() as opened:
        page.get_by_test_id("document-row").filter(has_text="notes.txt").get_by_test_id(
            "doc-open"
        ).click()
    raw = opened.value
    expect(raw.locator("body")).to_contain_text("Lunch is at noon.")
    raw.close()
    page.keyboard.press("Escape")

    ask(page, "How many vacation days do I get?")
    answer = page.get_by_test_id("message-assistant").last
    expect(answer).to_contain_text("25 days of paid vacation")
    sources = answer.get_by_test_id("sources")
    expect(sources).to_contain_text("handbook.md › Handbook › Paid time off")
    page.screenshot(path="/tmp/allin-ui-citations.png")
    answer.get_by_test_id("citation").first.click()
    expect(page.get_by_test_id("passage-dialog")).to_be_visible()
    expect(page.get_by_test_id("passage-body")).to_contain_text(
        "Everyone gets 25 days of paid vacation"
    )
    # A Markdown document is read in the app, rendered rather than as raw Markdown.
    page.get_by_test_id("passage-open").click()
    body = page.get_by_test_id("passage-body")
    expect(body.get_by_role("heading", name="Expenses")).to_be_visible()
    expect(body).to_contain_text("Keep the receipt for anything over 20 euros.")
    expect(body).not_to_contain_text("## ")
    page.keyboard.press("Escape")

    page.reload()
    expect(page.get_by_test_id("message-assistant").last.get_by_test_id("sources")).to_contain_text(
        "handbook.md"
    )


FLASK_GUIDE = """# Flask service

## Creating the app

Every service creates its Flask application object in `app.py`:

```python
from flask import Flask
app = Flask(__name__)
```

Then register the blueprints.
"""


def test_offline_answers_and_passages_keep_code(
    page: Page, live_server: str, tmp_path: Path
) -> None:
    guide = tmp_path / "flask-guide.md"
    guide.write_text(FLASK_GUIDE)
    sign_up(page, live_server)
    page.get_by_test_id("open-docs").click()
    page.get_by_test_id("upload-files").set_input_files(guide)
    page.get_by_test_id("upload-submit").click()
    expect(page.get_by_test_id("upload-note")).to_contain_text("indexed", timeout=60_000)
    page.keyboard.press("Escape")

    ask(page, "How does a service create its Flask application object?")
    answer = page.get_by_test_id("message-assistant").last
    expect(answer.locator("pre code")).to_contain_text("app = Flask(__name__)")
    expect(answer.get_by_test_id("code-language")).to_have_text("python")
    answer.get_by_test_id("citation").first.click()
    body = page.get_by_test_id("passage-body")
    expect(body.locator("pre code")).to_contain_text("app = Flask(__name__)")
    expect(body).not_to_contain_text("```")
    page.keyboard.press("Escape")

    ask(page, "What did I ask?")
    expect(page.get_by_test_id("message-assistant").last.locator("ol li")).to_have_text(
        ["How does a service create its Flask application object?"]
    )
    ask(page, "Is Flask(__name__) right?")
    ask(page, "What did I ask?")
    recap = page.get_by_test_id("message-assistant").last.locator("ol li")
    expect(recap.last).to_have_text("Is Flask(__name__) right?")


def test_upload_with_no_file_says_so(page: Page, live_server: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_up(page, live_server)
    page.get_by_test_id("open-docs").click()
    page.get_by_test_id("upload-submit").click()
    expect(page.get_by_test_id("upload-note")).to_have_text("Choose one or more files first.")
    assert errors == []


def test_documents_server_down_is_an_error_not_an_empty_list(
    page: Page, settings: Settings
) -> None:
    with serve_ready(create_app(settings)) as url:
        sign_up(page, url)
    page.get_by_test_id("open-docs").click()
    expect(page.get_by_test_id("docs-error")).to_contain_text("can't be reached")
    expect(page.get_by_test_id("docs-empty")).to_be_hidden()


@pytest.fixture
def team_server(postgres: Any, tmp_path: Path) -> Iterator[str]:
    """An app on a database of its own, so that its first account is the admin."""
    settings = make_settings(database_url=new_database(postgres), data_dir=tmp_path)
    with serve_ready(create_app(settings)) as url:
        yield url


def test_members_see_only_the_actions_they_may_take(
    browser: Browser, team_server: str, tmp_path: Path
) -> None:
    admin = httpx.post(
        f"{team_server}/api/v1/auth/signup",
        json={"email": f"{uuid.uuid4().hex[:10]}@example.com", "password": PASSWORD},
    ).json()
    shared = httpx.post(
        f"{team_server}/api/v1/documents",
        headers={"Authorization": f"Bearer {admin['access_token']}"},
        files=[("files", ("team.md", HANDBOOK.encode()))],
        data={"shared": "true"},
        timeout=60,
    )
    assert shared.status_code == 200, shared.text
    mine = tmp_path / "mine.md"
    mine.write_text("# Notes\n\nMy own notes.\n")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        sign_up(page, team_server)
        page.get_by_test_id("toggle-sidebar").click()  # a phone: the panels are in the drawer
        page.get_by_test_id("open-docs").click()
        page.get_by_test_id("upload-files").set_input_files(mine)
        page.get_by_test_id("upload-submit").click()
        expect(page.get_by_test_id("upload-note")).to_contain_text("indexed", timeout=60_000)
        team_row = page.get_by_test_id("document-row").filter(has_text="team.md")
        own_row = page.get_by_test_id("document-row").filter(has_text="mine.md")
        expect(team_row.get_by_test_id("doc-open")).to_be_visible()
        expect(team_row.get_by_test_id("doc-delete")).to_have_count(0)
        expect(team_row.get_by_test_id("doc-re-index")).to_have_count(0)
        expect(own_row.get_by_test_id("doc-delete")).to_be_visible()
        # On a phone each document is a card that fits the dialog.
        dialog = page.get_by_test_id("docs-dialog")
        assert dialog.evaluate("d => d.scrollWidth <= d.clientWidth")
        own_row.get_by_test_id("doc-delete").click()
        page.get_by_test_id("ask-confirm").click()  # an in-app confirmation, over the panel
        expect(own_row).to_have_count(0)
        expect(team_row).to_have_count(1)
    finally:
        context.close()

"""The knowledge base in the browser: upload a document with the team-documents panel, ask about
it, follow the answer's citation to the passage."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

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
    sign_up(page, live_server)

    page.get_by_test_id("open-docs").click()
    expect(page.get_by_test_id("docs-dialog")).to_be_visible()
    page.get_by_test_id("upload-files").set_input_files([handbook, unsupported])
    page.get_by_test_id("upload-submit").click()
    note = page.get_by_test_id("upload-note")
    expect(note).to_contain_text("✓ handbook.md: indexed", timeout=60_000)
    expect(note).to_contain_text("✗ logo.png: logo.png: unsupported file type")
    row = page.get_by_test_id("document-row").filter(has_text="handbook.md")
    expect(row).to_contain_text("ready")
    expect(row.locator("td").nth(3)).to_have_text("2")
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
    with page.context.expect_page() as opened:
        page.get_by_test_id("passage-open").click()
    raw = opened.value
    raw.wait_for_load_state()
    expect(raw.locator("body")).to_contain_text("Keep the receipt for anything over 20 euros.")
    raw.close()
    page.keyboard.press("Escape")

    page.reload()
    expect(page.get_by_test_id("message-assistant").last.get_by_test_id("sources")).to_contain_text(
        "handbook.md"
    )

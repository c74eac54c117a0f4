"""An upload's ingestion followed live in a real Chromium: the team-documents panel and the
composer's attach note show a queued or running document's progress, then how it ended; a
failure the ingestion job met stays on the document's row."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.api.test_upload_jobs import sections
from tests.web.test_browser import sign_up

# Ingesting hundreds of chunks on a busy machine.
_PATIENCE_MS = 180_000
_RUNNING = re.compile(r"indexing \d+% \(\d+/600 chunks\)")


def test_the_panel_shows_progress_then_the_outcome(
    page: Page, live_server: str, tmp_path: Path
) -> None:
    big = tmp_path / "big.md"
    big.write_bytes(sections(600))
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 64)
    sign_up(page, live_server)
    page.get_by_test_id("open-docs").click()
    page.get_by_test_id("upload-files").set_input_files([big, broken])
    page.get_by_test_id("upload-submit").click()

    note = page.get_by_test_id("upload-note")
    row = page.get_by_test_id("document-row").filter(has_text="big.md")
    expect(note).to_contain_text(_RUNNING, timeout=_PATIENCE_MS)
    expect(row.locator("td").nth(2)).to_have_text(_RUNNING)
    expect(row.get_by_test_id("doc-cancel")).to_be_visible()

    expect(note).to_contain_text("✓ big.md: indexed", timeout=_PATIENCE_MS)
    expect(note).to_contain_text(re.compile(r"✗ broken\.pdf: .*cannot read the PDF"))
    expect(row.locator("td").nth(2)).to_have_text("ready")
    expect(row.locator("td").nth(3)).to_have_text("600")
    failed = page.get_by_test_id("document-row").filter(has_text="broken.pdf")
    expect(failed.locator("td").nth(2)).to_have_text(re.compile(r"^failed: .*cannot read the PDF"))


def test_the_attach_note_shows_progress_then_the_outcome(
    page: Page, live_server: str, tmp_path: Path
) -> None:
    big = tmp_path / "runbook.md"
    big.write_bytes(sections(600, "runbook"))
    sign_up(page, live_server)
    page.get_by_test_id("attach-files").set_input_files(big)
    note = page.get_by_test_id("attach-note")
    expect(note).to_contain_text(
        re.compile(r"runbook\.md: " + _RUNNING.pattern), timeout=_PATIENCE_MS
    )
    expect(note).to_have_text(
        "✓ runbook.md is in your documents: ask about it.", timeout=_PATIENCE_MS
    )

"""Repositories in the browser: an admin adds a real git repository with the panel and watches it
sync, asks about its code, and follows the answer's code citation to the cited lines; another
user sees the repository but none of the admin's controls."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from allin.app import create_app
from tests.conftest import make_settings, new_database
from tests.support.gitrepo import GitRepo
from tests.support.servers import serve_ready
from tests.web.conftest import csp_refusals
from tests.web.test_browser import ask, sign_up

SHOTS = Path("/test-results")

INVOICES = '''"""Invoices for the shop: lines, taxes, totals and their numbers."""

from dataclasses import dataclass
from decimal import Decimal

VAT_RATE = Decimal("0.21")


@dataclass
class Line:
    """One line of an invoice: what was sold, how many and at what unit price."""

    description: str
    price: Decimal
    quantity: int = 1


def parse_lines(rows):
    """Lines from the rows of the orders table, skipping the cancelled ones."""
    lines = []
    for row in rows:
        if row.get("cancelled"):
            continue
        lines.append(Line(row["description"], Decimal(row["price"]), int(row["quantity"])))
    return lines


def describe_line(line):
    """A line as the customer reads it on the printed invoice."""
    return f"{line.quantity} x {line.description} at {line.price} EUR"


def compute_invoice_total(lines, discount=Decimal("0")):
    """The invoice's total: the lines' prices with VAT, less the discount."""
    subtotal = sum(line.price * line.quantity for line in lines)
    with_vat = subtotal * (1 + VAT_RATE)
    total = with_vat - discount
    if total < 0:
        raise ValueError("the discount is larger than the invoice")
    return total.quantize(Decimal("0.01"))


def format_invoice_number(year, sequence):
    """Invoice numbers look like INV-2024-00042: the year, then a sequence padded to five."""
    if sequence <= 0:
        raise ValueError("invoice sequences start at 1")
    return f"INV-{year}-{sequence:05d}"


def is_overdue(issued_on, today, days=30):
    """An invoice is overdue once its payment term has passed."""
    return (today - issued_on).days > days
'''

README = """# Shop

The shop's backend. Run the tests with `pytest`.
"""


@pytest.fixture(scope="module")
def repo_server(postgres: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app with a job worker (repositories sync in jobs) on a database of its own, so
    that the first account signed up on it is an admin."""
    settings = make_settings(
        database_url=new_database(postgres),
        data_dir=tmp_path_factory.mktemp("data"),
        jobs_worker=True,
        memory=False,
        # Small chunks: a function is a chunk of its own, and its citation a few lines of the file.
        rag_chunk_tokens=96,
        rag_chunk_overlap=8,
        repo_code_chunk_tokens=96,
        # ...and pieces smaller still, so the view also marks the lines nearest the question.
        repo_piece_tokens=32,
    )
    with serve_ready(create_app(settings)) as url:
        yield url


def shop(path: Path) -> GitRepo:
    repo = GitRepo(path)
    repo.write("README.md", README)
    repo.write("shop/invoices.py", INVOICES)
    repo.write("shop/__init__.py", '"""The shop\'s backend."""\n')
    repo.write("static/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    repo.commit("The shop")
    return repo


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"repoui-{name}.png"))


def open_function_code(page: Page, start: int) -> None:
    """Open the code view of the last answer's citation of `compute_invoice_total`."""
    sources = page.get_by_test_id("message-assistant").last.get_by_test_id("sources")
    sources.locator('[title*="def compute_invoice_total("]').first.click()
    expect(page.get_by_test_id("code-view")).to_have_attribute("data-state", "ready")
    hit = page.get_by_test_id("code-hit").first
    expect(hit).to_have_attribute("data-line", str(start))
    expect(hit).to_be_in_viewport()


def test_add_sync_ask_and_open_the_cited_code(
    browser: Browser, repo_server: str, tmp_path: Path
) -> None:
    repo = shop(tmp_path / "shop")
    head = repo.head()
    admin_context = browser.new_context(viewport={"width": 1366, "height": 850})
    page = admin_context.new_page()
    refusals = csp_refusals(page)  # the panel and the code view run under the app's CSP
    try:
        sign_up(page, repo_server)  # the first account: an admin

        page.get_by_test_id("open-repos").click()
        dialog = page.get_by_test_id("repos-dialog")
        expect(dialog).to_be_visible()
        expect(page.get_by_test_id("repos-empty")).to_be_visible()
        page.get_by_test_id("repo-location").fill(str(repo.path))
        page.get_by_test_id("repo-name-input").fill("shop")
        page.get_by_test_id("repo-submit").click()
        expect(page.get_by_test_id("repo-note")).to_contain_text("Added shop")

        card = page.get_by_test_id("repo-card").filter(has_text="shop")
        expect(card).to_have_count(1)
        # The first sync loads the embedding model: long enough to see its progress, usually.
        try:
            expect(card.get_by_test_id("repo-progress-label")).to_contain_text(
                "Indexing", timeout=15_000
            )
            shoot(page, "panel-syncing-desktop-light")
        except AssertionError:
            pass
        expect(card.get_by_test_id("repo-status")).to_have_text("ready", timeout=60_000)
        expect(card.get_by_test_id("repo-progress")).to_be_hidden()
        expect(card.get_by_test_id("repo-branch")).to_have_text("main")
        expect(card.get_by_test_id("repo-commit")).to_have_text(head[:12])
        expect(card.get_by_test_id("repo-files")).to_have_text("3")
        expect(card.get_by_test_id("repo-chunks")).not_to_have_text("0")
        expect(card.get_by_test_id("repo-synced")).to_have_text("just now")
        expect(card.get_by_test_id("repo-report")).to_contain_text(
            "full: 3 indexed, 0 moved, 0 removed"
        )
        expect(card.get_by_test_id("repo-report")).to_contain_text("skipped: 1 unsupported")
        expect(card.get_by_test_id("repo-error")).to_be_hidden()
        expect(card.get_by_test_id("repo-sync")).to_be_visible()
        expect(card.get_by_test_id("repo-remove")).to_be_visible()
        shoot(page, "panel-desktop-light")

        # A location the server refuses: said in the panel, nothing added.
        page.get_by_test_id("repo-location").fill("http://example.com/team/shop.git")
        page.get_by_test_id("repo-submit").click()
        expect(page.get_by_test_id("repo-note")).to_contain_text("plain http is not allowed")
        expect(page.get_by_test_id("repo-card")).to_have_count(1)

        # A branch that does not exist: added, its sync fails and says why.
        page.get_by_test_id("repo-location").fill(str(repo.path))
        page.get_by_test_id("repo-name-input").fill("legacy")
        page.get_by_test_id("repo-branch-input").fill("release-1")
        page.get_by_test_id("repo-submit").click()
        broken = page.get_by_test_id("repo-card").filter(has_text="legacy")
        expect(broken.get_by_test_id("repo-status")).to_have_text("failed", timeout=60_000)
        expect(broken.get_by_test_id("repo-error")).to_contain_text("Sync failed:")
        expect(broken.get_by_test_id("repo-commit")).to_have_text("—")
        expect(broken.get_by_test_id("repo-synced")).to_have_text("never")
        shoot(page, "panel-failed-desktop-light")

        # Removing asks first, in the page; keeping it changes nothing, confirming removes it.
        broken.get_by_test_id("repo-remove").click()
        expect(broken.get_by_test_id("repo-confirm")).to_be_visible()
        expect(broken.get_by_test_id("repo-confirm-text")).to_contain_text("Remove “legacy”")
        broken.get_by_test_id("repo-confirm-keep").click()
        expect(broken.get_by_test_id("repo-confirm")).to_be_hidden()
        broken.get_by_test_id("repo-remove").click()
        broken.get_by_test_id("repo-confirm-remove").click()
        expect(page.get_by_test_id("repo-note")).to_contain_text("Removed legacy")
        expect(page.get_by_test_id("repo-card")).to_have_count(1)
        expect(card.get_by_test_id("repo-status")).to_have_text("ready")

        # A sync with nothing new: the report says so.
        card.get_by_test_id("repo-sync").click()
        expect(card.get_by_test_id("repo-report")).to_contain_text("unchanged", timeout=60_000)
        expect(card.get_by_test_id("repo-status")).to_have_text("ready")
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()

        ask(page, "How does compute_invoice_total compute the invoice total?")
        answer = page.get_by_test_id("message-assistant").last
        sources = answer.get_by_test_id("sources")
        expect(sources).to_contain_text("shop › shop/invoices.py:L")
        # The citation of the function's own chunk (its snippet is the link's title).
        citation = sources.locator(
            '[data-testid="citation"][title*="def compute_invoice_total("]'
        ).first
        label = citation.inner_text()
        match = re.search(r":L(\d+)–L(\d+) @ ([0-9a-f]{7})", label)
        assert match, label
        start, end = int(match[1]), int(match[2])
        assert match[3] == head[:7]
        # How fresh the cited file is, and who changed it last.
        freshness = citation.locator("xpath=..").get_by_test_id("freshness")
        expect(freshness).to_have_text(re.compile(r"updated (just now|.* ago) by Ada Lovelace"))
        shoot(page, "answer-desktop-light")

        citation.click()
        code = page.get_by_test_id("code-dialog")
        expect(code).to_be_visible()
        expect(page.get_by_test_id("code-title")).to_have_text(
            f"shop › shop/invoices.py @ {head[:7]}"
        )
        expect(page.get_by_test_id("code-view")).to_have_attribute("data-state", "ready")
        hits = page.get_by_test_id("code-hit")
        expect(hits).to_have_count(end - start + 1)
        expect(hits.first).to_have_attribute("data-line", str(start))
        expect(hits.last).to_have_attribute("data-line", str(end))
        expect(hits.filter(has_text="def compute_invoice_total(lines")).to_have_count(1)
        expect(hits.filter(has_text="def parse_lines(")).to_have_count(0)
        expect(hits.first).to_be_in_viewport()
        # The lines of the function nearest the question are marked within it, and named.
        focus = page.locator(".code-line.hit.focus")
        expect(focus.first).to_be_visible()
        focused = [
            int(n) for n in focus.evaluate_all("(lines) => lines.map((l) => l.dataset.line)")
        ]
        assert start <= focused[0] <= focused[-1] <= end and len(focused) < end - start + 1
        nearest = f"lines {focused[0]}–{focused[-1]}" if len(focused) > 1 else f"line {focused[0]}"
        expect(page.locator("#code-lines")).to_have_text(
            f"Lines {start}–{end}; closest to the question: {nearest}"
        )
        # Coloured by highlight.js, and every line of the file is there.
        expect(page.locator(".code-line .hljs-keyword").first).to_be_visible()
        lines = page.locator(".code-line")
        expect(lines).to_have_count(INVOICES.rstrip("\n").count("\n") + 1)
        expect(page.get_by_test_id("code-web")).to_be_hidden()  # a local path has no web page
        shoot(page, "code-desktop-light")
        page.keyboard.press("Escape")
        expect(code).to_be_hidden()

        # A repository on GitHub: the view links to the same lines there (the server's answer
        # is given a web_url, as it is for an https://github.com remote).
        web = f"https://github.com/team/shop/blob/{head}/shop/invoices.py"

        def on_github(route: Route) -> None:
            body = route.fetch().json()
            route.fulfill(json={**body, "web_url": web})

        page.route("**/api/v1/repositories/*/file?*", on_github)
        citation.click()
        link = page.get_by_test_id("code-web")
        expect(link).to_have_text("View on GitHub")
        expect(link).to_have_attribute("href", f"{web}#L{start}-L{end}")
        expect(link).to_have_attribute("target", "_blank")
        expect(link).to_have_attribute("rel", "noopener")
        page.unroute("**/api/v1/repositories/*/file?*")
        page.keyboard.press("Escape")
        expect(code).to_be_hidden()

        # The stored answer keeps its code citations after a reload.
        page.reload()
        open_function_code(page, start)
        page.keyboard.press("Escape")

        # Desktop dark, then phone size light and dark: the screenshots are looked at.
        for width, height, scheme in ((1366, 850, "dark"), (390, 844, "light"), (390, 844, "dark")):
            size = "phone" if width < 760 else "desktop"
            page.emulate_media(color_scheme=scheme)
            page.set_viewport_size({"width": width, "height": height})
            if size == "phone":
                page.locator("#toggle-sidebar").click()
            page.get_by_test_id("open-repos").click()
            if size == "phone":  # the chat list closed (not still sliding away)
                expect(page.locator(".sidebar")).not_to_be_in_viewport()
            expect(card.get_by_test_id("repo-status")).to_have_text("ready")
            expect(card.get_by_test_id("repo-sync")).to_be_in_viewport()
            shoot(page, f"panel-{size}-{scheme}")
            page.keyboard.press("Escape")
            open_function_code(page, start)
            shoot(page, f"code-{size}-{scheme}")
            page.keyboard.press("Escape")
        assert refusals == []
    finally:
        admin_context.close()

    # Another user: sees the repository and its state, but no controls.
    member_context = browser.new_context(viewport={"width": 1366, "height": 850})
    member = member_context.new_page()
    member_refusals = csp_refusals(member)
    try:
        sign_up(member, repo_server)
        member.get_by_test_id("open-repos").click()
        member_card = member.get_by_test_id("repo-card").filter(has_text="shop")
        expect(member_card.get_by_test_id("repo-status")).to_have_text("ready")
        expect(member_card.get_by_test_id("repo-commit")).to_have_text(head[:12])
        expect(member.get_by_test_id("repo-form")).to_be_hidden()
        expect(member_card.get_by_test_id("repo-sync")).to_be_hidden()
        expect(member_card.get_by_test_id("repo-remove")).to_be_hidden()
        expect(member_card.get_by_test_id("repo-cancel")).to_be_hidden()
        shoot(member, "panel-member-desktop-light")
        assert member_refusals == []
    finally:
        member_context.close()

"""Personal access tokens in the browser (issue #18, part 3): create one (shown once, copied with
its button), see the MCP configuration for Claude Code, Cursor and VS Code filled in with this
server's URL and the token, as the README gives them; list and revoke. On a desktop in the light
scheme and on a phone in the dark one."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import csp_refusals
from tests.web.test_browser import sign_up

SHOTS = Path(os.environ.get("ALLIN_SCREENSHOTS", "/tmp/allin-screenshots"))


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"tokens-{name}.png"))


def me_with(base_url: str, token: str) -> int:
    """The status of `GET /api/v1/auth/me` with `token` (a personal access token reads)."""
    return httpx.get(
        f"{base_url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}
    ).status_code


def create_token(page: Page, name: str, *, ask: bool = False) -> str:
    page.get_by_test_id("token-name").fill(name)
    if ask:
        page.get_by_test_id("token-scope-ask").check()
    page.get_by_test_id("token-submit").click()
    value = page.get_by_test_id("token-value")
    expect(value).to_have_text(re.compile(r"^allin_pat_\S+$"))
    return value.inner_text()


def test_create_configure_copy_and_revoke_a_token(browser: Browser, live_server: str) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 850}, color_scheme="light")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page = context.new_page()
    refusals = csp_refusals(page)
    try:
        sign_up(page, live_server)
        page.get_by_test_id("open-tokens").click()
        dialog = page.get_by_test_id("tokens-dialog")
        expect(dialog).to_be_visible()
        expect(page.get_by_test_id("tokens-empty")).to_be_visible()
        # Before any token: the configuration shows where the token goes.
        expect(page.get_by_test_id("mcp-snippet")).to_contain_text("allin_pat_…")

        token = create_token(page, "laptop: Claude Code", ask=True)
        assert me_with(live_server, token) == 200
        page.get_by_test_id("token-copy").click()
        assert page.evaluate("() => navigator.clipboard.readText()") == token

        # The three editors' configurations, filled in (as in the README).
        snippet = page.get_by_test_id("mcp-snippet")
        url = f"{live_server}/mcp"
        expect(snippet).to_have_text(
            f"claude mcp add --transport http allin {url} \\\n"
            f'  --header "Authorization: Bearer {token}"'
        )
        shoot(page, "desktop-light")
        page.get_by_test_id("mcp-tab-cursor").click()
        expect(page.get_by_test_id("mcp-where")).to_contain_text(".cursor/mcp.json")
        assert json.loads(snippet.inner_text()) == {
            "mcpServers": {"allin": {"url": url, "headers": {"Authorization": f"Bearer {token}"}}}
        }
        page.get_by_test_id("mcp-copy").click()
        assert json.loads(page.evaluate("() => navigator.clipboard.readText()"))["mcpServers"]
        # Arrow keys move between the editors, as in any tab list.
        page.get_by_test_id("mcp-tab-cursor").press("ArrowRight")
        expect(page.get_by_test_id("mcp-tab-vscode")).to_have_attribute("aria-selected", "true")
        vscode = json.loads(snippet.inner_text())
        assert vscode["servers"] == {
            "allin": {
                "type": "http",
                "url": url,
                "headers": {"Authorization": "Bearer ${input:allin-token}"},
            }
        }
        assert vscode["inputs"][0]["id"] == "allin-token" and vscode["inputs"][0]["password"]
        assert token not in snippet.inner_text()  # VS Code keeps it, not the file

        # The list: the token by name, never its value; read and ask.
        item = page.get_by_test_id("token-item").filter(has_text="laptop: Claude Code")
        expect(item.get_by_test_id("token-status")).to_have_text("active")
        expect(item).to_contain_text("ask, read")
        assert token not in page.get_by_test_id("token-list").inner_text()

        # Shown once: closed and opened again, the value is gone and the configuration waits.
        page.get_by_test_id("tokens-close").click()
        page.get_by_test_id("open-tokens").click()
        expect(page.get_by_test_id("token-created")).to_be_hidden()
        expect(page.get_by_test_id("token-value")).to_have_text("")
        expect(snippet).not_to_contain_text(token)

        # Revoking asks first; cancelled, nothing changes; confirmed, the token stops at once.
        item.get_by_test_id("token-revoke").click()
        page.get_by_test_id("ask-cancel").click()
        expect(item.get_by_test_id("token-status")).to_have_text("active")
        item.get_by_test_id("token-revoke").click()
        expect(page.get_by_test_id("ask-dialog")).to_contain_text("Revoke “laptop: Claude Code”?")
        page.get_by_test_id("ask-confirm").click()
        expect(item.get_by_test_id("token-status")).to_have_text("revoked")
        expect(item.get_by_test_id("token-revoke")).to_have_count(0)
        assert me_with(live_server, token) == 401

        # A nameless token is refused in the page, with a reason.
        page.get_by_test_id("token-submit").click()
        expect(page.get_by_test_id("token-error")).to_contain_text("Name the token")
        assert refusals == []
    finally:
        context.close()


def test_on_a_phone_in_the_dark(browser: Browser, live_server: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    page = context.new_page()
    refusals = csp_refusals(page)
    try:
        sign_up(page, live_server)
        page.locator("#toggle-sidebar").click()
        page.get_by_test_id("open-tokens").click()
        expect(page.locator(".sidebar")).not_to_be_in_viewport()
        dialog = page.get_by_test_id("tokens-dialog")
        token = create_token(page, "phone: Cursor")
        page.get_by_test_id("mcp-tab-cursor").click()
        expect(page.get_by_test_id("mcp-snippet")).to_contain_text(token)
        item = page.get_by_test_id("token-item").filter(has_text="phone: Cursor")
        expect(item.get_by_test_id("token-revoke")).to_be_visible()

        # Everything fits the width: nothing but the code block scrolls sideways.
        box = dialog.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert dialog.evaluate("d => d.scrollWidth <= d.clientWidth")
        for testid in ("token-submit", "token-copy", "mcp-copy", "mcp-tab-vscode"):
            target = page.get_by_test_id(testid).bounding_box()
            assert target is not None and target["x"] + target["width"] <= 390, testid
        # The dark scheme: light text on a dark panel.
        background = dialog.evaluate("d => getComputedStyle(d).backgroundColor")
        assert background == "rgb(26, 26, 36)", background
        shoot(page, "phone-dark")
        item.scroll_into_view_if_needed()
        shoot(page, "phone-dark-list")
        assert refusals == []
    finally:
        context.close()

"""/docs and /redoc work with no network: Swagger UI and ReDoc come from the app, not a CDN. The
schema they show describes the real error body and statuses, and links the WebSocket protocol."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, Route, expect


def only_the_app(page: Page, base_url: str) -> list[str]:
    """Refuse every request that leaves the app, as a network without internet would; returns
    the refused scripts, styles and fonts (ReDoc's "powered by" badge is an image from its own
    site, harmless when missing)."""
    refused: list[str] = []

    def handle(route: Route) -> None:
        if route.request.url.startswith(base_url):
            route.continue_()
            return
        if route.request.resource_type != "image":
            refused.append(route.request.url)
        route.abort()

    page.route("**/*", handle)
    return refused


def test_swagger_ui_renders_offline_and_links_the_protocol(page: Page, live_server: str) -> None:
    refused = only_the_app(page, live_server)
    page.goto(f"{live_server}/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=30_000)
    expect(
        page.locator(".opblock-summary-path", has_text="/api/v1/documents").first
    ).to_be_visible()
    with page.context.expect_page() as opened:  # Swagger UI opens description links in a tab
        page.get_by_role("link", name="the chat protocol").click()
    protocol = opened.value
    expect(protocol.get_by_role("heading", name="The chat WebSocket protocol")).to_be_visible()
    expect(protocol.locator("body")).to_contain_text("4401")
    assert refused == []


def test_redoc_renders_offline(page: Page, live_server: str) -> None:
    refused = only_the_app(page, live_server)
    page.goto(f"{live_server}/redoc")
    expect(page.get_by_role("heading", name="Upload documents")).to_be_visible(timeout=30_000)
    assert refused == []


def test_schema_describes_error_bodies_and_statuses(live_server: str) -> None:
    schema = httpx.get(f"{live_server}/openapi.json").json()
    assert set(schema["components"]["schemas"]["ErrorBody"]["required"]) == {"error", "detail"}
    paths = schema["paths"]
    delete = paths["/api/v1/documents/{document_id}"]["delete"]["responses"]
    assert {"401", "403", "404", "422", "503"} <= set(delete)
    error = delete["403"]["content"]["application/json"]["schema"]["$ref"]
    assert error.endswith("/ErrorBody")
    assert "413" in paths["/api/v1/documents"]["post"]["responses"]
    assert "409" in paths["/api/v1/auth/signup"]["post"]["responses"]
    assert "403" in paths["/api/v1/chat/chats/{user_id}"]["get"]["responses"]
    assert "/protocol" in schema["info"]["description"]

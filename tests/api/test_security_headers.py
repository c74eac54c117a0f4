"""Browser security headers on every HTTP response: a strict Content-Security-Policy for the UI
and the API, a looser one only for the generated API docs (their page has an inline script), and
no framing, sniffing or referrer anywhere. tests/web/ checks the UI runs under the policy."""

from __future__ import annotations

import httpx

from allin.app import create_app
from allin.config import AuthMode, Settings
from tests.conftest import make_settings
from tests.support.accounts import Account
from tests.support.servers import serve_ready

ALWAYS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def directives(policy: str) -> dict[str, list[str]]:
    parts = (directive.split() for directive in policy.split(";") if directive.strip())
    return {name: sources for name, *sources in parts}


async def test_the_ui_and_the_api_get_the_strict_policy(live_server: str, account: Account) -> None:
    async with httpx.AsyncClient(base_url=live_server, headers=account.headers) as http:
        for path in ["/", "/static/app.js", "/api/v1/documents", "/api/v1/nowhere", "/healthz"]:
            response = await http.get(path)
            for name, value in ALWAYS.items():
                assert response.headers.get(name) == value, (path, name)
            policy = directives(response.headers["content-security-policy"])
            assert policy["default-src"] == ["'self'"], path
            assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
            assert policy["frame-ancestors"] == ["'none'"]
            # The spoken answers play from blob: URLs; the socket is same-origin.
            assert "blob:" in policy["media-src"] and policy["connect-src"] == ["'self'"]


async def test_only_the_docs_may_run_their_inline_script(live_server: str) -> None:
    async with httpx.AsyncClient(base_url=live_server) as http:
        for path in ["/docs", "/redoc", "/docs/oauth2-redirect"]:
            response = await http.get(path)
            assert response.status_code == 200, path
            for name, value in ALWAYS.items():
                assert response.headers.get(name) == value, (path, name)
            policy = directives(response.headers["content-security-policy"])
            assert "'unsafe-inline'" in policy["script-src"], path
            assert policy["frame-ancestors"] == ["'none'"]
        strict = directives((await http.get("/docs/other")).headers["content-security-policy"])
    assert "'unsafe-inline'" not in strict["script-src"]


async def test_behind_a_path_prefix_the_docs_are_still_told_apart(settings: Settings) -> None:
    with serve_ready(create_app(settings), root_path="/allin") as url:
        async with httpx.AsyncClient(base_url=url) as http:
            docs = (await http.get("/docs")).headers["content-security-policy"]
            ui = (await http.get("/")).headers["content-security-policy"]
    assert "'unsafe-inline'" in directives(docs)["script-src"]
    assert "'unsafe-inline'" not in directives(ui)["script-src"]


async def test_supabase_auth_is_reachable_from_the_ui(database_url: str, tmp_path: object) -> None:
    settings = make_settings(
        database_url=database_url,
        data_dir=str(tmp_path),
        auth_mode=AuthMode.SUPABASE,
        supabase_url="https://project.supabase.co/",
        supabase_jwt_secret="s" * 40,
    )
    with serve_ready(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            response = await http.get("/")
    policy = directives(response.headers["content-security-policy"])
    assert policy["connect-src"] == ["'self'", "https://project.supabase.co"]

"""Onboarding over REST and the CLI: a member reads and ticks their own progress and switches
pitching off per chat; admins read the team overview, members cannot; bad input is a clear
4xx, never a 500."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from websockets.asyncio.client import connect

from allin.app import create_app
from allin.config import Settings
from tests.api.test_repositories import cli_env, until_synced
from tests.conftest import make_settings, new_database, ws_url
from tests.onboarding.test_service import SMALL
from tests.support.accounts import sign_up
from tests.support.gitrepo import GitRepo
from tests.support.servers import serve_ready
from tests.support.wsclient import ask


@pytest.fixture(scope="module")
def settings(postgres: Any, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(
        database_url=new_database(postgres),
        data_dir=tmp_path_factory.mktemp("data"),
        memory=False,
        jobs_worker=True,
    )


@pytest.fixture(scope="module")
def server(settings: Settings) -> Iterator[str]:
    with serve_ready(create_app(settings)) as url:
        yield url


async def status_cli(settings: Settings, email: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "allin", "onboarding", "status", "--user", email],
        env={**cli_env(settings), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_progress_ticks_pitch_switch_overview_and_the_cli(
    server: str, settings: Settings, tmp_path: Path
) -> None:
    admin, member, other = await sign_up(server), await sign_up(server), await sign_up(server)
    repo = GitRepo(tmp_path / "shop")
    repo.write("README.md", "# Shop\n\nRun the tests with `pytest`.\n")
    repo.write("docs/onboarding/team.md", SMALL)
    repo.commit("The shop and its path")
    base = f"/api/v1/onboarding/{member.user_id}"
    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        added = await http.post(
            "/api/v1/repositories", json={"location": str(repo.path)}, headers=admin.headers
        )
        await until_synced(http, admin, added.json()["repository"]["id"])

        mine = (await http.get(base, headers=member.headers)).json()
        (path,) = mine["paths"]
        assert (path["title"], path["stage_number"], path["stage_count"]) == ("Team path", 1, 2)
        assert mine["next"]["step"]["title"] == "Read the README"
        assert mine["next"]["step"]["owner"] == "Ada"
        step_url = f"{base}/paths/{path['path_id']}/steps"

        ticked = await http.post(f"{step_url}/read-the-readme/done", headers=member.headers)
        assert ticked.status_code == 200, ticked.text
        assert ticked.json()["next"]["step"]["slug"] == "tests"
        assert ticked.json()["done"] == 1 and ticked.json()["percent"] == 25

        # Someone else's progress is theirs alone, an admin's eyes included.
        for intruder in (other, admin):
            refused = await http.get(base, headers=intruder.headers)
            assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
        # Unknown steps and paths are 404; malformed ones 422; nothing is a 500.
        unknown = await http.post(f"{step_url}/no-such-step/done", headers=member.headers)
        assert unknown.status_code == 404 and "no step 'no-such-step'" in unknown.json()["detail"]
        missing = await http.post(
            f"{base}/paths/00000000-0000-4000-8000-000000000000/steps/tests/done",
            headers=member.headers,
        )
        assert missing.status_code == 404
        malformed = await http.post(f"{base}/paths/x/steps/Bad Slug!/done", headers=member.headers)
        assert malformed.status_code == 422

        # Answers in a chat are pitched at the user until they switch it off there.
        async with connect(ws_url(server, member, "c1")) as socket:
            frames = await ask(socket, "m1", "What should I do first?")
        question_id = frames[0]["turn"]["id"]
        pitch = (await http.get(f"{base}/chats/c1", headers=member.headers)).json()
        assert pitch["pitched"] is True
        assert pitch["answers"][str(question_id)]["shown"] == "Answered for: stage 1 of 2"
        assert "next step: “Run the tests”" in frames[-1]["turn"]["content"]
        switched = await http.put(
            f"{base}/chats/c1/pitch", json={"pitched": False}, headers=member.headers
        )
        assert switched.json()["pitched"] is False
        async with connect(ws_url(server, member, "c1")) as socket:
            frames = await ask(socket, "m2", "What should I do first?")
        assert "next step" not in frames[-1]["turn"]["content"]
        bad = await http.put(
            f"{base}/chats/c1/pitch", json={"pitched": "sometimes"}, headers=member.headers
        )
        assert bad.status_code == 422

        refused = await http.get("/api/v1/onboarding/overview", headers=member.headers)
        assert refused.status_code == 403
        overview = (await http.get("/api/v1/onboarding/overview", headers=admin.headers)).json()
        (team,) = overview["paths"]
        (row,) = [m for m in team["members"] if m["user_id"] == member.user_id]
        assert (row["email"], row["stage_number"], row["stage"], row["done"]) == (
            member.email,
            1,
            "First week",
            1,
        )
        assert row["next_step"] == "Run the tests"
        # Progress only: nothing anyone asked is in the overview.
        assert "What should I do first" not in str(overview)

    shown = await status_cli(settings, member.email)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "Team path (shop › docs/onboarding/team.md): 1 of 4 steps, 25%; stage 1 of 2" in out
    assert "[✓] Read the README (owner: Ada)" in out
    assert "Next: Run the tests" in out
    nobody = await status_cli(settings, "nobody@example.com")
    assert nobody.returncode == 1 and "no user with the email" in nobody.stdout


async def test_an_editors_agent_gets_the_next_step_over_mcp(
    server: str, settings: Settings, tmp_path: Path
) -> None:
    from tests.mcp.conftest import personal_token
    from tests.support.mcp_client import mcp_client, structured

    admin, member = await sign_up(server), await sign_up(server)
    # The first account of the database is its admin; this test may not be the first to sign up.
    async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
        await conn.execute("update users set is_admin = true where id = %s", (admin.user_id,))
    repo = GitRepo(tmp_path / "desk")
    repo.write("README.md", "# Desk\n\nRun the tests with `pytest`.\n")
    repo.write("docs/onboarding/team.md", SMALL)
    repo.commit("The desk and its path")
    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        added = await http.post(
            "/api/v1/repositories", json={"location": str(repo.path)}, headers=admin.headers
        )
        await until_synced(http, admin, added.json()["repository"]["id"])
    token = (await personal_token(server, member))["token"]
    async with mcp_client(server, token) as client:
        found = structured(await client.call_tool("onboarding_next", {}))
    assert found["path"] == "Team path" and found["percent"] == 0
    assert found["next_step"]["step"]["title"] == "Read the README"
    assert found["note"] == "Next: Read the README (owner: Ada), stage 1 of 2 of Team path."

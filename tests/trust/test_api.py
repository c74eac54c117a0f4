"""The trust layer end to end in the real app: a repository synced by its job worker, its stale
warnings and experts over REST, honest "not found" answers over the WebSocket, thumbs down, and
the knowledge-gap report over REST (admins only) and from `allin gaps --json`."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from allin.app import create_app
from allin.config import Settings
from tests.api.test_repositories import cli_env, until_synced
from tests.conftest import make_settings, new_database, project_root, ws_url
from tests.support.accounts import Account, sign_up
from tests.support.servers import serve_ready
from tests.support.wsclient import ask
from tests.trust.shop import SESSIONS_DOC, shop

COOKIE = (
    "Which setting names the session cookie?",
    "What is the name of the session cookie set from?",
)
KUBERNETES = (
    "How do I configure Kubernetes autoscaling for our app?",
    "How does horizontal pod autoscaling work in our Kubernetes cluster?",
)


@pytest.fixture(scope="module")
def settings(postgres: Any, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(
        database_url=new_database(postgres),
        data_dir=tmp_path_factory.mktemp("data"),
        memory=False,
        jobs_worker=True,
        trust_abstain_below=0.35,
    )


@pytest.fixture(scope="module")
def server(settings: Settings) -> Iterator[str]:
    with serve_ready(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
async def team(server: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Account, Account]:
    """The first account (an admin) adds the shop repository; a member joins."""
    admin, member = await sign_up(server), await sign_up(server)
    repo, _ = shop(tmp_path_factory.mktemp("repo") / "shop")
    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        added = await http.post(
            "/api/v1/repositories", json={"location": str(repo.path)}, headers=admin.headers
        )
        assert added.status_code == 202, added.text
        synced = await until_synced(http, admin, added.json()["repository"]["id"])
        assert synced["status"] == "ready", synced
    return admin, member


async def test_stale_warnings_and_experts_over_rest(
    server: str, team: tuple[Account, Account]
) -> None:
    _, member = team
    async with httpx.AsyncClient(base_url=server, timeout=60, headers=member.headers) as http:
        (repository,) = (await http.get("/api/v1/repositories")).json()["repositories"]
        stale = await http.get(f"/api/v1/repositories/{repository['id']}/stale")
        assert stale.status_code == 200, stale.text
        (warning,) = stale.json()["warnings"]
        assert (warning["doc_path"], warning["code_path"]) == (
            "docs/sessions.md",
            "src/shop/sessions.py",
        )
        assert warning["summary"].startswith(
            "may be out of date: src/shop/sessions.py changed in 3 commits"
        )
        missing = await http.get("/api/v1/repositories/0000-0000/stale")
        assert missing.status_code == 404 and missing.json()["error"] == "not_found"

        found = await http.get("/api/v1/experts", params={"topic": "signing the session cookie"})
        assert found.status_code == 200, found.text
        names = [e["name"] for e in found.json()["experts"]]
        assert names[:2] == ["Grace Hopper", "Ada Lovelace"]
        grace = found.json()["experts"][0]
        assert grace["email"] == "grace@example.com" and grace["basis"] == "commits"
        assert grace["files"][0] == {
            "repository": "shop",
            "path": "src/shop/sessions.py",
            "commits": 2,
            "last_at": "2024-04-01T12:00:00Z",
        }

        blank = await http.get("/api/v1/experts", params={"topic": "   "})
        assert blank.status_code == 400 and "topic is empty" in blank.json()["detail"]
        assert (await http.get("/api/v1/experts")).status_code == 422
        long = await http.get("/api/v1/experts", params={"topic": "x" * 501})
        assert long.status_code == 422
    async with httpx.AsyncClient(base_url=server) as anonymous:
        refused = await anonymous.get("/api/v1/experts", params={"topic": "cookies"})
        assert refused.status_code == 401


async def test_unanswered_and_thumbs_down_questions_are_grouped_for_admins(
    server: str, settings: Settings, team: tuple[Account, Account]
) -> None:
    admin, member = team
    async with connect(ws_url(server, member, "gaps")) as socket:
        for n, question in enumerate(KUBERNETES):
            frames = await ask(socket, f"k{n}", question)
            assert frames[-1]["turn"]["content"].startswith(
                "**I couldn't find this in the team's knowledge.**"
            )
        answers = [
            (await ask(socket, f"s{n}", question))[-1]["turn"] for n, question in enumerate(COOKIE)
        ]
    async with httpx.AsyncClient(base_url=server, timeout=120) as http:
        for answer in answers:
            rated = await http.put(
                f"/api/v1/chat/feedback/{member.user_id}/gaps/{answer['id']}",
                json={"rating": "down", "comment": "Which file sets the default?"},
                headers=member.headers,
            )
            assert rated.status_code == 200, rated.text

        refused = await http.get("/api/v1/gaps", headers=member.headers)
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
        bad = await http.get("/api/v1/gaps", params={"since": "lately"}, headers=admin.headers)
        assert bad.status_code == 400 and "30d" in bad.json()["detail"]

        report = await http.get("/api/v1/gaps", params={"since": "1d"}, headers=admin.headers)
        assert report.status_code == 200, report.text
    body = report.json()
    assert body["questions"] == 4
    (kubernetes,) = [g for g in body["groups"] if g["unanswered"]]
    assert {q["question"] for q in kubernetes["questions"]} == set(KUBERNETES)
    assert {q["asked_by"] for q in kubernetes["questions"]} == {member.user_id}
    assert kubernetes["asked"] == 2 and kubernetes["suggested_owners"]
    # The two answers rated down, grouped as one topic.
    (cookie,) = [g for g in body["groups"] if g["thumbs_down"]]
    assert cookie["asked"] == cookie["thumbs_down"] == 2
    assert {q["question"] for q in cookie["questions"]} == set(COOKIE)
    assert cookie["questions"][0]["comment"] == "Which file sets the default?"
    assert cookie["nearest"] and cookie["nearest"][0]["repository"] == "shop"

    done = await asyncio.to_thread(gaps_cli, settings, "--since", "1d", "--json")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert sorted(group["asked"] for group in printed["groups"]) == [2, 2]
    wrong = await asyncio.to_thread(gaps_cli, settings, "--since", "soon")
    assert wrong.returncode == 2 and "since must be like" in wrong.stdout


def gaps_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "allin", "gaps", *args],
        cwd=project_root(),
        env=cli_env(settings),
        capture_output=True,
        text=True,
        timeout=300,
    )


async def test_passages_show_freshness_and_warnings_and_uploads_can_describe_a_repository(
    server: str, team: tuple[Account, Account]
) -> None:
    admin, member = team
    async with connect(ws_url(server, admin, "passages")) as socket:
        frames = await ask(socket, "p1", COOKIE[0])
    page = next(c for c in frames[-1]["citations"] if c["path"] == "docs/sessions.md")
    async with httpx.AsyncClient(base_url=server, timeout=60, headers=member.headers) as http:
        shown = await http.get(f"/api/v1/passages/{page['chunk_id']}")
        assert shown.status_code == 200, shown.text
        passage = shown.json()
        # The page's own commit, and the code it names that changed after it.
        assert (passage["updated_at"], passage["updated_by"]) == (
            "2024-01-01T12:00:00Z",
            "Ada Lovelace",
        )
        (warning,) = passage["stale"]
        assert (warning["code_path"], warning["commits_since"]) == ("src/shop/sessions.py", 3)
        assert warning["newest_author"] == "pre-commit-ci[bot]"
        assert warning["summary"] == page["stale"][0]["summary"]

        (repository,) = (await http.get("/api/v1/repositories")).json()["repositories"]
        wiki = ("wiki-sessions.md", SESSIONS_DOC.encode())
        form = {"describes_repository": repository["id"]}
        uploaded = await http.post("/api/v1/documents", files=[("files", wiki)], data=form)
        assert uploaded.status_code == 200, uploaded.text
        document = uploaded.json()["files"][0]["document"]
        assert document["describes_repository"] == repository["id"]
        unknown = await http.post(
            "/api/v1/documents",
            files=[("files", wiki)],
            data={"describes_repository": "0000-0000"},
        )
        assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"

        fetched = await http.get(f"/api/v1/documents/{document['id']}")
        assert fetched.json()["describes_repository"] == repository["id"]
        path = f"/api/v1/documents/{document['id']}/describes"
        unlinked = await http.put(path, json={"repository_id": None})
        assert unlinked.status_code == 200 and unlinked.json()["describes_repository"] is None
        assert (await http.put(path, json={"repository_id": "not an id"})).status_code == 422
        relinked = await http.put(path, json={"repository_id": repository["id"]})
        assert relinked.json()["describes_repository"] == repository["id"]
        # Someone else's private document does not exist for them.
        others = await http.put(path, json={"repository_id": None}, headers=admin.headers)
        assert others.status_code == 404

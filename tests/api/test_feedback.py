"""Feedback on answers end to end: the real app on a database of its own (so that its first
account is the admin), real accounts, answers written over the chat socket."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from allin.app import create_app
from allin.config import Settings
from tests.conftest import make_settings, new_database, ws_url
from tests.support.accounts import Account, sign_up
from tests.support.servers import serve_ready
from tests.support.wsclient import ask


@pytest.fixture(scope="module")
def settings(postgres: Any, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(
        database_url=new_database(postgres), data_dir=tmp_path_factory.mktemp("data"), memory=False
    )


@pytest.fixture(scope="module")
def server(settings: Settings) -> Iterator[str]:
    with serve_ready(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
async def admin(server: str) -> Account:
    """The first account of this database: the admin."""
    return await sign_up(server)


async def answered(server: str, account: Account, chat: str, question: str) -> tuple[int, int]:
    """Ask over the socket; the question's and the answer's turn ids."""
    async with connect(ws_url(server, account, chat)) as socket:
        frames = await ask(socket, uuid.uuid4().hex, question)
    done = frames[-1]
    assert done["type"] == "done", frames
    return done["turn"]["reply_to"], done["turn"]["id"]


def feedback_url(account: Account, chat: str, turn_id: int | str) -> str:
    return f"/api/v1/chat/feedback/{account.user_id}/{chat}/{turn_id}"


async def history_feedback(http: httpx.AsyncClient, account: Account, chat: str) -> list[Any]:
    response = await http.get(
        f"/api/v1/chat/history/{account.user_id}/{chat}", headers=account.headers
    )
    assert response.status_code == 200, response.text
    return [(turn["role"], turn["feedback"]) for turn in response.json()["turns"]]


async def test_rate_change_show_and_withdraw(server: str, admin: Account) -> None:
    user = await sign_up(server)
    _, answer = await answered(server, user, "c1", "How do I run the tests?")
    async with httpx.AsyncClient(base_url=server, headers=user.headers) as http:
        up = await http.put(feedback_url(user, "c1", answer), json={"rating": "up"})
        assert up.status_code == 200, up.text
        assert up.json()["rating"] == "up" and up.json()["comment"] is None
        assert up.json()["turn_id"] == answer and up.json()["chat_id"] == "c1"
        assert await history_feedback(http, user, "c1") == [
            ("user", None),
            ("assistant", {"rating": "up", "comment": None}),
        ]

        down = await http.put(
            feedback_url(user, "c1", answer),
            json={"rating": "down", "comment": "  It missed the staging setup.  "},
        )
        assert down.status_code == 200, down.text
        assert down.json()["rating"] == "down"
        assert down.json()["comment"] == "It missed the staging setup."
        assert down.json()["created_at"] == up.json()["created_at"]
        assert down.json()["updated_at"] > up.json()["updated_at"]
        assert await history_feedback(http, user, "c1") == [
            ("user", None),
            ("assistant", {"rating": "down", "comment": "It missed the staging setup."}),
        ]

        gone = await http.delete(feedback_url(user, "c1", answer))
        assert gone.status_code == 204
        assert await history_feedback(http, user, "c1") == [("user", None), ("assistant", None)]
        # Withdrawing again is no error: there is nothing left to withdraw.
        assert (await http.delete(feedback_url(user, "c1", answer))).status_code == 204


async def test_only_ones_own_answers_are_rated(server: str, admin: Account) -> None:
    owner, other = await sign_up(server), await sign_up(server)
    question, answer = await answered(server, owner, "mine", "Where is the deploy script?")
    async with httpx.AsyncClient(base_url=server) as http:
        # Another user's answer, named under one's own id and chat: as missing as no turn at all.
        for account, chat, turn in [
            (other, "mine", answer),
            (owner, "mine", 999_999_999),
            (owner, "elsewhere", answer),
        ]:
            for method in ("PUT", "DELETE"):
                refused = await http.request(
                    method,
                    feedback_url(account, chat, turn),
                    json={"rating": "down"} if method == "PUT" else None,
                    headers=account.headers,
                )
                assert refused.status_code == 404, (chat, turn, method, refused.text)
                assert refused.json()["error"] == "not_found"
        # Someone else's user id in the path: 403, from the path's owner check.
        forbidden = await http.put(
            feedback_url(owner, "mine", answer), json={"rating": "up"}, headers=other.headers
        )
        assert forbidden.status_code == 403
        # A question is not an answer.
        on_question = await http.put(
            feedback_url(owner, "mine", question), json={"rating": "up"}, headers=owner.headers
        )
        assert on_question.status_code == 400
        assert "question" in on_question.json()["detail"]
        for body in (
            {"rating": "down", "comment": "nul \x00 here"},
            {"rating": "down", "comment": "x" * 2001},
            {"rating": "meh"},
            {},
        ):
            bad = await http.put(
                feedback_url(owner, "mine", answer), json=body, headers=owner.headers
            )
            assert bad.status_code == 422, (body, bad.text)
        assert await history_feedback(http, owner, "mine") == [("user", None), ("assistant", None)]


async def test_admins_list_everyones_feedback(server: str, admin: Account) -> None:
    first, second = await sign_up(server), await sign_up(server)
    _, liked = await answered(server, first, "a", "What is our on-call rotation?")
    _, disliked = await answered(server, second, "b", "Who owns the billing service?")
    async with httpx.AsyncClient(base_url=server) as http:
        for user, chat, turn, body in [
            (first, "a", liked, {"rating": "up"}),
            (second, "b", disliked, {"rating": "down", "comment": "No owner named."}),
        ]:
            response = await http.put(
                feedback_url(user, chat, turn), json=body, headers=user.headers
            )
            assert response.status_code == 200, response.text

        refused = await http.get("/api/v1/feedback", headers=first.headers)
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
        assert (await http.get("/api/v1/feedback")).status_code == 401

        everything = await http.get("/api/v1/feedback", headers=admin.headers)
        assert everything.status_code == 200, everything.text
        turns = [entry["turn_id"] for entry in everything.json()["feedback"]]
        assert turns.index(disliked) < turns.index(liked), "newest first"

        down = await http.get("/api/v1/feedback", params={"rating": "down"}, headers=admin.headers)
        entries = [e for e in down.json()["feedback"] if e["turn_id"] == disliked]
        assert all(e["rating"] == "down" for e in down.json()["feedback"])
        assert liked not in [e["turn_id"] for e in down.json()["feedback"]]
        [entry] = entries
        assert entry["user_id"] == second.user_id and entry["chat_id"] == "b"
        assert entry["question"] == "Who owns the billing service?"
        assert entry["answer"] and entry["comment"] == "No owner named."

        later = await http.get(
            "/api/v1/feedback", params={"since": entry["updated_at"]}, headers=admin.headers
        )
        assert disliked in [e["turn_id"] for e in later.json()["feedback"]]
        assert liked not in [e["turn_id"] for e in later.json()["feedback"]]


async def test_feedback_goes_with_its_chat(server: str, admin: Account) -> None:
    user = await sign_up(server)
    _, answer = await answered(server, user, "gone", "A question")
    async with httpx.AsyncClient(base_url=server, headers=user.headers) as http:
        assert (
            await http.put(feedback_url(user, "gone", answer), json={"rating": "down"})
        ).is_success
        assert (await http.delete(f"/api/v1/chat/chats/{user.user_id}/gone")).status_code == 204
        listed = await http.get("/api/v1/feedback", headers=admin.headers)
        assert answer not in [e["turn_id"] for e in listed.json()["feedback"]]

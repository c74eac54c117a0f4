"""Searching one's chats over the real app: what was said (either side) and titles, best first,
with an excerpt whose matched words are marked by ranges; nobody else's chats; bad searches
refused clearly."""

from __future__ import annotations

import httpx
import pytest

from tests.support.accounts import Account, sign_up
from tests.support.conversations import converse


def marked(match: dict[str, object]) -> list[str]:
    excerpt = str(match["excerpt"])
    return [excerpt[start:end] for start, end in match["highlights"]]  # type: ignore[attr-defined]


async def test_a_word_said_in_a_chat_finds_that_chat_with_the_word_marked(
    account_http: httpx.AsyncClient, live_server: str, account: Account
) -> None:
    await converse(live_server, account, "deploys", "Where is the deployment checklist kept?")
    await converse(live_server, account, "leave", "How many vacation days do I get?")
    await account_http.patch(
        f"/api/v1/chat/chats/{account.user_id}/leave", json={"title": "Holidays and leave"}
    )

    # English stemming: "deploying" finds "deployment"'s stem, and only that chat.
    response = await account_http.get(
        f"/api/v1/chat/search/{account.user_id}", params={"q": "deploying"}
    )
    assert response.status_code == 200, response.text
    (match,) = response.json()["matches"]
    assert match["chat_id"] == "deploys" and match["turn_id"] and match["role"]
    words = marked(match)
    assert words and all(word.lower().startswith("deploy") for word in words), match

    # A title alone is enough; words in both the title and the chat rank that chat first.
    by_title = await account_http.get(
        f"/api/v1/chat/search/{account.user_id}", params={"q": "holidays"}
    )
    (titled,) = by_title.json()["matches"]
    assert titled["chat_id"] == "leave" and titled["title"] == "Holidays and leave"

    # Web-search syntax: an excluded word drops the chat that has it.
    excluded = await account_http.get(
        f"/api/v1/chat/search/{account.user_id}", params={"q": "days -vacation"}
    )
    assert excluded.json()["matches"] == []


async def test_another_users_chats_are_never_found(
    account_http: httpx.AsyncClient, live_server: str, account: Account
) -> None:
    stranger = await sign_up(live_server)
    await converse(live_server, stranger, "secret", "The launch codename is Bluebird.")
    mine = await account_http.get(
        f"/api/v1/chat/search/{account.user_id}", params={"q": "bluebird"}
    )
    assert mine.json()["matches"] == []
    theirs = await account_http.get(
        f"/api/v1/chat/search/{stranger.user_id}", params={"q": "bluebird"}
    )
    assert theirs.status_code == 403


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 422),
        ({"q": ""}, 422),
        ({"q": "   "}, 400),
        ({"q": "x" * 201}, 422),
        ({"q": "a\x00b"}, 422),
        ({"q": "ok", "limit": 0}, 422),
        ({"q": "ok", "limit": 51}, 422),
    ],
)
async def test_a_malformed_search_is_refused_clearly(
    account_http: httpx.AsyncClient, account: Account, params: dict[str, object], status: int
) -> None:
    response = await account_http.get(f"/api/v1/chat/search/{account.user_id}", params=params)
    assert response.status_code == status, response.text
    assert response.json()["error"]


async def test_search_syntax_a_user_might_type_never_fails(
    account_http: httpx.AsyncClient, live_server: str, account: Account
) -> None:
    await converse(live_server, account, "c", "How do I run the tests?")
    for query in ['"unclosed', "a & b | !c", "(((", "-", "tests:*", "'; drop table chats; --"]:
        response = await account_http.get(
            f"/api/v1/chat/search/{account.user_id}", params={"q": query}
        )
        assert response.status_code == 200, (query, response.text)

"""Start-up does not wait for long-term memory: the app answers health, the UI and logins while
mem0 is built in the background, `/readyz` says not ready until it is, and a turn that needs
memory waits for it rather than being answered without it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from allin.app import create_app
from allin.memory import build
from tests.conftest import make_settings, new_database, ws_url
from tests.support.accounts import PASSWORD, sign_up
from tests.support.servers import serve_in_thread, until_ready
from tests.support.wsclient import ask, next_frame, send, until_done

# A guard against a hang, not a timing check.
_HELD_AT_MOST_S = 90


@pytest.fixture
def held_memory(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Building mem0 waits until the test sets the event."""
    release = threading.Event()
    from_config = build._from_config

    def held(config: dict[str, Any]) -> Any:
        release.wait(_HELD_AT_MOST_S)
        return from_config(config)

    monkeypatch.setattr(build, "_from_config", held)
    yield release
    release.set()


async def test_the_app_answers_while_memory_loads_and_a_turn_waits_for_it(
    postgres: Any, tmp_path: Path, held_memory: threading.Event
) -> None:
    settings = make_settings(database_url=new_database(postgres), data_dir=tmp_path)
    held_memory.set()  # the first start learns a memory as usual
    with serve_in_thread(create_app(settings)) as url:
        until_ready(url)
        account = await sign_up(url)
        async with connect(ws_url(url, account, "c1")) as socket:
            await ask(socket, "m1", "My manager is Dana.")
        async with httpx.AsyncClient(base_url=url, headers=account.headers) as http:
            listed = (await http.get(f"/api/v1/memories/{account.user_id}")).json()
    assert [memory["text"] for memory in listed["memories"]] == ["User's manager is Dana"]

    held_memory.clear()  # the restart's memory is held until the test lets it go
    with serve_in_thread(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url, headers=account.headers) as http:
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.get("/")).status_code == 200
            login = await http.post(
                "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
            )
            assert login.status_code == 200, login.text
            ready = await http.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["detail"] == "long-term memory: starting"

            async with connect(ws_url(url, account, "c2")) as socket:
                await send(socket, type="message", id="m1", content="What do you know about me?")
                assert (await next_frame(socket))["type"] == "ack"
                # The answer waits for memory: nothing of it comes while memory loads.
                with pytest.raises(TimeoutError):
                    async with asyncio.timeout(1):
                        await socket.recv()
                held_memory.set()
                frames = await until_done(socket)
            assert frames[-1]["type"] == "done", frames
            assert "User's manager is Dana" in frames[-1]["turn"]["content"]
        until_ready(url)

"""One user's sockets and frames (issue #12, finding 5): open chat sockets are capped per user,
and messages, `ping` and `cancel` frames rate-limited per user, all across app processes (two
apps on one database here). Time moves only when the test moves it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from allin.app import create_app
from tests.conftest import make_settings, new_database, ws_url
from tests.support.accounts import sign_up
from tests.support.clock import FakeClock
from tests.support.servers import serve_in_thread
from tests.support.wsclient import ask, next_frame, send

MAX_SOCKETS = 3
# A burst of 2 (a quarter of a minute's allowance), then one every 7.5 s.
CONTROL_PER_MINUTE = 8
MESSAGES_PER_MINUTE = 8


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def database(postgres: Any) -> str:
    return new_database(postgres)


@pytest.fixture(scope="module")
def servers(
    database: str, tmp_path_factory: pytest.TempPathFactory, clock: FakeClock
) -> Iterator[tuple[str, str]]:
    apps = [
        create_app(
            make_settings(
                database_url=database,
                data_dir=tmp_path_factory.mktemp(f"sockets-{n}"),
                memory=False,
                max_sockets_per_user=MAX_SOCKETS,
                control_frames_per_minute=CONTROL_PER_MINUTE,
                rate_limit_per_minute=MESSAGES_PER_MINUTE,
            )
        )
        for n in range(2)
    ]
    with serve_in_thread(apps[0]) as url_a, serve_in_thread(apps[1]) as url_b:
        for app in apps:
            app.state.services.sockets.clock = clock
            app.state.services.rates.clock = clock
        yield url_a, url_b


async def accepted(socket: ClientConnection) -> ClientConnection:
    """`socket` once the server has given it a place: it reads frames only then, and answers a
    frame it does not know (which no rate limits) with `bad_request`."""
    await send(socket, type="probe")
    frame = await next_frame(socket)
    assert frame["code"] == "bad_request", frame
    return socket


async def pong(socket: ClientConnection) -> dict[str, Any]:
    await send(socket, type="ping")
    return await next_frame(socket)


async def test_open_sockets_are_capped_per_user_across_processes(
    servers: tuple[str, str],
) -> None:
    url_a, url_b = servers
    ann, bob = await sign_up(url_a), await sign_up(url_a)
    held = [
        await accepted(await connect(ws_url((url_a, url_b)[n % 2], ann, f"c{n}")))
        for n in range(MAX_SOCKETS)
    ]
    try:
        # One more, on either process, is refused with a code and closed.
        for url in (url_a, url_b):
            async with connect(ws_url(url, ann, "one-more")) as refused:
                frame = await next_frame(refused)
                assert frame["type"] == "error" and frame["code"] == "rate_limited", frame
                assert frame["retry_after"] >= 1
                with pytest.raises(ConnectionClosed) as closed:
                    await next_frame(refused)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429
        # Another user is not affected.
        async with connect(ws_url(url_b, bob, "c0")) as other:
            assert (await pong(other))["type"] == "pong"
    finally:
        await held[0].close()
    # A closed socket gives its place back (once the server has seen it go).
    async with asyncio.timeout(10):
        while True:
            async with connect(ws_url(url_b, ann, "again")) as again:
                frame = await pong(again)
                if frame["type"] == "pong":
                    break
                assert "sockets are open" in frame["message"], frame
            await asyncio.sleep(0.05)
    for socket in held[1:]:
        await socket.close()


async def test_the_sockets_of_a_process_that_died_stop_counting(
    servers: tuple[str, str], database: str, clock: FakeClock
) -> None:
    url_a, _ = servers
    ann = await sign_up(url_a)
    # A process that held all of ann's places, and stopped refreshing them a minute ago.
    last_beat = datetime.fromtimestamp(clock() - 60, UTC)
    async with await psycopg.AsyncConnection.connect(database, autocommit=True) as conn:
        for _ in range(MAX_SOCKETS):
            await conn.execute(
                "insert into open_sockets (user_id, process_id, seen_at) values (%s, 'gone', %s)",
                (ann.user_id, last_beat),
            )
    async with connect(ws_url(url_a, ann, "c1")) as socket:
        assert (await pong(socket))["type"] == "pong"


async def test_ping_and_cancel_are_rate_limited_per_user_across_processes(
    servers: tuple[str, str], clock: FakeClock
) -> None:
    url_a, url_b = servers
    ann = await sign_up(url_a)
    async with (
        connect(ws_url(url_a, ann, "c1")) as on_a,
        connect(ws_url(url_b, ann, "c2")) as on_b,
    ):
        assert (await pong(on_a))["type"] == "pong"
        assert (await pong(on_b))["type"] == "pong"
        refused = await pong(on_a)
        assert refused["type"] == "error" and refused["code"] == "rate_limited", refused
        assert "ping" in refused["message"] and refused["retry_after"] >= 1

        # `cancel` has a bucket of its own: two are answered (nothing to cancel), then refused.
        for socket in (on_b, on_a):
            await send(socket, type="cancel")
            assert (await next_frame(socket))["code"] == "not_found"
        await send(socket, type="cancel")
        refused_cancel = await next_frame(socket)
        assert refused_cancel["code"] == "rate_limited", refused_cancel

        # The socket stays usable, and the allowance comes back with time.
        clock.advance(refused["retry_after"])
        assert (await pong(on_b))["type"] == "pong"
        assert (await pong(on_a))["code"] == "rate_limited"


async def test_the_message_rate_holds_across_processes(
    servers: tuple[str, str], clock: FakeClock
) -> None:
    url_a, url_b = servers
    ann = await sign_up(url_a)
    async with (
        connect(ws_url(url_a, ann, "c1")) as on_a,
        connect(ws_url(url_b, ann, "c2")) as on_b,
    ):
        assert (await ask(on_a, "m1", "one"))[-1]["type"] == "done"
        assert (await ask(on_b, "m2", "two"))[-1]["type"] == "done"
        refused = (await ask(on_a, "m3", "three"))[-1]
        assert refused["type"] == "error" and refused["code"] == "rate_limited", refused
        assert refused["reply_to"] == "m3" and refused["retry_after"] >= 1
        clock.advance(refused["retry_after"])
        assert (await ask(on_b, "m3", "three"))[-1]["type"] == "done"

"""An open chat socket lasts no longer than its session: logging out, or the token expiring,
closes it with 4401 (and an `unauthorized` frame), as a new socket would be refused."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from allin.app import create_app
from tests.conftest import make_settings, ws_url
from tests.support.accounts import sign_up
from tests.support.servers import serve_ready
from tests.support.wsclient import ask, next_frame

TOKEN_TTL_S = 4


@pytest.fixture(scope="module")
def rechecking_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = make_settings(
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("reauth"),
        socket_reauth_s=0.2,
        token_ttl_s=TOKEN_TTL_S,
    )
    with serve_ready(create_app(settings)) as url:
        yield url


async def assert_closed_as_unauthorized(socket: ClientConnection) -> None:
    frame = await next_frame(socket)
    assert (frame["type"], frame["code"]) == ("error", "unauthorized"), frame
    with pytest.raises(ConnectionClosed) as closed:
        await next_frame(socket)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_logging_out_closes_the_open_socket(rechecking_server: str) -> None:
    account = await sign_up(rechecking_server)
    async with connect(ws_url(rechecking_server, account, "c1")) as socket:
        assert (await ask(socket, "m1", "hello"))[-1]["type"] == "done"
        async with httpx.AsyncClient(base_url=rechecking_server, headers=account.headers) as http:
            assert (await http.post("/api/v1/auth/logout")).status_code == 204
        await assert_closed_as_unauthorized(socket)


async def test_an_expired_token_closes_the_open_socket(rechecking_server: str) -> None:
    account = await sign_up(rechecking_server)
    async with connect(ws_url(rechecking_server, account, "c1")) as socket:
        assert (await ask(socket, "m1", "hello"))[-1]["type"] == "done"
        # No frame until the token expires (next_frame waits 10 s, past the TTL).
        await assert_closed_as_unauthorized(socket)

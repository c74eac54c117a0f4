"""The database goes away under a running app: clear `unavailable` errors, nothing half-stored, and
recovery without restarting the app."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from allin.app import create_app
from allin.storage.embedded import start_embedded_postgres
from tests.conftest import make_settings, ws_url
from tests.support.accounts import sign_up
from tests.support.servers import serve_ready
from tests.support.wsclient import ask


@pytest.mark.timeout(90)
async def test_database_outage_and_recovery(tmp_path: Path) -> None:
    pgdata = tmp_path / "pg"
    postgres = start_embedded_postgres(pgdata)
    settings = make_settings(database_url=str(postgres.get_uri()), data_dir=tmp_path, db_wait_s=1)
    with serve_ready(create_app(settings)) as url:
        ann = await sign_up(url)
        async with httpx.AsyncClient(base_url=url, timeout=15, headers=ann.headers) as http:
            async with connect(ws_url(url, ann, "c1")) as socket:
                assert (await ask(socket, "m1", "before the outage"))[-1]["type"] == "done"

                postgres.cleanup()  # stops the server
                ready = await http.get("/readyz")
                assert ready.status_code == 503 and ready.json()["error"] == "unavailable"
                history = await http.get(f"/api/v1/chat/history/{ann.user_id}/c1")
                assert history.status_code == 503
                frames = await ask(socket, "m2", "during the outage")
                assert frames[-1]["type"] == "error" and frames[-1]["code"] == "unavailable"
                assert frames[-1]["reply_to"] == "m2"

                postgres = start_embedded_postgres(pgdata)
                assert (await http.get("/readyz")).status_code == 200
                # The same socket works again, and the message can be retried with its id.
                assert (await ask(socket, "m2", "during the outage"))[-1]["type"] == "done"
            turns = (await http.get(f"/api/v1/chat/history/{ann.user_id}/c1")).json()["turns"]
    postgres.cleanup()
    assert [t["content"] for t in turns if t["role"] == "user"] == [
        "before the outage",
        "during the outage",
    ]
    assert [t["role"] for t in turns] == ["user", "assistant", "user", "assistant"]

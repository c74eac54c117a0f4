"""The data dir and the folders the app makes in it are private: nobody but the user running the
app lists or reads them; as root, the embedded Postgres (run as its own `pgserver` user) still
reaches its folder, through a data dir others may traverse but not list."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx
import psycopg

from allin.app import create_app
from allin.storage.embedded import start_embedded_postgres
from tests.conftest import make_settings
from tests.support.accounts import sign_up
from tests.support.servers import serve_ready


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_data_dir_and_its_folders_are_private(database_url: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "new" / "data"
    settings = make_settings(database_url=database_url, data_dir=data_dir)
    with serve_ready(create_app(settings)) as url:
        account = await sign_up(url)
        async with httpx.AsyncClient(base_url=url, headers=account.headers, timeout=60) as http:
            response = await http.post(
                "/api/v1/documents", files=[("files", ("notes.md", b"# Notes\n\nprivate"))]
            )
        assert response.status_code == 200, response.text
    blobs = data_dir / "blobs"
    folders = [tmp_path / "new", data_dir, data_dir / "mem0", blobs, blobs / ".tmp"]
    folders += [path for path in (blobs / "documents").rglob("*") if path.is_dir()]
    assert {str(folder): mode(folder) for folder in folders} == {
        str(folder): 0o700 for folder in folders
    }
    for secret in ("jwt_secret", "blob_secret"):
        if (data_dir / secret).exists():
            assert mode(data_dir / secret) == 0o600


def test_the_embedded_postgres_runs_in_a_private_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_embedded_postgres(data_dir / "pg")
    try:
        with psycopg.connect(str(server.get_uri())) as conn:
            assert conn.execute("select 1").fetchone() is not None
    finally:
        server.cleanup()
    # Others may at most pass through (as root, so that the `pgserver` user reaches pg/).
    assert mode(data_dir) == (0o711 if os.geteuid() == 0 else 0o700)
    assert mode(data_dir / "pg") & 0o077 == 0

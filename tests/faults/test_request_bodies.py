"""Bodies the server must not take: an upload from someone with no token is refused before any of
it is read, and every route's body is capped (declared or streamed) with a 413 naming the limit.
Sent over a raw socket, so the test controls how much of a body ever goes out."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from allin.app import create_app
from allin.config import Settings
from tests.conftest import make_settings
from tests.support.accounts import Account, sign_up
from tests.support.servers import serve_ready

UPLOAD_LIMIT = 1024 * 1024
REQUEST_LIMIT = 64 * 1024
BOUNDARY = "limits"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


@pytest.fixture(scope="module")
def limited_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = make_settings(
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("limits"),
        max_document_bytes=UPLOAD_LIMIT // 2,
        max_upload_bytes=UPLOAD_LIMIT,
        max_request_bytes=REQUEST_LIMIT,
    )
    with serve_ready(create_app(settings)) as url:
        yield url


async def exchange(
    base_url: str, path: str, headers: dict[str, str], body: Iterable[bytes]
) -> tuple[int, dict[str, Any]]:
    """POST `path`, sending `body` piece by piece (and then nothing more, leaving the connection
    open), and read the answer: it must come without the server waiting for the rest."""
    url = urlsplit(base_url)
    assert url.hostname is not None and url.port is not None
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    head = f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"

    async def feed() -> None:
        # The server may stop reading (and close) once it has answered.
        with contextlib.suppress(ConnectionError):
            writer.write(head.encode())
            for piece in body:
                writer.write(piece)
                await writer.drain()

    feeding = asyncio.create_task(feed())
    try:
        async with asyncio.timeout(10):
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) != b"\r\n":
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            answer = json.loads(await reader.readexactly(length))
    finally:
        feeding.cancel()
        writer.close()
    return status, answer


def file_part_start(name: str = "big.md") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
        "Content-Type: text/markdown\r\n\r\n"
    ).encode()


def chunked(pieces: Iterable[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"


async def test_an_upload_without_a_token_is_refused_before_its_body_is_read(
    limited_server: str,
) -> None:
    # Under the cap, so only the missing token can refuse it; most of it is never sent.
    headers = {"Content-Type": MULTIPART, "Content-Length": str(UPLOAD_LIMIT - 1)}
    body = [file_part_start(), b"x" * 4096]
    status, answer = await exchange(limited_server, "/api/v1/documents", headers, body)
    assert (status, answer["error"]) == (401, "unauthorized"), answer


async def test_an_upload_declared_over_the_cap_is_refused_up_front(limited_server: str) -> None:
    account = await sign_up(limited_server)
    headers = {
        **account.headers,
        "Content-Type": MULTIPART,
        "Content-Length": str(300 * 1024 * 1024),
    }
    status, answer = await exchange(limited_server, "/api/v1/documents", headers, [b"--"])
    assert (status, answer["error"]) == (413, "too_large"), answer
    assert str(UPLOAD_LIMIT) in answer["detail"]


async def test_an_upload_streamed_past_the_cap_is_cut_off(limited_server: str) -> None:
    account = await sign_up(limited_server)
    headers = {**account.headers, "Content-Type": MULTIPART, "Transfer-Encoding": "chunked"}
    pieces = [file_part_start(), *[b"x" * 65536] * (2 * UPLOAD_LIMIT // 65536)]
    status, answer = await exchange(limited_server, "/api/v1/documents", headers, chunked(pieces))
    assert (status, answer["error"]) == (413, "too_large"), answer
    assert str(UPLOAD_LIMIT) in answer["detail"]
    await assert_nothing_stored(limited_server, account)


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_a_json_body_over_the_request_cap_is_refused(
    limited_server: str, declared: bool
) -> None:
    padding = "x" * (2 * REQUEST_LIMIT)
    body = json.dumps({"email": "big@example.com", "password": padding}).encode()
    headers = {"Content-Type": "application/json"}
    if declared:
        headers["Content-Length"] = str(len(body))
        pieces: Iterable[bytes] = [body]
    else:
        headers["Transfer-Encoding"] = "chunked"
        pieces = chunked(body[i : i + 8192] for i in range(0, len(body), 8192))
    status, answer = await exchange(limited_server, "/api/v1/auth/signup", headers, pieces)
    assert (status, answer["error"]) == (413, "too_large"), answer
    assert str(REQUEST_LIMIT) in answer["detail"]


async def test_behind_a_path_prefix_uploads_keep_their_own_cap(settings: Settings) -> None:
    # Over the 1 MiB cap of other routes, under the upload cap: only the token is missing.
    headers = {"Content-Type": MULTIPART, "Content-Length": str(2 * 1024 * 1024)}
    with serve_ready(create_app(settings), root_path="/allin") as url:
        status, answer = await exchange(url, "/api/v1/documents", headers, [file_part_start()])
    assert (status, answer["error"]) == (401, "unauthorized"), answer


async def test_uploads_under_the_cap_still_work(limited_server: str) -> None:
    account = await sign_up(limited_server)
    text = b"# Notes\n\n" + b"Deploys go out on Tuesdays.\n" * 1000
    end = f"\r\n--{BOUNDARY}--\r\n".encode()
    body = file_part_start("notes.md") + text + end
    headers = {**account.headers, "Content-Type": MULTIPART, "Content-Length": str(len(body))}
    status, answer = await exchange(limited_server, "/api/v1/documents", headers, [body])
    assert status == 200, answer
    assert [f["status"] for f in answer["files"]] == ["indexed"]


async def assert_nothing_stored(base_url: str, account: Account) -> None:
    async with httpx.AsyncClient(base_url=base_url, headers=account.headers) as http:
        documents = (await http.get("/api/v1/documents")).json()["documents"]
    assert [d for d in documents if d["owner_id"] == account.user_id] == []

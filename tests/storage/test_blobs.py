"""The `BlobStore` contract, the same assertions for the local store and for Supabase Storage (the
real supabase-py client against `tests/support/fake_supabase_storage.py`)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest

from allin.errors import BadRequest, NotFound, Unavailable
from allin.storage.blobs import AUDIO, DOCUMENTS, BlobStore, LocalBlobStore
from allin.storage.supabase_blobs import SupabaseBlobStore
from allin.storage.supabase_client import SupabaseConnection


class Clock:
    """Time for the local store's signed URLs, moved by the test rather than waited for."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Case:
    store: BlobStore
    # Fetches a signed URL the way its client would; raises if the URL is refused.
    fetch_signed: Callable[[str], Awaitable[bytes]]


@pytest.fixture(scope="session")
async def supabase_blobs(supabase: SupabaseConnection) -> SupabaseBlobStore:
    store = SupabaseBlobStore(supabase.client)
    await store.ensure_buckets()
    return store


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def local_blobs(tmp_path: Path, clock: Clock) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs", "blob-test-secret", clock=clock)


@pytest.fixture(params=["local", "supabase"])
def case(request: pytest.FixtureRequest) -> Case:
    if request.param == "local":
        local: LocalBlobStore = request.getfixturevalue("local_blobs")

        async def fetch_local(url: str) -> bytes:
            bucket, path, expires, sig = parse_local_url(url)
            assert local.verify_signature(bucket, path, expires, sig)
            return await local.get(bucket, path)

        return Case(local, fetch_local)

    remote: SupabaseBlobStore = request.getfixturevalue("supabase_blobs")

    async def fetch_remote(url: str) -> bytes:
        async with httpx.AsyncClient() as http:  # no key: the URL is the credential
            response = await http.get(url)
        response.raise_for_status()
        return response.content

    return Case(remote, fetch_remote)


def parse_local_url(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    prefix = "/api/v1/blobs/"
    assert parts.path.startswith(prefix)
    bucket, _, path = unquote(parts.path.removeprefix(prefix)).partition("/")
    query = parse_qs(parts.query)
    return bucket, path, int(query["expires"][0]), query["sig"][0]


def tampered(text: str) -> str:
    """`text` with its last (hex) character changed."""
    return text[:-1] + ("1" if text.endswith("0") else "0")


@pytest.fixture
def path() -> str:
    """A path of one's own: the Supabase fake is shared by the whole run."""
    return f"user-{uuid.uuid4().hex[:8]}/notes v1.txt"


async def test_roundtrip_and_overwrite(case: Case, path: str) -> None:
    await case.store.put(DOCUMENTS, path, b"first", "text/plain")
    assert await case.store.get(DOCUMENTS, path) == b"first"
    await case.store.put(DOCUMENTS, path, b"second", "text/plain")
    assert await case.store.get(DOCUMENTS, path) == b"second"
    with pytest.raises(NotFound):
        await case.store.get(AUDIO, path)


async def test_missing_object_is_not_found(case: Case, path: str) -> None:
    with pytest.raises(NotFound):
        await case.store.get(DOCUMENTS, path)
    with pytest.raises(NotFound):
        await case.store.signed_url(DOCUMENTS, path, 60)


async def test_delete_is_idempotent(case: Case, path: str) -> None:
    await case.store.put(AUDIO, path, b"pcm", "audio/wav")
    await case.store.delete(AUDIO, path)
    await case.store.delete(AUDIO, path)
    with pytest.raises(NotFound):
        await case.store.get(AUDIO, path)


async def test_binary_content_survives(case: Case, path: str) -> None:
    data = bytes(range(256)) * 3
    await case.store.put(AUDIO, path, data, "application/octet-stream")
    assert await case.store.get(AUDIO, path) == data


async def test_signed_url_fetches_the_object(case: Case, path: str) -> None:
    data = bytes(range(256))
    await case.store.put(DOCUMENTS, path, data, "application/pdf")
    url = await case.store.signed_url(DOCUMENTS, path, 60)
    assert await case.fetch_signed(url) == data


@pytest.mark.parametrize(
    "bad_path", ["../escape", "a/../../escape", "/etc/passwd", "a//b", "a/./b", "a\\b", ""]
)
async def test_paths_cannot_leave_their_bucket(case: Case, bad_path: str) -> None:
    with pytest.raises(BadRequest):
        await case.store.put(DOCUMENTS, bad_path, b"x", "text/plain")
    with pytest.raises(BadRequest):
        await case.store.get(DOCUMENTS, bad_path)
    with pytest.raises(BadRequest):
        await case.store.delete(DOCUMENTS, bad_path)
    with pytest.raises(BadRequest):
        await case.store.signed_url(DOCUMENTS, bad_path, 60)


async def test_only_known_buckets(case: Case, path: str) -> None:
    with pytest.raises(BadRequest, match="unknown bucket"):
        await case.store.put("other", path, b"x", "text/plain")


async def test_local_signatures_bind_object_and_expiry(
    local_blobs: LocalBlobStore, clock: Clock, path: str
) -> None:
    await local_blobs.put(DOCUMENTS, path, b"x", "text/plain")
    bucket, signed_path, expires, sig = parse_local_url(
        await local_blobs.signed_url(DOCUMENTS, path, 60)
    )
    assert local_blobs.verify_signature(bucket, signed_path, expires, sig)
    assert not local_blobs.verify_signature(bucket, signed_path, expires, tampered(sig))
    assert not local_blobs.verify_signature(bucket, signed_path + "x", expires, sig)
    assert not local_blobs.verify_signature(AUDIO, signed_path, expires, sig)
    assert not local_blobs.verify_signature(bucket, signed_path, expires + 3600, sig)
    assert not local_blobs.verify_signature(bucket, signed_path, expires, "ünïcode")
    clock.now += 60
    assert not local_blobs.verify_signature(bucket, signed_path, expires, sig)


async def test_local_writes_leave_no_temporary_files(
    local_blobs: LocalBlobStore, tmp_path: Path, path: str
) -> None:
    await local_blobs.put(DOCUMENTS, path, b"x", "text/plain")
    await local_blobs.put(DOCUMENTS, path, b"y", "text/plain")
    files = await asyncio.to_thread(
        lambda: [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()]
    )
    assert files == [f"blobs/{DOCUMENTS}/{path}"]


async def test_supabase_refuses_a_tampered_signed_url(
    supabase_blobs: SupabaseBlobStore, path: str
) -> None:
    await supabase_blobs.put(DOCUMENTS, path, b"x", "text/plain")
    url = await supabase_blobs.signed_url(DOCUMENTS, path, 60)
    async with httpx.AsyncClient() as http:
        response = await http.get(tampered(url))
    assert response.status_code == 400


async def test_supabase_with_a_wrong_key_is_unavailable(supabase_url: str) -> None:
    connection = await SupabaseConnection.open(supabase_url, "not-the-service-key")
    try:
        with pytest.raises(Unavailable, match="credentials"):
            await SupabaseBlobStore(connection.client).get(DOCUMENTS, "a.txt")
    finally:
        await connection.aclose()

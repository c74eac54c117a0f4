"""The `BlobStore` on Supabase Storage, through supabase-py's async client and the service key."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar

import httpx
from storage3.exceptions import StorageApiError
from supabase import AsyncClient

from allin.errors import AllinError, BadRequest, Conflict, NotFound, TooLarge, Unavailable
from allin.storage.blobs import BUCKETS, object_key

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _as_allin_error(exc: StorageApiError) -> AllinError:
    """Storage answers errors with HTTP 400 and the meaningful status in the body's `statusCode`,
    which storage3 keeps as `exc.status`."""
    status = str(exc.status)
    if status == "404" or exc.code in ("not_found", "NoSuchKey", "NoSuchBucket"):
        return NotFound(exc.message)
    if status == "409":
        return Conflict(exc.message)
    if status == "413":
        return TooLarge(exc.message)
    if status in ("401", "403"):
        # Our own key was refused: a deployment problem, not the user's request.
        logger.error("Supabase Storage refused the service key: %s", exc.message)
        return Unavailable("file storage refused the server's credentials")
    if status.startswith("5"):
        return Unavailable(f"file storage failed: {exc.message}")
    return BadRequest(exc.message)


async def _storage_call(call: Awaitable[T]) -> T:
    try:
        return await call
    except StorageApiError as exc:
        raise _as_allin_error(exc) from exc
    except httpx.TransportError as exc:
        raise Unavailable("file storage is unreachable; try again shortly") from exc


class SupabaseBlobStore:
    def __init__(self, client: AsyncClient) -> None:
        self._storage = client.storage

    async def ensure_buckets(self) -> None:
        """Create the app's buckets if the project lacks them; private, so objects are reached
        only with the service key or a signed URL."""
        existing = {bucket.id for bucket in await _storage_call(self._storage.list_buckets())}
        for bucket in BUCKETS:
            if bucket not in existing:
                await _storage_call(self._storage.create_bucket(bucket, options={"public": False}))
                logger.info("created Supabase Storage bucket %s", bucket)

    async def put(self, bucket: str, path: str, data: bytes, content_type: str) -> None:
        object_key(bucket, path)
        await _storage_call(
            self._storage.from_(bucket).upload(
                path, data, {"content-type": content_type, "upsert": "true"}
            )
        )

    async def get(self, bucket: str, path: str) -> bytes:
        object_key(bucket, path)
        return await _storage_call(self._storage.from_(bucket).download(path))

    async def delete(self, bucket: str, path: str) -> None:
        object_key(bucket, path)
        # Removing a missing object succeeds with an empty list: deletes are idempotent as is.
        await _storage_call(self._storage.from_(bucket).remove([path]))

    async def signed_url(self, bucket: str, path: str, expires_in_s: int) -> str:
        object_key(bucket, path)
        signed = await _storage_call(
            self._storage.from_(bucket).create_signed_url(path, expires_in_s)
        )
        url = signed["signedURL"]
        if url is None:
            raise NotFound(f"no object {path!r} in {bucket!r}")
        return url

    def verify_signature(self, bucket: str, path: str, expires: int, sig: str) -> bool:
        """Supabase signs and serves its own links; none of them point at this app."""
        return False

"""Files the app keeps (uploaded documents, recorded audio): the `BlobStore` contract and its
local-disk implementation. `SupabaseBlobStore` (Supabase Storage) is in `supabase_blobs.py`."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlencode

from allin.errors import BadRequest, NotFound
from allin.storage.folders import private_dir

DOCUMENTS = "documents"
AUDIO = "audio"
BUCKETS = (DOCUMENTS, AUDIO)


class BlobStore(Protocol):
    """Objects named by a bucket (one of `BUCKETS`) and a relative path such as
    `<user_id>/<document_id>.pdf`. Paths that could escape their bucket are a `BadRequest`."""

    async def put(self, bucket: str, path: str, data: bytes, content_type: str) -> None:
        """Store `data`, replacing whatever was stored under this path."""
        ...

    async def get(self, bucket: str, path: str) -> bytes:
        """The stored bytes; `NotFound` if there are none."""
        ...

    async def delete(self, bucket: str, path: str) -> None:
        """Remove the object; deleting a missing object is not an error."""
        ...

    async def signed_url(self, bucket: str, path: str, expires_in_s: int) -> str:
        """A URL that fetches the object without credentials until it expires; `NotFound` if
        there is no such object."""
        ...

    def verify_signature(self, bucket: str, path: str, expires: int, sig: str) -> bool:
        """Whether a link this store signed (`signed_url`) is genuine and unexpired; a store
        whose links point elsewhere (Supabase) answers False."""
        ...


def object_key(bucket: str, path: str) -> tuple[str, ...]:
    """The path's segments, once `bucket` and `path` are known to name an object inside the
    bucket: no absolute paths, no `.`/`..` or empty segments, no backslashes or NUL bytes."""
    if bucket not in BUCKETS:
        raise BadRequest(f"unknown bucket {bucket!r}")
    parts = tuple(path.split("/"))
    if not path or "\\" in path or "\x00" in path or any(part in ("", ".", "..") for part in parts):
        raise BadRequest(f"invalid object path {path!r}")
    return parts


class LocalBlobStore:
    """Objects as files under `root/<bucket>/<path>`, for deployments without Supabase.

    Writes go to a temporary file in `root/.tmp` renamed into place, so a reader never sees half
    a file. Signed URLs point at the app itself (`/api/v1/blobs/...`) and carry an HMAC of the
    object and expiry time made with `secret`; the route serving them calls `verify_signature`.
    The content type is not kept: the route serving a blob derives it from the path.
    """

    def __init__(self, root: Path, secret: str, *, clock: Callable[[], float] = time.time) -> None:
        self._root = root
        self._tmp = root / ".tmp"
        self._secret = secret.encode()
        self._clock = clock

    def _file(self, bucket: str, path: str) -> Path:
        return self._root.joinpath(bucket, *object_key(bucket, path))

    async def put(self, bucket: str, path: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, self._file(bucket, path), data)

    def _write(self, target: Path, data: bytes) -> None:
        private_dir(target.parent)
        private_dir(self._tmp)
        fd, temporary = tempfile.mkstemp(dir=self._tmp)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    async def get(self, bucket: str, path: str) -> bytes:
        try:
            return await asyncio.to_thread(self._file(bucket, path).read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound(f"no object {path!r} in {bucket!r}") from None

    async def delete(self, bucket: str, path: str) -> None:
        # A folder of other objects, or a path below a file: no object here either way.
        with contextlib.suppress(IsADirectoryError, NotADirectoryError):
            await asyncio.to_thread(self._file(bucket, path).unlink, missing_ok=True)

    async def signed_url(self, bucket: str, path: str, expires_in_s: int) -> str:
        if not await asyncio.to_thread(self._file(bucket, path).is_file):
            raise NotFound(f"no object {path!r} in {bucket!r}")
        expires = int(self._clock()) + expires_in_s
        query = urlencode({"expires": expires, "sig": self._signature(bucket, path, expires)})
        return f"/api/v1/blobs/{bucket}/{quote(path)}?{query}"

    def verify_signature(self, bucket: str, path: str, expires: int, sig: str) -> bool:
        """Whether `sig` is ours for this object and expiry, and the expiry has not passed."""
        object_key(bucket, path)
        expected = self._signature(bucket, path, expires)
        return hmac.compare_digest(expected.encode(), sig.encode()) and self._clock() < expires

    def _signature(self, bucket: str, path: str, expires: int) -> str:
        message = f"{bucket}\n{path}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

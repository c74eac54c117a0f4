"""Raw files (uploaded documents, recorded audio): a small protocol, and the local implementation
used by default, under the data dir."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import tempfile
import time
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import quote

from allin.errors import BadRequest, NotFound

DOCUMENTS = "documents"
AUDIO = "audio"
BUCKETS = (DOCUMENTS, AUDIO)


class BlobStore(Protocol):
    async def put(self, bucket: str, path: str, data: bytes, content_type: str) -> None:
        """Store `data` at `path`, replacing what was there."""
        ...

    async def get(self, bucket: str, path: str) -> bytes:
        """The stored bytes; `NotFound` if there are none."""
        ...

    async def delete(self, bucket: str, path: str) -> None:
        """Remove the blob; removing a missing blob is not an error."""
        ...

    async def signed_url(self, bucket: str, path: str, expires_in_s: int) -> str:
        """A URL that fetches the blob without other credentials until it expires."""
        ...


def checked_path(bucket: str, path: str) -> PurePosixPath:
    if bucket not in BUCKETS:
        raise BadRequest(f"unknown bucket {bucket!r}")
    relative = PurePosixPath(path)
    if not path or relative.is_absolute() or ".." in relative.parts or "\\" in path:
        raise BadRequest(f"invalid blob path {path!r}")
    return relative


class LocalBlobStore:
    """Blobs as files under `root/<bucket>/<path>`; signed URLs point at the app's own
    `/api/v1/blobs/...` route and carry an HMAC of bucket, path and expiry."""

    def __init__(self, root: Path, secret: str) -> None:
        self._root = root
        self._secret = secret.encode()

    def _file(self, bucket: str, path: str) -> Path:
        return self._root / bucket / checked_path(bucket, path)

    async def put(self, bucket: str, path: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(_write_atomically, self._file(bucket, path), data)

    async def get(self, bucket: str, path: str) -> bytes:
        try:
            return await asyncio.to_thread(self._file(bucket, path).read_bytes)
        except FileNotFoundError:
            raise NotFound(f"no blob {bucket}/{path}") from None

    async def delete(self, bucket: str, path: str) -> None:
        await asyncio.to_thread(self._file(bucket, path).unlink, missing_ok=True)

    async def signed_url(self, bucket: str, path: str, expires_in_s: int) -> str:
        checked_path(bucket, path)
        expires = int(time.time()) + expires_in_s
        signature = self._signature(bucket, path, expires)
        return f"/api/v1/blobs/{bucket}/{quote(path)}?expires={expires}&sig={signature}"

    def verify_signature(self, bucket: str, path: str, expires: int, signature: str) -> bool:
        if expires < time.time():
            return False
        return hmac.compare_digest(self._signature(bucket, path, expires), signature)

    def _signature(self, bucket: str, path: str, expires: int) -> str:
        message = f"{bucket}\n{path}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()


def _write_atomically(target: Path, data: bytes) -> None:
    """Write to a temporary file then rename, so a reader never sees half a blob."""
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

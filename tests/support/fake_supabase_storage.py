"""A stand-in for Supabase Storage (`/storage/v1`), speaking exactly the requests supabase-py's
async storage client (storage3 2.34) sends for what `SupabaseBlobStore` does, over files in a
directory. No Supabase Storage server can be installed here, so its HTTP protocol is the contract.

Covered, each checking `Authorization: Bearer <service key>` and `apikey: <service key>`:
- `GET  /storage/v1/bucket` (`list_buckets`), `GET /storage/v1/bucket/{id}` (`get_bucket`),
  `POST /storage/v1/bucket` `{"id", "name", "public"}` (`create_bucket`).
- `POST /storage/v1/object/{bucket}/{path}` multipart upload (`upload`); an existing object is
  replaced only with the `x-upsert: true` header, otherwise 409. `PUT` the same (`update`) replaces.
- `GET  /storage/v1/object/{bucket}/{path}` (`download`).
- `DELETE /storage/v1/object/{bucket}` `{"prefixes": [paths]}` (`remove`): the removed objects.
- `POST /storage/v1/object/sign/{bucket}/{path}` `{"expiresIn"}` (`create_signed_url`) answering
  `{"signedURL": "/object/sign/{bucket}/{path}?token=..."}`, and
  `GET /storage/v1/object/sign/{bucket}/{path}?token=...`, which needs no key, like the real one.

Errors look like Storage's: HTTP 400 whatever happened, with the real status in the body,
`{"statusCode": "404", "error": "not_found", "message": "Object not found"}`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

SERVICE_KEY = "fake-service-role-key"


def storage_error(status: int, error: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"statusCode": str(status), "error": error, "message": message}, status_code=400
    )


@dataclass
class FakeSupabaseStorage:
    root: Path
    service_key: str = SERVICE_KEY
    buckets: dict[str, dict[str, Any]] = field(default_factory=dict)
    content_types: dict[tuple[str, str], str] = field(default_factory=dict)
    _signing_key: bytes = b"fake-storage-url-signing-key"

    @property
    def routes(self) -> list[BaseRoute]:
        base = "/storage/v1"
        return [
            Route(f"{base}/bucket", self._list_buckets, methods=["GET"]),
            Route(f"{base}/bucket", self._create_bucket, methods=["POST"]),
            Route(f"{base}/bucket/{{id}}", self._get_bucket, methods=["GET"]),
            Route(f"{base}/object/sign/{{bucket}}/{{path:path}}", self._sign, methods=["POST"]),
            Route(f"{base}/object/sign/{{bucket}}/{{path:path}}", self._signed, methods=["GET"]),
            Route(f"{base}/object/{{bucket}}", self._remove, methods=["DELETE"]),
            Route(f"{base}/object/{{bucket}}/{{path:path}}", self._upload, methods=["POST", "PUT"]),
            Route(f"{base}/object/{{bucket}}/{{path:path}}", self._download, methods=["GET"]),
        ]

    @property
    def app(self) -> Starlette:
        return Starlette(routes=self.routes)

    def _authorized(self, request: Request) -> bool:
        return (
            request.headers.get("authorization") == f"Bearer {self.service_key}"
            and request.headers.get("apikey") == self.service_key
        )

    def _file(self, bucket: str, path: str) -> Path:
        return self.root.joinpath(bucket, *path.split("/"))

    async def _list_buckets(self, request: Request) -> Response:
        if not self._authorized(request):
            return storage_error(403, "Unauthorized", "invalid signature")
        return JSONResponse(list(self.buckets.values()))

    async def _get_bucket(self, request: Request) -> Response:
        if not self._authorized(request):
            return storage_error(403, "Unauthorized", "invalid signature")
        bucket = self.buckets.get(request.path_params["id"])
        if bucket is None:
            return storage_error(404, "Bucket not found", "Bucket not found")
        return JSONResponse(bucket)

    async def _create_bucket(self, request: Request) -> Response:
        if not self._authorized(request):
            return storage_error(403, "Unauthorized", "invalid signature")
        body = await request.json()
        if body["id"] in self.buckets:
            return storage_error(409, "Duplicate", "The resource already exists")
        now = datetime.now(UTC).isoformat()
        self.buckets[body["id"]] = {
            "id": body["id"],
            "name": body.get("name") or body["id"],
            "owner": "",
            "public": bool(body.get("public", False)),
            "created_at": now,
            "updated_at": now,
            "file_size_limit": None,
            "allowed_mime_types": None,
        }
        return JSONResponse({"name": body["id"]})

    async def _upload(self, request: Request) -> Response:
        if not self._authorized(request):
            return storage_error(403, "Unauthorized", "invalid signature")
        bucket, path = request.path_params["bucket"], request.path_params["path"]
        if bucket not in self.buckets:
            return storage_error(404, "Bucket not found", "Bucket not found")
        target = self._file(bucket, path)
        exists = await asyncio.to_thread(target.is_file)
        if request.method == "POST" and exists and request.headers.get("x-upsert") != "true":
            return storage_error(409, "Duplicate", "The resource already exists")
        if request.method == "PUT" and not exists:
            return storage_error(404, "not_found", "Object not found")
        form = await request.form()
        upload = form["file"]
        assert isinstance(upload, UploadFile)
        data = await upload.read()
        await asyncio.to_thread(_write, target, data)
        self.content_types[(bucket, path)] = upload.content_type or "application/octet-stream"
        return JSONResponse(
            {"Key": f"{bucket}/{path}", "Id": hashlib.md5(path.encode()).hexdigest()}
        )

    async def _download(self, request: Request) -> Response:
        if not self._authorized(request):
            return storage_error(403, "Unauthorized", "invalid signature")
        return await self._object(request.path_params["bucket"], request.path_params["path"])

    async def _object(self, bucket: str, path: str) -> Response:
        try:
            data = await asyncio.to_thread(self._file(bucket, path).read_bytes)
        except (FileNotFoundError, IsADirectoryError):
            return storage_error(404, "not_found", "Object not found")
        return Response(data, media_type=self.content_types[(bucket, path)])

    async def _remove(self, request: Request) -> Response:
        if not self._authorized(request):
            return storage_error(403, "Unauthorized", "invalid signature")
        bucket = request.path_params["bucket"]
        removed = []
        for path in (await request.json())["prefixes"]:
            target = self._file(bucket, path)
            if await asyncio.to_thread(target.is_file):
                await asyncio.to_thread(target.unlink)
                self.content_types.pop((bucket, path), None)
                removed.append({"name": path, "bucket_id": bucket})
        return JSONResponse(removed)

    async def _sign(self, request: Request) -> Response:
        if not self._authorized(request):
            return storage_error(403, "Unauthorized", "invalid signature")
        bucket, path = request.path_params["bucket"], request.path_params["path"]
        if not await asyncio.to_thread(self._file(bucket, path).is_file):
            return storage_error(404, "not_found", "Object not found")
        expires = int(time.time()) + int((await request.json())["expiresIn"])
        token = f"{expires}.{self._token_signature(bucket, path, expires)}"
        return JSONResponse({"signedURL": f"/object/sign/{bucket}/{quote(path)}?token={token}"})

    async def _signed(self, request: Request) -> Response:
        bucket, path = request.path_params["bucket"], request.path_params["path"]
        expires, _, signature = request.query_params.get("token", "").partition(".")
        if not expires.isdigit() or not hmac.compare_digest(
            signature.encode(), self._token_signature(bucket, path, int(expires)).encode()
        ):
            return storage_error(400, "InvalidJWT", "invalid signature")
        if int(expires) <= time.time():
            return storage_error(400, "InvalidJWT", "jwt expired")
        return await self._object(bucket, path)

    def _token_signature(self, bucket: str, path: str, expires: int) -> str:
        message = f"{bucket}/{path}:{expires}".encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)

"""One supabase-py async client for the app's Supabase services (Storage, the REST API), acting
with the service key: the server's own access, which row-level security does not limit."""

from __future__ import annotations

import httpx
from supabase import AsyncClient, AsyncClientOptions, acreate_client

# Per request to Supabase; an upload of a large document is the slowest call we make.
_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


class SupabaseConnection:
    """The client and the HTTP connections under it, which supabase-py does not close itself."""

    def __init__(self, client: AsyncClient, http: httpx.AsyncClient) -> None:
        self.client = client
        self._http = http

    @classmethod
    async def open(cls, url: str, service_key: str) -> SupabaseConnection:
        http = httpx.AsyncClient(timeout=_TIMEOUT, follow_redirects=True)
        options = AsyncClientOptions(
            httpx_client=http,
            # The service key is not a user session: nothing to persist or refresh.
            auto_refresh_token=False,
            persist_session=False,
            # A retried read is harmless, but supabase-py waits seconds between tries; a failed
            # request should surface as `unavailable` now and be retried by the client.
            postgrest_client_retry=False,
        )
        client = await acreate_client(url, service_key, options=options)
        return cls(client, http)

    async def aclose(self) -> None:
        await self._http.aclose()

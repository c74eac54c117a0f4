from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.accounts import Account


@pytest.fixture
async def account_http(live_server: str, account: Account) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the running app, signed in as `account`."""
    async with httpx.AsyncClient(base_url=live_server, headers=account.headers) as client:
        yield client

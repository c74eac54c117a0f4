"""Shared fixtures: one real Postgres (embedded pgserver with pgvector) per test run, a fresh
database in it, and the real app served on a loopback port."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from starlette.applications import Starlette

from allin.app import create_app
from allin.config import Settings, VoiceMode
from allin.services import Services
from allin.storage.embedded import start_embedded_postgres
from allin.storage.supabase_client import SupabaseConnection
from tests.support.accounts import Account, sign_up
from tests.support.fake_postgrest import FakePostgrest
from tests.support.fake_supabase_storage import SERVICE_KEY, FakeSupabaseStorage
from tests.support.servers import serve_in_thread, serve_ready

# The suite must not depend on the developer's environment or `.env`: no keys, no external database.
for name in list(os.environ):
    if name.startswith("ALLIN_") or name in {"DATABASE_URL", "GEMINI_API_KEY", "GOOGLE_API_KEY"}:
        del os.environ[name]


# Every app a test starts shares this secret, so an account made on one is valid on all of them.
TEST_JWT_SECRET = "test-secret-" + "x" * 40


def make_settings(**overrides: Any) -> Settings:
    """Settings for tests: no `.env`, the offline model streaming with no delay, voice off (its
    models take seconds of CPU to load; the voice tests turn it on) and no job worker."""
    values: dict[str, Any] = {
        "llm": "offline",
        "offline_token_delay_ms": 0,
        "jwt_secret": TEST_JWT_SECRET,
        "voice": "off",
        # Jobs run where a test asks for a worker: apps sharing a database would take each
        # other's jobs.
        "jobs_worker": False,
        # Every test signs up from 127.0.0.1: the per-address sign-up limit is tested on its own
        # (tests/faults/test_auth_throttle.py).
        "signups_per_address": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    server = start_embedded_postgres(tmp_path_factory.mktemp("pg") / "data")
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def database_url(postgres: Any) -> str:
    """A fresh database for this run, migrated by the app on its first start."""
    return new_database(postgres)


def new_database(postgres: Any) -> str:
    name = f"allin_test_{uuid.uuid4().hex[:8]}"
    admin_url = str(postgres.get_uri())
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return admin_url.replace("/postgres?", f"/{name}?", 1)


@asynccontextmanager
async def services_of_their_own(
    postgres: Any, data_dir: Path, **overrides: Any
) -> AsyncIterator[Services]:
    """The app's services on a database of their own (so its first account is the admin, and
    what a module's tests store is theirs alone), stopped when the block ends."""
    settings = make_settings(database_url=new_database(postgres), data_dir=data_dir, **overrides)
    started = await started_services(settings)
    try:
        yield started
    finally:
        await started.stop()


async def started_services(settings: Settings) -> Services:
    """`Services.start`, and long-term memory loaded (it loads in the background)."""
    started = await Services.start(settings)
    if started.memory is not None:
        await started.memory.ready()
    return started


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(database_url=database_url, data_dir=tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def live_server(settings: Settings) -> Iterator[str]:
    """Base URL of the real app on a loopback port, sharing the test database."""
    with serve_ready(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="session")
def voice_settings(settings: Settings) -> Settings:
    """The test settings with offline voice on (and no interim transcripts, which would make the
    frames a test sees depend on timing)."""
    return settings.model_copy(update={"voice": VoiceMode.OFFLINE, "voice_partial_every_s": 0})


@pytest.fixture(scope="session")
def voice_server(voice_settings: Settings) -> Iterator[str]:
    """Base URL of the real app with offline voice on, sharing the test database."""
    with serve_ready(create_app(voice_settings)) as url:
        yield url


@pytest.fixture(scope="session")
async def services(settings: Settings) -> AsyncIterator[Services]:
    """The app's services in the test's own event loop, for tests below the HTTP layer."""
    started = await started_services(settings)
    yield started
    await started.stop()


@pytest.fixture(scope="session")
def supabase_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A stand-in Supabase project on one URL, as supabase-py expects: Storage over a temp dir and
    the REST API over the test database (migrated by the `services` fixture)."""
    storage = FakeSupabaseStorage(tmp_path_factory.mktemp("supabase-storage"))
    rest = FakePostgrest(database_url)
    with serve_in_thread(Starlette(routes=[*storage.routes, *rest.routes])) as url:
        yield url


@pytest.fixture(scope="session")
async def supabase(supabase_url: str) -> AsyncIterator[SupabaseConnection]:
    """The real supabase-py async client on the stand-in project, with its service key."""
    connection = await SupabaseConnection.open(supabase_url, SERVICE_KEY)
    yield connection
    await connection.aclose()


@pytest.fixture
def user_id() -> str:
    """A user of one's own, so tests sharing the database never see each other's chats."""
    return f"u-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def account(live_server: str) -> Account:
    """A real account on the live server, for tests over HTTP and WebSocket."""
    return await sign_up(live_server)


def ws_url(http_url: str, account: Account, chat: str, *, user: str | None = None) -> str:
    """The chat socket of `account` (or, to test refusals, of `user` with `account`'s token)."""
    base = http_url.replace("http://", "ws://", 1)
    return f"{base}/ws/{user or account.user_id}/{chat}?token={account.token}"


def project_root() -> Path:
    return Path(__file__).resolve().parent.parent

"""Guessing passwords and mass sign-ups (issue #12, finding 5): log-ins and sign-ups are
throttled by account and by client address with backoff, across processes; parallel guesses are
refused before their passwords are hashed, so they cannot slow anyone else's log-in.

Each test comes from addresses of its own (`X-Forwarded-For`, which the test server trusts from
127.0.0.1 as uvicorn does by default), and time moves only when a test moves it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from allin.app import create_app
from tests.conftest import make_settings, new_database
from tests.support.accounts import PASSWORD, Account
from tests.support.clock import FakeClock
from tests.support.servers import serve_in_thread

FREE_PER_ACCOUNT = 5
FREE_PER_ADDRESS = 10
SIGNUPS_PER_ADDRESS = 3
# Longer than any test takes: a refused attempt can only get through if the test moves the clock.
FIRST_WAIT_S = 60


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


def guarded_app(database_url: str, data_dir: Any) -> FastAPI:
    settings = make_settings(
        database_url=database_url,
        data_dir=data_dir,
        memory=False,
        login_failures_per_account=FREE_PER_ACCOUNT,
        login_failures_per_address=FREE_PER_ADDRESS,
        signups_per_address=SIGNUPS_PER_ADDRESS,
        auth_backoff_s=FIRST_WAIT_S,
        auth_backoff_max_s=3600,
    )
    return create_app(settings)


@pytest.fixture(scope="module")
def database(postgres: Any) -> str:
    return new_database(postgres)


@pytest.fixture(scope="module")
def servers(
    database: str, tmp_path_factory: pytest.TempPathFactory, clock: FakeClock
) -> Iterator[tuple[str, str]]:
    """Two app processes' worth of servers on one database, sharing the test's clock."""
    first = guarded_app(database, tmp_path_factory.mktemp("guard-a"))
    second = guarded_app(database, tmp_path_factory.mktemp("guard-b"))
    with serve_in_thread(first) as url_a, serve_in_thread(second) as url_b:
        for app in (first, second):
            app.state.services.auth.throttle.clock = clock
        yield url_a, url_b


def address() -> str:
    """A client address of the test's own (TEST-NET-3)."""
    n = uuid.uuid4().int
    return f"203.0.{n % 250}.{n // 250 % 250 + 1}"


# Generous: the tests count refusals, and two dozen argon2 hashes on a busy shared machine can
# take longer than httpx's default 5 s.
TIMEOUT_S = 60


async def login(url: str, email: str, password: str, source: str) -> httpx.Response:
    async with httpx.AsyncClient(
        base_url=url, headers={"X-Forwarded-For": source}, timeout=TIMEOUT_S
    ) as http:
        return await http.post("/api/v1/auth/login", json={"email": email, "password": password})


async def signup(url: str, email: str, source: str) -> httpx.Response:
    async with httpx.AsyncClient(
        base_url=url, headers={"X-Forwarded-For": source}, timeout=TIMEOUT_S
    ) as http:
        return await http.post("/api/v1/auth/signup", json={"email": email, "password": PASSWORD})


async def account(url: str) -> Account:
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    response = await signup(url, email, address())
    assert response.status_code == 201, response.text
    body = response.json()
    return Account(user_id=body["user_id"], email=email, token=body["access_token"])


def retry_after(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    assert response.json()["error"] == "rate_limited"
    return int(response.headers["Retry-After"])


async def test_a_wrong_password_streak_does_not_end_in_a_log_in_until_the_backoff_passes(
    servers: tuple[str, str], clock: FakeClock
) -> None:
    url_a, url_b = servers
    ann = await account(url_a)
    source = address()
    statuses = [
        (await login(url_a, ann.email, "wrong password", source)).status_code for _ in range(60)
    ]
    assert statuses[:FREE_PER_ACCOUNT] == [401] * FREE_PER_ACCOUNT
    assert set(statuses[FREE_PER_ACCOUNT:]) == {429}

    # The right password, from another address and through the other process, waits too.
    refused = await login(url_b, ann.email, PASSWORD, address())
    wait = retry_after(refused)
    assert FIRST_WAIT_S - 1 <= wait <= FIRST_WAIT_S
    assert "try again in" in refused.json()["detail"]

    clock.advance(wait)
    assert (await login(url_b, ann.email, PASSWORD, address())).status_code == 200
    # The success ended the account's streak: a typo now is only a typo.
    assert (await login(url_a, ann.email, "wrong password", address())).status_code == 401


async def test_the_backoff_doubles_with_each_failure_past_the_allowance(
    servers: tuple[str, str], clock: FakeClock
) -> None:
    url_a, _ = servers
    bob = await account(url_a)
    for _ in range(FREE_PER_ACCOUNT):
        assert (await login(url_a, bob.email, "wrong password", address())).status_code == 401
    waits = []
    for _ in range(3):
        wait = retry_after(await login(url_a, bob.email, "wrong password", address()))
        waits.append(wait)
        clock.advance(wait)
        assert (await login(url_a, bob.email, "wrong password", address())).status_code == 401
    assert waits == [FIRST_WAIT_S, 2 * FIRST_WAIT_S, 4 * FIRST_WAIT_S]


async def test_parallel_guesses_are_refused_before_hashing_and_others_log_in_meanwhile(
    servers: tuple[str, str],
) -> None:
    url_a, url_b = servers
    ann, bob = await account(url_a), await account(url_a)
    bob_alone = time.perf_counter()
    assert (await login(url_a, bob.email, PASSWORD, address())).status_code == 200
    bob_alone = time.perf_counter() - bob_alone

    # 24 guesses at once at one account, from many addresses and both processes.
    guesses = [login((url_a, url_b)[n % 2], ann.email, f"guess {n}", address()) for n in range(24)]
    started = time.perf_counter()
    *answers, bobs = await asyncio.gather(*guesses, login(url_b, bob.email, PASSWORD, address()))
    statuses = sorted(a.status_code for a in answers)
    # Only the account's allowance reached the password hasher; the rest were refused at once.
    assert statuses.count(401) == FREE_PER_ACCOUNT
    assert statuses.count(429) == 24 - FREE_PER_ACCOUNT
    assert bobs.status_code == 200
    # A loose bound (the machine is shared): before, bob waited behind all 24 hashes.
    assert time.perf_counter() - started < bob_alone * 10 + 2

    # Guesses at many accounts from one address: only the address's allowance is hashed.
    source = address()
    many = await asyncio.gather(
        *(login(url_a, f"{uuid.uuid4().hex[:8]}@example.com", "guess", source) for _ in range(24))
    )
    statuses = sorted(a.status_code for a in many)
    assert statuses.count(401) == FREE_PER_ADDRESS
    assert statuses.count(429) == 24 - FREE_PER_ADDRESS


async def test_a_successful_log_in_does_not_clear_its_address(servers: tuple[str, str]) -> None:
    """An attacker's own valid account must not wipe out their guesses at others."""
    url_a, _ = servers
    mallory = await account(url_a)
    source = address()
    for _ in range(FREE_PER_ADDRESS - 1):
        other = f"{uuid.uuid4().hex[:8]}@example.com"
        assert (await login(url_a, other, "guess", source)).status_code == 401
    assert (await login(url_a, mallory.email, PASSWORD, source)).status_code == 200
    assert (await login(url_a, "x" + mallory.email, "guess", source)).status_code == 401
    retry_after(await login(url_a, mallory.email, PASSWORD, source))


async def test_sign_ups_from_one_address_back_off(
    servers: tuple[str, str], clock: FakeClock
) -> None:
    url_a, url_b = servers
    source = address()

    def new_email() -> str:
        return f"{uuid.uuid4().hex[:12]}@example.com"

    for n in range(SIGNUPS_PER_ADDRESS):
        response = await signup((url_a, url_b)[n % 2], new_email(), source)
        assert response.status_code == 201, response.text
    wait = retry_after(await signup(url_b, new_email(), source))
    # Elsewhere, sign-up goes on.
    assert (await signup(url_a, new_email(), address())).status_code == 201
    clock.advance(wait)
    assert (await signup(url_a, new_email(), source)).status_code == 201
    retry_after(await signup(url_a, new_email(), source))


async def test_the_api_schema_names_the_refusals(servers: tuple[str, str]) -> None:
    async with httpx.AsyncClient(base_url=servers[0]) as http:
        paths = (await http.get("/openapi.json")).json()["paths"]
    login_statuses = paths["/api/v1/auth/login"]["post"]["responses"]
    signup_statuses = paths["/api/v1/auth/signup"]["post"]["responses"]
    assert {"401", "429"} <= set(login_statuses)
    assert {"403", "409", "429"} <= set(signup_statuses)
    assert "Retry-After" in login_statuses["429"]["description"]

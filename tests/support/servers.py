"""Run an ASGI app on a real loopback port in a background thread, for tests that need real HTTP and
WebSocket traffic (our app, and the local stand-ins for upstream APIs)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_in_thread(app: Any, *, port: int | None = None, **config: Any) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 until the block exits; yields the base URL (`http://127.0.0.1:PORT`)."""
    port = port or free_port()
    # Quiet unless a test asks for uvicorn's access log.
    config = {"log_level": "warning", **config}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    # A guard against a hang, not a timing check: the first app of a run loads torch and the
    # local models, which takes far longer on a busy 2-core machine than on a quiet one.
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"test server on port {port} did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve_ready(app: Any, **options: Any) -> Iterator[str]:
    """`serve_in_thread` for Allin's app: its URL once it is ready (`until_ready`)."""
    with serve_in_thread(app, **options) as url:
        until_ready(url)
        yield url


def until_ready(url: str) -> None:
    """Wait for `/readyz` on a started app: long-term memory loads in the background after
    start-up, and a test of anything else should not race it. A guard, not a timing check."""
    deadline = time.monotonic() + 120
    while httpx.get(f"{url}/readyz", timeout=10).status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} never became ready")
        time.sleep(0.05)

"""A loopback TCP proxy whose connections a test can cut, as a network that drops would.

Chromium's offline emulation does not close WebSockets that are already open, so a browser test
that must lose its connection mid-answer talks to the app through this proxy instead.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_CHUNK = 65536


class CuttableProxy:
    def __init__(self, upstream_port: int) -> None:
        self._upstream_port = upstream_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._down = False
        self._muted = False
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut(self) -> None:
        """Reset every open connection and refuse new ones until `restore`."""
        with self._lock:
            self._down = True
            doomed, self._open = self._open, set()
        for sock in doomed:
            _reset(sock)

    def restore(self) -> None:
        with self._lock:
            self._down = False
            self._muted = False

    def mute(self) -> None:
        """Keep carrying what clients send, but drop what the server sends them (until `restore`):
        the server gets a message whose acknowledgement never arrives."""
        with self._lock:
            self._muted = True

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                down = self._down
            if down:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self._upstream_port))
            except OSError:
                _reset(client)
                continue
            with self._lock:
                self._open.update((client, upstream))
            for source, target, replies in ((client, upstream, False), (upstream, client, True)):
                threading.Thread(
                    target=self._pump, args=(source, target, replies), daemon=True
                ).start()

    def _pump(self, source: socket.socket, target: socket.socket, replies: bool) -> None:
        try:
            while data := source.recv(_CHUNK):
                if not (replies and self._muted):
                    target.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                target.shutdown(socket.SHUT_WR)


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset, not a polite FIN: the peer sees the connection fail."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)  # wakes the thread reading it
    sock.close()


@contextmanager
def cuttable_proxy(base_url: str) -> Iterator[CuttableProxy]:
    """A proxy in front of the app at `base_url` (`http://127.0.0.1:PORT`)."""
    proxy = CuttableProxy(int(base_url.rsplit(":", 1)[1]))
    try:
        yield proxy
    finally:
        proxy.close()

"""The embedded Postgres 16 + pgvector used when no `DATABASE_URL` is set.

`pgserver` runs a real server from its wheel under our data dir. Postgres refuses to run as root, so
when we are root pgserver creates a `pgserver` system user, runs the server as that user and opens
read/execute on the data dir's parents; we keep the data dir inside the project for that reason.
The server listens on a Unix socket only, and stops when the last process using it exits.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

from allin.storage.folders import private_dir

logger = logging.getLogger(__name__)

_TRAVERSE_ONLY = 0o711


def start_embedded_postgres(pgdata: Path) -> Any:
    """Start (or attach to) the embedded server in `pgdata`; returns pgserver's handle, whose
    `get_uri()` is the connection URL. Keep the handle alive as long as the server is needed."""
    from platformdirs import RuntimeDirWarning

    with warnings.catch_warnings():
        # pgserver looks up a runtime dir as it is imported, only to hold a lock file; without
        # XDG_RUNTIME_DIR (root in a container, CI) /tmp/runtime-<uid> serves as well, so the
        # warning on every start is noise.
        warnings.simplefilter("ignore", RuntimeDirWarning)
        import pgserver

    private_dir(pgdata)
    _forget_dead_users(pgdata)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    if os.geteuid() == 0:
        # pgserver opened every parent of `pgdata` to everyone (read and traverse) so that its
        # `pgserver` user reaches it; the data dir needs only traversal: nobody else lists it.
        pgdata.parent.chmod(_TRAVERSE_ONLY)
    logger.info("embedded postgres ready at %s", pgdata)
    return server


def _forget_dead_users(pgdata: Path) -> None:
    """pgserver stops the server when the last process using it exits, keeping those processes in
    a file; one killed outright never takes itself off it, and from then on no exit is the last
    and the server outlives every app. Processes no longer alive are taken off first (under
    pgserver's own lock, as it changes that file under it too)."""
    import psutil
    from pgserver.postgres_server import PostgresServer
    from pgserver.utils import DiskList

    users = DiskList(pgdata / ".handle_pids.json")
    if not users.path.exists():
        return
    with PostgresServer._lock:
        alive = [pid for pid in users.get() if psutil.pid_exists(pid)]
        users.put(alive)

"""The process environment mem0 reads once, at import.

mem0 decides at import time whether to send telemetry (a background thread posting to an analytics
host, and exit delayed by seconds when offline) and where its directory is (`~/.mem0` by default,
where it writes a config file at import). Both must be settled before the first `import mem0`, so
every module that imports mem0 is itself imported only after `prepare()`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from allin.config import ConfigError
from allin.storage.folders import private_dir


def prepare(data_dir: Path) -> Path:
    """Turn telemetry off and keep mem0's files under the data dir; returns that directory."""
    mem0_dir = data_dir.resolve() / "mem0"
    private_dir(mem0_dir)
    os.environ["MEM0_TELEMETRY"] = "False"
    # The first app started in a process fixes mem0's directory; later ones (tests) keep it.
    os.environ.setdefault("MEM0_DIR", str(mem0_dir))
    from mem0.memory import telemetry

    if telemetry.MEM0_TELEMETRY:
        raise ConfigError("mem0 was imported before its telemetry was turned off")
    # Without spaCy (not installed: its model downloads at run time) mem0 matches keywords on the
    # plain text instead of lemmas, and says so at every start.
    logging.getLogger("mem0.utils.spacy_models").setLevel(logging.ERROR)
    return mem0_dir

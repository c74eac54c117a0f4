"""The process environment mem0 reads once, at import.

mem0 decides at import time whether to send telemetry and where its directory is; `allin/__init__`
settles both before any module of ours can import it (see there). `prepare()` only moves the
directory to the configured data dir when mem0 has not been imported yet, and checks that
telemetry is off.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import allin
from allin.config import ConfigError
from allin.storage.folders import private_dir


def prepare(data_dir: Path) -> Path:
    """Keep mem0's files under the data dir (if still possible) and check telemetry is off;
    returns the data dir's mem0 directory."""
    mem0_dir = data_dir.resolve() / "mem0"
    private_dir(mem0_dir)
    # The first app started in a process fixes mem0's directory; later ones (tests) keep it.
    if "mem0" not in sys.modules and not allin.MEM0_DIR_CHOSEN_OUTSIDE:
        os.environ["MEM0_DIR"] = str(mem0_dir)
    from mem0.memory import telemetry

    if telemetry.MEM0_TELEMETRY:
        raise ConfigError("mem0 was imported before its telemetry was turned off")
    # Without spaCy (not installed: its model downloads at run time) mem0 matches keywords on the
    # plain text instead of lemmas, and says so at every start.
    logging.getLogger("mem0.utils.spacy_models").setLevel(logging.ERROR)
    return mem0_dir

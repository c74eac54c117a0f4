"""Allin, by Team 8: an assistant that helps new software engineers get productive.

mem0 reads its environment once, when it is first imported, and acts on it at once: unless
`MEM0_TELEMETRY` is off it starts posting to an analytics host (and delays exit by seconds when
offline), and it writes a config file into `MEM0_DIR` (`~/.mem0` by default). Every module of
ours is imported through this package, so settling both here, before anything else, means no
import of mem0 anywhere in Allin can come too early. The directory is the data dir's `mem0/`
(`ALLIN_DATA_DIR` from the environment; a data dir set only in `.env` is read later, so
`memory.env.prepare` moves it there if mem0 has not been imported yet).
"""

import os as _os
from pathlib import Path as _Path

__version__ = "0.1.0"

_os.environ["MEM0_TELEMETRY"] = "False"
# A directory given by whoever started the process is theirs to choose.
MEM0_DIR_CHOSEN_OUTSIDE = "MEM0_DIR" in _os.environ
_os.environ.setdefault(
    "MEM0_DIR", str(_Path(_os.environ.get("ALLIN_DATA_DIR", ".allin")).resolve() / "mem0")
)

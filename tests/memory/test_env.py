"""mem0 acts on its environment when first imported; Allin settles it before any import of ours."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# What a module of ours that imported mem0 at its top would do: the package comes first.
SCRIPT = """
import json, threading
import allin.errors
from mem0 import AsyncMemory
from mem0.memory import setup, telemetry

print(json.dumps({
    "telemetry": telemetry.MEM0_TELEMETRY,
    "dir": setup.mem0_dir,
    "threads": [thread.name for thread in threading.enumerate()],
}))
"""


def _fresh_interpreter(tmp_path: Path, **env: str) -> dict[str, object]:
    home = tmp_path / "home"
    home.mkdir()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MEM0_", "ALLIN_"))}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env={**clean, "HOME": str(home), **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def test_mem0_imported_first_still_stays_local(tmp_path: Path) -> None:
    data = tmp_path / "data"
    found = _fresh_interpreter(tmp_path, ALLIN_DATA_DIR=str(data))
    assert found["telemetry"] is False
    assert found["threads"] == ["MainThread"]
    assert found["dir"] == str(data.resolve() / "mem0")
    assert (data / "mem0").is_dir()
    assert not (tmp_path / "home" / ".mem0").exists()


def test_with_no_data_dir_set_mem0_uses_the_default_one(tmp_path: Path) -> None:
    found = _fresh_interpreter(tmp_path)
    assert found["dir"] == str(tmp_path.resolve() / ".allin" / "mem0")
    assert not (tmp_path / "home" / ".mem0").exists()


def test_a_directory_chosen_outside_is_kept(tmp_path: Path) -> None:
    chosen = tmp_path / "chosen"
    found = _fresh_interpreter(tmp_path, MEM0_DIR=str(chosen), MEM0_TELEMETRY="True")
    assert found["dir"] == str(chosen)
    assert found["telemetry"] is False

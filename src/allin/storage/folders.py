"""The folders the app creates under its data dir are private to the user running it: they hold
the signing secrets, uploaded documents, recordings and mem0's files."""

from __future__ import annotations

from pathlib import Path

PRIVATE = 0o700


def private_dir(path: Path) -> Path:
    """`path`, created (with any missing parents) readable by its owner only. A folder that
    already exists keeps its mode: its owner chose it."""
    for folder in [*reversed(path.parents), path]:
        if not folder.exists():
            folder.mkdir(mode=PRIVATE, exist_ok=True)
    return path

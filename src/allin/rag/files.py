"""Which files a CLI path names: files, folders (walked) and globs, each with the document name
it is stored under (its path relative to the folder or glob root it was found from)."""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

from allin.rag.formats import SUPPORTED_SUFFIXES

_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class FoundFile:
    path: Path
    name: str


@dataclass(frozen=True, slots=True)
class Discovery:
    files: list[FoundFile]
    skipped: list[Path]  # found while walking a folder, but of a type we do not read
    missing: list[str]  # arguments that named nothing


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _walk(root: Path) -> tuple[list[FoundFile], list[Path]]:
    files, skipped = [], []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or _is_hidden(path, root):
            continue
        if path.suffix.lower() in SUPPORTED_SUFFIXES:
            files.append(FoundFile(path, path.relative_to(root).as_posix()))
        else:
            skipped.append(path)
    return files, skipped


def _glob_root(pattern: str) -> Path:
    parts = Path(pattern).parts
    fixed = [
        part
        for part in parts[
            : next((i for i, part in enumerate(parts) if _GLOB_CHARS & set(part)), len(parts))
        ]
    ]
    return Path(*fixed) if fixed else Path(".")


def discover(arguments: list[str]) -> Discovery:
    files: list[FoundFile] = []
    skipped: list[Path] = []
    missing: list[str] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            found, ignored = _walk(path)
            files += found
            skipped += ignored
        elif path.is_file():
            files.append(FoundFile(path, path.name))
        elif _GLOB_CHARS & set(argument):
            root = _glob_root(argument)
            matches = [Path(m) for m in sorted(glob.glob(argument, recursive=True))]
            matched = [m for m in matches if m.is_file()]
            if not matched:
                missing.append(argument)
            files += [FoundFile(m, m.relative_to(root).as_posix()) for m in matched]
        else:
            missing.append(argument)
    unique = list({found.path.resolve(): found for found in files}.values())
    return Discovery(unique, skipped, missing)

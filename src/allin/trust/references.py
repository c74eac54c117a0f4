"""Which code a documentation page names: paths, modules, classes, functions and config keys that
the same repository's index defines, each mapped to the files that define it.

Only names distinctive enough to mean one place are kept: a name defined in many files, a short
one or an everyday word would flag every page. Matching is by whole tokens of the page (a dotted
or slashed name is one token), never by substring.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

# A name that is defined in more files than this says nothing about which file a page is about.
MAX_DEFINING_FILES = 3
_MIN_NAME = 6
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:[./][A-Za-z_][A-Za-z0-9_]*)*")
_CONFIG_KEY = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+){1,}\b")
_CLASS_NAME = re.compile(r"^_?[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+$")
_FUNCTION_NAME = re.compile(r"^_?[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")
_SOURCE_ROOTS = ("src/", "lib/")


@dataclass
class CodeIndex:
    """Name → the code files defining it, for one repository."""

    names: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add_file(self, path: str, symbols: Iterable[str], content: str) -> None:
        for name in _path_names(path):
            self.names[name].add(path)
        for symbol in symbols:
            for part in symbol.split("."):
                distinctive = len(part) >= _MIN_NAME and not part.startswith("__")
                if distinctive and (_CLASS_NAME.match(part) or _FUNCTION_NAME.match(part)):
                    self.names[part].add(path)
        for key in set(_CONFIG_KEY.findall(content)):
            if len(key) >= _MIN_NAME + 2:
                self.names[key].add(path)

    def files_named_by(self, text: str) -> dict[str, set[str]]:
        """Code file → the names in `text` that point at it."""
        found: dict[str, set[str]] = defaultdict(set)
        for token in set(_TOKEN.findall(text)):
            for name in _candidates(token):
                files = self.names.get(name)
                if files and len(files) <= MAX_DEFINING_FILES:
                    for path in files:
                        found[path].add(name)
        return found


def _path_names(path: str) -> set[str]:
    """How a page may name a file: its path, its path under the source root, and its dotted
    module (only with a package: a bare `app` or `views` means nothing on its own)."""
    names = {path}
    relative = path
    for root in _SOURCE_ROOTS:
        if path.startswith(root):
            relative = path[len(root) :]
            names.add(relative)
    pure = PurePosixPath(relative)
    if pure.suffix in (".py", ".pyi"):
        parts = list(pure.with_suffix("").parts)
        if parts and parts[-1] == "__init__":
            parts.pop()
        if len(parts) >= 2:
            names.add(".".join(parts))
    return names


def _candidates(token: str) -> Iterable[str]:
    """The token, and for a dotted one (`flask.sessions.SessionInterface.open_session`) each
    leading module prefix and each part: a page names a module and its members in one go."""
    yield token.rstrip(".")
    if "." in token and "/" not in token:
        parts = token.split(".")
        for end in range(2, len(parts)):
            yield ".".join(parts[:end])
        yield from parts

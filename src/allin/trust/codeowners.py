"""A repository's CODEOWNERS file: which people or teams own which paths.

GitHub and GitLab read the patterns with gitignore's rules and let the last matching line win;
`pathspec` implements those rules, so no pattern syntax is parsed here by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

# Where GitHub (then GitLab) looks for the file, in its order of precedence.
LOCATIONS = ("CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")
_MAX_RULES = 2000


@dataclass(frozen=True, slots=True)
class OwnerRule:
    pattern: str
    owners: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {"pattern": self.pattern, "owners": list(self.owners)}


def parse_codeowners(text: str) -> list[OwnerRule]:
    """The rules of a CODEOWNERS file in file order; comments, GitLab `[Section]` headers and
    lines with a pattern git cannot read are left out."""
    rules: list[OwnerRule] = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#") or line.startswith("["):
            continue
        pattern, *owners = line.split()
        if not owners or _compiled(pattern) is None:
            continue
        rules.append(OwnerRule(pattern, tuple(owners)))
        if len(rules) >= _MAX_RULES:
            break
    return rules


def owners_of(rules: Sequence[OwnerRule], path: str) -> OwnerRule | None:
    """The rule that decides `path`'s owners: the last one matching it."""
    for rule in reversed(rules):
        compiled = _compiled(rule.pattern)
        if compiled is not None and compiled.match_file(path) is not None:
            return rule
    return None


def rules_from_json(values: Sequence[dict[str, object]]) -> list[OwnerRule]:
    rules = []
    for value in values:
        owners = value.get("owners")
        if isinstance(value.get("pattern"), str) and isinstance(owners, list):
            rules.append(OwnerRule(str(value["pattern"]), tuple(str(o) for o in owners)))
    return rules


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> GitIgnoreSpecPattern | None:
    try:
        compiled = GitIgnoreSpecPattern(pattern)
    except ValueError:  # pathspec's pattern errors are ValueErrors
        return None
    return compiled if compiled.include else None

"""Abbreviations a corpus defines, and a question's words expanded with them.

A handbook writes "Flexible Spending Account (FSA)" once and "FSA" after; a newcomer asks either
way. When a document is stored, every "Long Form (LF)" it contains whose words' initials spell
the letters is kept (`document_abbreviations`); a question using the short form then also
searches for the long one, and the other way round (`DocumentStore.expansions`). Only what the
team's own documents define counts: no hand-written list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Up to eight words, then the abbreviation in parentheses ("… Spending Account (FSA)", "(PRs)").
_DEFINED = re.compile(r"((?:[A-Za-z][\w'’]*[ \t-]+){1,8})\(([A-Z]{2,6})s?\)")
_SHORT = re.compile(r"\b([A-Z]{2,6})s?\b")
_WORD = re.compile(r"[a-z0-9]+")


def defined_abbreviations(texts: Iterable[str]) -> set[tuple[str, str]]:
    """(short, long) for each abbreviation defined in `texts`, the long form in lower case: its
    last words, one per letter, are those whose initials spell it (hyphens split words:
    "Cross-Site Request Forgery (CSRF)")."""
    found: set[tuple[str, str]] = set()
    for text in texts:
        for match in _DEFINED.finditer(text):
            short = match.group(2)
            words = re.split(r"[\s-]+", match.group(1).strip())[-len(short) :]
            if len(words) == len(short) and "".join(w[0] for w in words).upper() == short:
                found.add((short, " ".join(words).lower()))
    return found


def short_forms(question: str) -> list[str]:
    """The words of `question` that may be abbreviations (FSA, PRs), without a plural s."""
    return list(dict.fromkeys(_SHORT.findall(question)))


def plain_words(question: str) -> str:
    """`question` as lower-case words between spaces, to look for a long form in it."""
    return " " + " ".join(_WORD.findall(question.lower())) + " "


def expanded(question: str, expansions: list[str]) -> str:
    """The question with what its abbreviations stand for (or the abbreviations of its long
    forms) after it, for the full-text query."""
    return f"{question} ({'; '.join(expansions)})" if expansions else question

"""The part a repository file plays, from its path: its tests, as opposed to the code they test."""

from __future__ import annotations

import re

# Test folders (`tests/`, `test/`, `__tests__/`, `spec/`) and the test file names of the common
# runners: pytest's `test_x.py` and `x_test.py`, Go's `x_test.go`, Jest's `x.test.ts` / `x.spec.js`.
_TEST_PATH = re.compile(
    r"(?:^|/)(?:tests?|__tests__|spec)/"
    r"|(?:^|/)test_[^/]+$"
    r"|_test\.[^/.]+$"
    r"|\.(?:test|spec)\.[^/.]+$",
    re.IGNORECASE,
)
# A question that is itself about tests ("how is the session tested?", "which pytest fixture…").
_ABOUT_TESTS = re.compile(r"\b(?:test(?:s|ed|ing)?|pytest|unittest|fixtures?)\b", re.IGNORECASE)


def is_test_path(path: str) -> bool:
    return bool(_TEST_PATH.search(path.replace("\\", "/")))


def asks_about_tests(question: str) -> bool:
    return bool(_ABOUT_TESTS.search(question))

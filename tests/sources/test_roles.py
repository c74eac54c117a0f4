"""Which repository files are tests, and which questions are about tests."""

from __future__ import annotations

import pytest

from allin.sources.roles import asks_about_tests, is_test_path


@pytest.mark.parametrize(
    "path",
    [
        "tests/test_basic.py",
        "tests/test_apps/helloworld/hello.py",
        "pkg/test/Util.java",
        "web/__tests__/app.js",
        "spec/models/user_spec.rb",
        "src/conftest/test_x.py",
        "server/handler_test.go",
        "ui/button.test.tsx",
        "ui/button.spec.js",
    ],
)
def test_test_files(path: str) -> None:
    assert is_test_path(path)


@pytest.mark.parametrize(
    "path",
    [
        "src/flask/sessions.py",
        "src/flask/testing.py",
        "src/contest/rules.py",
        "docs/testing.rst",
        "src/latest/x.py",
        "attestation.go",
    ],
)
def test_code_that_is_not_a_test(path: str) -> None:
    assert not is_test_path(path)


def test_questions_about_tests() -> None:
    assert asks_about_tests("How is the session cookie tested?")
    assert asks_about_tests("Which pytest fixture gives me a client?")
    assert not asks_about_tests("Where does Flask get the session cookie's name?")
    assert not asks_about_tests("What's the latest Python it supports?")

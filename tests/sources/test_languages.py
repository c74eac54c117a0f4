"""Languages come from file names: grammar names for code, prose kinds for docs, None otherwise."""

from __future__ import annotations

import pytest

from allin.sources.languages import language_for
from allin.sources.syntax import parser_for


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("src/flask/sessions.py", "python"),
        ("web/app.JS", "javascript"),
        ("web/types.ts", "typescript"),
        ("web/View.tsx", "tsx"),
        ("cmd/main.go", "go"),
        ("src/lib.rs", "rust"),
        ("src/Main.java", "java"),
        ("lib/io.c", "c"),
        ("lib/io.hpp", "cpp"),
        ("lib/tasks.rb", "ruby"),
        ("scripts/setup.sh", "bash"),
        ("README.md", "markdown"),
        ("docs/index.rst", "rst"),
        ("LICENSE.txt", "text"),
        ("README", "text"),
        ("pyproject.toml", "toml"),
        ("setup.cfg", "ini"),
        (".github/workflows/tests.yml", "yaml"),
        ("Makefile", None),
        ("windows\\path\\x.py", "python"),
    ],
)
def test_language_by_suffix_or_name(path: str, language: str | None) -> None:
    assert language_for(path) == language


@pytest.mark.parametrize(
    "path",
    [f"a.{suffix}" for suffix in ("py", "js", "ts", "tsx", "go", "rs", "java", "kt", "scala", "cs")]
    + [f"a.{suffix}" for suffix in ("c", "cpp", "rb", "php", "swift", "lua", "sh")],
)
def test_every_code_language_has_a_grammar_without_network(path: str) -> None:
    language = language_for(path)
    assert language is not None
    parser = parser_for(language)
    assert parser is not None
    assert parser.parse(b"x\n").root_node is not None

"""Configuration files cut at their sections, each chunk the file's own lines and named by them."""

from __future__ import annotations

from allin.sources.code_chunks import SourceChunk, chunk_source_file
from allin.sources.languages import language_for

PYPROJECT = """[project]
name = "shop"
requires-python = ">=3.10"
dependencies = [
    "flask>=3.0",
]

[project.optional-dependencies]
dotenv = ["python-dotenv"]

[project.scripts]
shop = "shop.cli:main"  # the terminal command

[[tool.mypy.overrides]]
module = ["tests.*"]
"""

WORKFLOW = """name: Tests
on:
  push:
    branches: [main]
jobs:
  tests:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pytest
"""

SETUP_CFG = """# Tools that do not read pyproject.toml.
[flake8]
max-line-length = 100

[coverage:run]
branch = true
"""


def chunks(path: str, text: str, max_tokens: int = 512) -> list[SourceChunk]:
    return chunk_source_file(path, text, max_tokens=max_tokens, overlap_tokens=0)


def assert_verbatim(found: list[SourceChunk], text: str) -> None:
    rows = text.splitlines()
    for chunk in found:
        assert chunk.content == "\n".join(rows[chunk.start_line - 1 : chunk.end_line])


def test_a_toml_file_is_cut_at_its_tables_and_tiny_neighbours_share_a_chunk() -> None:
    assert language_for("pyproject.toml") == "toml"
    found = chunks("pyproject.toml", PYPROJECT, max_tokens=256)
    assert [(c.heading, c.start_line, c.end_line) for c in found] == [
        ("pyproject.toml › project", 1, 6),
        ("pyproject.toml › project.optional-dependencies", 8, 9),
        ("pyproject.toml › project.scripts", 11, 12),
        ("pyproject.toml › tool.mypy.overrides", 14, 15),
    ]
    assert all(c.kind == "section" for c in found)
    assert_verbatim(found, PYPROJECT)
    # Under a larger budget the same tables are small enough to share one chunk.
    (together,) = chunks("pyproject.toml", PYPROJECT, max_tokens=1024)
    assert together.heading == (
        "pyproject.toml › project, project.optional-dependencies, project.scripts, "
        "tool.mypy.overrides"
    )
    assert (together.start_line, together.end_line) == (1, 15)


def test_yaml_keys_and_ini_sections_name_their_chunks() -> None:
    assert language_for("tests.yml") == language_for("tests.yaml") == "yaml"
    workflow = chunks(".github/workflows/tests.yml", WORKFLOW, max_tokens=64)
    assert [c.heading.split(" › ")[1] for c in workflow] == ["name", "on", "jobs"]
    assert_verbatim(workflow, WORKFLOW)
    wider = chunks(".github/workflows/tests.yml", WORKFLOW, max_tokens=128)
    assert [c.heading.split(" › ")[1] for c in wider] == ["name, on", "jobs"]
    setup = chunks("setup.cfg", SETUP_CFG, max_tokens=64)
    # The comment before the first section joins it rather than standing alone.
    assert [(c.heading, c.start_line) for c in setup] == [
        ("setup.cfg › flake8", 1),
        ("setup.cfg › coverage:run", 5),
    ]
    assert_verbatim(setup, SETUP_CFG)


def test_a_long_section_is_cut_into_numbered_parts_and_a_file_without_sections_into_windows() -> (
    None
):
    long_table = "[tool.tox.env]\n" + "".join(f'key{n} = "value number {n}"\n' for n in range(60))
    found = chunks("tox.toml", long_table, max_tokens=128)
    assert len(found) > 2
    assert [c.heading for c in found] == [
        f"tox.toml › tool.tox.env (part {n})" for n in range(1, len(found) + 1)
    ]
    assert_verbatim(found, long_table)
    plain = chunks("settings.toml", 'debug = true\nname = "shop"\n')
    assert [(c.heading, c.kind) for c in plain] == [("settings.toml", "text")]

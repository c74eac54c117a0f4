"""Onboarding paths from Markdown: stages, steps, links, owners, prompts and stable slugs; a file
that cannot be trusted is refused with every problem said."""

from __future__ import annotations

from allin.onboarding.parse import MAX_STEPS, parse_path

FILES = {"README.md", "docs/testing.rst", "src/app/cli.py", "docs/onboarding/extra.md"}

TESTS_STEP = (
    "- [ ] Run the test suite: see [testing](/docs/testing.rst#L10-L40)"
    " and [the CLI](/src/app/cli.py#L5) owner: @grace"
)
PATH = f"""# Backend onboarding

Some words about the path, and a list that is not a step:

- not a step

## Setup
- [ ] Install the project — follow the [README](../../README.md) (owner: Ada Lovelace)
  - Ask: What do I need installed first?
  - Ask: Which Python version do we use?
- [x] Get repository access {{#access}}

## Running the tests
{TESTS_STEP}
- [ ] Read the [contribution guide](https://example.com/contributing)

```markdown
- [ ] A step in a code block is an example, not a step
```
"""


def test_headings_are_stages_and_checklist_items_are_steps() -> None:
    definition, problems = parse_path(PATH, "docs/onboarding/backend.md", FILES)
    assert problems == []
    assert definition is not None
    assert definition.title == "Backend onboarding"
    assert [(s.slug, s.title) for s in definition.stages] == [
        ("setup", "Setup"),
        ("running-the-tests", "Running the tests"),
    ]
    install, access = definition.stages[0].steps
    assert (install.slug, install.title, install.owner) == (
        "install-the-project",
        "Install the project",
        "Ada Lovelace",
    )
    assert install.detail == "follow the README"
    assert [(link.kind, link.target) for link in install.links] == [("file", "README.md")]
    assert install.prompts == ["What do I need installed first?", "Which Python version do we use?"]
    assert access.slug == "access" and access.prompts == ["How do I get repository access?"]

    tests, guide = definition.stages[1].steps
    assert tests.slug == "run-the-test-suite" and tests.owner == "@grace"
    assert [(link.target, link.start_line, link.end_line) for link in tests.links] == [
        ("docs/testing.rst", 10, 40),
        ("src/app/cli.py", 5, 5),
    ]
    assert guide.links[0].kind == "url"
    assert len(definition.steps()) == 4


def test_a_reworded_step_keeps_its_slug_with_an_explicit_one() -> None:
    first, _ = parse_path("# A\n- [ ] Run the tests {#tests}\n", "ONBOARDING.md")
    second, _ = parse_path("# B\n- [ ] Run every test, twice {#tests}\n", "ONBOARDING.md")
    assert first is not None and second is not None
    assert first.steps()[0].slug == second.steps()[0].slug == "tests"


def test_malformed_files_are_refused_with_every_problem() -> None:
    none, problems = parse_path("just text\n- [ ] a step\n", "ONBOARDING.md")
    assert none is None
    assert problems[0].startswith("no headings")
    assert "line 2: a step before any heading" in problems[1]

    _, problems = parse_path("# Only words\n\nNothing to do.\n", "ONBOARDING.md")
    assert problems == ["no steps: a step is a checklist item, '- [ ] Do this'"]

    _, problems = parse_path("# A\n- [ ] Run tests\n## B\n- [ ] Run tests\n", "ONBOARDING.md")
    assert problems == [
        "line 4: duplicate step 'run-tests' (first on line 2); give one of them its own {#slug}"
    ]

    _, problems = parse_path(
        "# A\n- [ ] Read [this](docs/gone.md) and [that](../../etc/passwd)\n",
        "ONBOARDING.md",
        FILES,
    )
    assert problems == [
        "line 2: 'docs/gone.md' links to docs/gone.md, which does not exist",
        "line 2: '../../etc/passwd' points outside the repository",
    ]

    many = "# A\n" + "".join(f"- [ ] Step {n}\n" for n in range(10_000))
    _, problems = parse_path(many, "ONBOARDING.md")
    assert problems == [f"10000 steps; a path has at most {MAX_STEPS}"]

    _, problems = parse_path("# A\n" + "x" * 300_000, "ONBOARDING.md")
    assert problems == ["the file is larger than 256 KB"]
